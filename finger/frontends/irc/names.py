"""IRC names: which nicknames and channels are valid, and who is addressed."""

from __future__ import annotations

import re

from twisted.words.protocols import irc

_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")
_RFC1459_LOWER = str.maketrans("[]\\~", "{}|^")


def nickProblem(nick: str) -> str | None:
    """Why C{nick} is not a valid IRC nickname (RFC 2812), or C{None}."""
    if not _NICK.match(nick):
        return (
            "a nickname starts with a letter or one of []\\`_^{|} and "
            "continues with letters, digits, those or '-'"
        )
    return None


def channelProblem(channel: str) -> str | None:
    """Why C{channel} cannot be joined as given, or C{None}."""
    if not channel or channel[0] not in irc.CHANNEL_PREFIXES:
        return f"a channel name starts with one of {irc.CHANNEL_PREFIXES}"
    if re.search(r"[\s,\x00-\x1f]", channel) or len(channel) > 50:
        return "a channel name has no spaces, commas or control characters (up to 50)"
    return None


def isChannel(target: str) -> bool:
    """True if C{target} names a channel rather than a nickname."""
    return target[:1] in irc.CHANNEL_PREFIXES


def ircLower(text: str) -> str:
    """Fold case the way IRC servers compare nicknames (RFC 1459)."""
    return text.lower().translate(_RFC1459_LOWER)


def addressedQuery(message: str, nickname: str) -> str | None:
    """
    The query in a channel message addressed to C{nickname}, as
    C{nickname: query} or C{nickname, query} (any case); C{None} otherwise.
    """
    size = len(nickname)
    if len(message) <= size or message[size] not in ":,":
        return None
    if ircLower(message[:size]) == ircLower(nickname):
        return message[size + 1 :].strip()
    return None
