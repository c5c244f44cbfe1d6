"""
The only place where finger uses Twisted's private APIs.

Each use below exists because Twisted offers no public way to do the same
thing; each names the Twisted versions it was checked on, and has a test in
C{tests/unit/test_compat.py} that fails if Twisted changes it.
"""

from __future__ import annotations

from typing import Any

from twisted.spread.banana import Banana
from twisted.web import http

# --- Web frontend (finger.frontends.web.site) -----------------------------
#
# HTTP/2 (twisted.web._http2, present when the h2 and priority packages are).
# Twisted offers it only through Site's default channel, which switches to
# it when TLS negotiated h2; finger's own channel (web/site.py) does the same
# switch, so it needs the class.  Checked: Twisted 22.4, 26.10 (h2 4.1, 4.4).
H2_ENABLED: bool = bool(getattr(http, "H2_ENABLED", False))
H2Connection: Any = None
if H2_ENABLED:
    from twisted.web._http2 import H2Connection  # noqa: F401, F811 (finger.frontends.web.site)


def requestLine(channel: http.HTTPChannel) -> tuple[bytes | None, bytes | None, bytes | None]:
    """
    The method, path and version of the request line an L{http.HTTPChannel}
    is reading the headers of (C{None} where it has none yet).

    HTTPChannel keeps them in C{_command}, C{_path} and C{_version} from the
    request line until the request is complete, and has no public way to
    them before the body arrives.  Checked: Twisted 22.4, 26.10.
    """
    return (
        getattr(channel, "_command", None),
        getattr(channel, "_path", None),
        getattr(channel, "_version", None),
    )

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

# --- Inherited UNIX sockets (finger.inherited) ------------------------------
#
# reactor.adoptStreamPort(fd, AF_UNIX, factory) makes a twisted.internet.unix.Port
# named by the socket's path, and that Port chmods the path when it starts
# and unlinks it when it stops: right for a socket it bound, wrong for one
# that systemd made and keeps (systemd.socket(5): a service "must not unlink
# the socket from a file system"; as an unprivileged service user the chmod
# and the unlink even fail, so the port cannot start or stop cleanly).
# unix.Port does neither for a name in the abstract namespace (a leading
# NUL), and takes a pre-existing socket in ``_preexistingSocket``, which
# ``_fromListeningDescriptor`` sets and ``startListening`` uses instead of
# binding.  Checked: Twisted 22.4 (Debian) and 26.10 (PyPI).


def adoptUNIXPort(reactor: Any, fileno: int, factory: Any) -> Any:
    """
    Listen with C{factory} on the inherited listening UNIX socket C{fileno}
    (which stays open: the port uses a duplicate), leaving its file alone.
    Returns the started L{twisted.internet.unix.Port}.
    """
    import socket

    from twisted.internet import unix

    inherited = socket.fromfd(fileno, socket.AF_UNIX, socket.SOCK_STREAM)
    inherited.setblocking(False)
    port = unix.Port(b"\0", factory, reactor=reactor)
    port._preexistingSocket = inherited
    port.startListening()
    return port
