"""
The only place where finger uses Twisted's private APIs.

Each use below exists because Twisted offers no public way to do the same
thing; each names the Twisted versions it was checked on, and has a test in
C{tests/unit/test_compat.py} that fails if Twisted changes it.
"""


# --- PB frontend (finger.frontends.pb) -------------------------------------
#
# Banana (twisted.spread.banana.Banana) keeps the message being decoded in
# two attributes that its documentation does not describe: ``listStack``, a
# list of ``(length, items)`` pairs for the lists still open, outermost
# first, and ``buffer``, the bytes not decoded yet.  Twisted offers no public
# way to see a partly received message or to drop it: a refusal needs the
# request ID of the call that was too large (to answer it) and must not keep
# up to 640 KB of it while it drains.  Checked on Twisted 22.4 (Debian) and
# 26.10 (PyPI).

from twisted.spread.banana import Banana  # noqa: E402 (this block's own import)


def bananaPartialMessage(protocol: Banana) -> list[object]:
    """
    The items decoded so far of the outermost list C{protocol} is
    receiving; empty if none.
    """
    if not protocol.listStack:
        return []
    items: list[object] = protocol.listStack[0][1]
    return items


def bananaDiscardInput(protocol: Banana) -> None:
    """Forget the partly received message of C{protocol}."""
    protocol.listStack = []
    protocol.buffer = b""
