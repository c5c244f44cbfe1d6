"""
Replies as IRC lines: statuses split to fit 512-byte lines (RFC 2812),
cut only between characters, without control characters, and at most
L{MAX_REPLY_LINES} lines per answer.
"""

from __future__ import annotations

from finger.text import printableLines, stripControls

MAX_LINE_BYTES = 512  # RFC 2812: a message, CRLF included.
# Our prefix as the server relays it, assumed at its longest: a username of
# up to 10 characters (plus '~' without ident) and a 63-character host.
USER_ROOM = 11
HOST_ROOM = 63
MAX_REPLY_LINES = 6  # Lines of one answer; the rest is summarised.


def roomForText(nickname: str, command: str, target: str) -> int:
    """
    Bytes left for the text of C{command target :text} once the server has
    prefixed it with our C{:nick!user@host} and the line ends with CRLF.
    """
    framing = f":{nickname}!{'u' * USER_ROOM}@{'h' * HOST_ROOM} {command} {target} :\r\n"
    return MAX_LINE_BYTES - len(framing.encode("utf-8"))


def splitUTF8(text: str, limit: int) -> list[str]:
    """
    Split C{text} into pieces of at most C{limit} bytes of UTF-8, cutting
    only between characters.
    """
    if limit < 4:
        raise ValueError("a piece must have room for one character (4 bytes)")
    pieces = []
    encoded = text.encode("utf-8")
    while len(encoded) > limit:
        piece = encoded[:limit].decode("utf-8", "ignore")  # drops a cut character
        pieces.append(piece)
        encoded = encoded[len(piece.encode("utf-8")) :]
    pieces.append(encoded.decode("utf-8"))
    return pieces


def replyLines(nickname: str, target: str, name: str, status: str) -> list[str]:
    """
    C{name: <status>} lines that C{nickname} can send to C{target}, each
    fitting one IRC line, at most L{MAX_REPLY_LINES}.
    """
    label = f"{stripControls(name)}: "
    room = roomForText(nickname, "PRIVMSG", target) - len(label.encode("utf-8"))
    lines = [label + piece for line in printableLines(status) for piece in splitUTF8(line, room)]
    if len(lines) > MAX_REPLY_LINES:
        hidden = len(lines) - (MAX_REPLY_LINES - 1)
        lines = lines[: MAX_REPLY_LINES - 1] + [f"{label}[{hidden} more lines not shown]"]
    return lines
