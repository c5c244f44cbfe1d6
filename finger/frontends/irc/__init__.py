"""
The IRC frontend: a bot, adapted from L{IFingerService} to
L{IFingerIRCFactory}, that answers status queries.

A private message C{alice} is answered privately with C{alice: <status>}
(or C{alice: <reason>} when the status is kept elsewhere and could not be
had, L{LookupFailed});
in a channel the bot answers only when addressed (C{fingerbot: alice} or
C{fingerbot, alice}).  Flood safety: outgoing lines are paced on the bot's
clock and bounded (L{pacing}), each sender has a small request budget
(L{budget}: over it, one notice and then silence), NOTICEs are never
answered, CTCP queries are ignored, and anything that is not a user name
gets at most one hint as a NOTICE, so the bot cannot loop with another bot.

The modules: L{names} (nicknames, channels, addressing), L{text} (replies
split into IRC lines), L{budget}, L{pacing}, L{protocol} (the bot) and
L{service} (the factory, its L{IRCSettings}, and the reconnecting service).
"""

from finger.frontends.irc.budget import ALLOW, IGNORE, MAX_SENDERS, WARN, SenderBudget
from finger.frontends.irc.names import addressedQuery, channelProblem, ircLower, nickProblem
from finger.frontends.irc.pacing import MAX_QUEUED_LINES, LinePacer
from finger.frontends.irc.protocol import IDLE_TIMEOUT, RFC_NICKLEN, FingerBot
from finger.frontends.irc.service import (
    DEFAULT_NICK,
    DEFAULT_SETTINGS,
    FingerBotFactory,
    IFingerIRCFactory,
    IRCBotService,
    IRCEndpointError,
    IRCSettings,
    makeIRCService,
    retryPolicy,
)
from finger.frontends.irc.text import MAX_LINE_BYTES, MAX_REPLY_LINES, roomForText, splitUTF8

__all__ = [
    "ALLOW",
    "DEFAULT_NICK",
    "DEFAULT_SETTINGS",
    "FingerBot",
    "FingerBotFactory",
    "IDLE_TIMEOUT",
    "IFingerIRCFactory",
    "IGNORE",
    "IRCBotService",
    "IRCEndpointError",
    "IRCSettings",
    "LinePacer",
    "MAX_LINE_BYTES",
    "MAX_QUEUED_LINES",
    "MAX_REPLY_LINES",
    "MAX_SENDERS",
    "RFC_NICKLEN",
    "SenderBudget",
    "WARN",
    "addressedQuery",
    "channelProblem",
    "ircLower",
    "makeIRCService",
    "nickProblem",
    "retryPolicy",
    "roomForText",
    "splitUTF8",
]
