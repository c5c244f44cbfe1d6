"""Text hygiene shared by every frontend: what may reach a client's terminal."""

import re

# Every C0 control except TAB, DEL, and every C1 control (0x80-0x9f, which
# includes the 8-bit CSI that some terminals honour).
_CONTROLS = {c: None for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c != 0x09}


def stripControls(text: str) -> str:
    """Return C{text} without control characters (TAB is kept)."""
    return text.translate(_CONTROLS)


def printableLines(text: str) -> list[str]:
    """
    Split a (possibly multi-line) status into lines fit for a terminal:
    line ends of any style are honoured, other control characters dropped.
    """
    if text.isprintable():  # the common case: one clean line
        return [text]
    return [stripControls(line) for line in text.splitlines()] or [""]


_SURROGATE = re.compile("[\ud800-\udfff]")


def replaceSurrogates(text: str) -> str:
    """
    Return C{text} with lone surrogates (how Python carries undecodable
    bytes, e.g. from a non-UTF-8 command line) replaced by U+FFFD, so that
    it can be encoded as UTF-8.
    """
    return _SURROGATE.sub("\ufffd", text)
