"""
The bot: one IRC connection that answers status queries.

Pacing, the idle timeout and the heartbeat run on the factory's clock, and
the bot keeps its own state (the nick it asked for, whether it signed on),
so that it relies only on C{IRCClient}'s public methods and hooks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from twisted.words.protocols import irc

from finger.frontends.irc.announce import Announcer, announcementText
from finger.frontends.irc.budget import IGNORE, WARN
from finger.frontends.irc.names import addressedQuery, ircLower, isChannel
from finger.frontends.irc.pacing import LinePacer
from finger.frontends.irc.text import replyLines
from finger.frontends.lookup import lookupFailedMessage
from finger.interfaces import IFingerChangeFeed, ISubscription, LookupFailed, UserNotFound
from finger.text import stripControls
from finger.users import userNameProblem

if TYPE_CHECKING:
    from finger.frontends.irc.service import FingerBotFactory

RFC_NICKLEN = 9  # RFC 2812's nickname length; every server accepts it.
IDLE_TIMEOUT = 300.0  # Silence (the heartbeat PINGs every 120 s) before reconnecting.
HEARTBEAT_INTERVAL = 120.0  # Seconds between our PINGs to the server.


class FingerBot(irc.IRCClient, TimeoutMixin):
    """
    Answers status queries.

    A private message C{alice} is answered privately with C{alice: <status>};
    in a channel the bot answers only when addressed (C{fingerbot: alice}).
    Each sender has a small request budget (over it, one notice and then
    silence), NOTICEs are never answered, CTCP queries are ignored, anything
    that is not a user name gets at most one hint as a NOTICE, and outgoing
    lines are paced and bounded (L{LinePacer}).
    """

    log = Logger()
    factory: FingerBotFactory
    # Twisted declares realname "= None" and heartbeatInterval "= 120", which
    # mypy reads as their only types; IRCClient documents both uses.
    username = "finger"
    realname = "finger status bot"  # type: ignore[assignment]
    # IRCClient's own heartbeat and pacing are off: ours run on our clock.
    heartbeatInterval = None  # type: ignore[assignment]
    lineRate = None

    def __init__(self) -> None:
        self.nickCollisions = 0
        self.attemptedNick = ""
        self.signedOnYet = False
        self.ended = False
        self.pacer: LinePacer | None = None
        self.heartbeat: task.LoopingCall | None = None
        self.announcer: Announcer | None = None
        self.changes: ISubscription | None = None

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule on the factory's clock (L{TimeoutMixin}'s hook)."""
        return self.factory.clock.callLater(period, func)

    # Connection and registration

    def connectionMade(self) -> None:
        settings = self.factory.settings
        self.nickname = settings.nickname
        self.password = settings.password  # type: ignore[assignment]  # Twisted: "= None"
        self.pacer = LinePacer(self.sendNow, settings.lineRate, self.factory.clock)
        self.setTimeout(IDLE_TIMEOUT)
        super().connectionMade()

    def sendLine(self, line: str) -> None:
        """Send C{line} at the bot's pace (see L{LinePacer})."""
        assert self.pacer is not None
        self.pacer.put(line)

    def sendNow(self, line: str) -> None:
        """Send C{line} at once (IRCClient's pacing is off)."""
        irc.IRCClient.sendLine(self, line)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        super().dataReceived(data)

    def lineReceived(self, line: bytes | str) -> None:
        # Twisted decodes strictly and would drop the connection on one
        # non-UTF-8 line (legacy clients still send Latin-1).
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        super().lineReceived(line)

    def timeoutConnection(self) -> None:
        self.log.warn(
            "irc bot: no word from the server in {seconds} s; reconnecting", seconds=IDLE_TIMEOUT
        )
        assert self.transport is not None
        cast(ITCPTransport, self.transport).abortConnection()

    def setNick(self, nickname: str) -> None:
        """Ask for C{nickname}, remembering it until the server answers."""
        self.attemptedNick = nickname
        super().setNick(nickname)

    def signedOn(self) -> None:
        self.signedOnYet = True
        self.factory.failedSessions = 0
        self.log.info("irc bot signed on as {nick}", nick=self.nickname)
        self.heartbeat = task.LoopingCall(self.sendHeartbeat)
        self.heartbeat.clock = self.factory.clock
        self.heartbeat.start(HEARTBEAT_INTERVAL, now=False)
        for channel in self.factory.settings.channels:
            self.join(channel)
        self.startAnnouncing()

    def startAnnouncing(self) -> None:
        """With C{announce}, follow the backend's changes (if it has a feed)."""
        settings, service = self.factory.settings, self.factory.service
        if not (settings.announce and settings.channels):
            return
        if not IFingerChangeFeed.providedBy(service):
            self.log.warn("irc bot: --irc-announce, but this backend publishes no changes")
            return
        self.announcer = Announcer(self.sendAnnouncement, self.factory.clock, settings.announcePerMinute)
        self.changes = IFingerChangeFeed(service).subscribe(self.announcer.changed)

    def sendAnnouncement(self, name: str, status: str | None) -> None:
        """Post C{name is now: <status>} to each channel (paced like any reply)."""
        for channel in self.factory.settings.channels:
            text = announcementText(self.nickname, channel, name, status)
            self.sendLine(f"PRIVMSG {channel} :{text}")

    def sendHeartbeat(self) -> None:
        """The heartbeat: a PING, so that a dead connection shows."""
        self.sendLine(f"PING {self.hostname}")

    def joined(self, channel: str) -> None:
        self.log.info("irc bot joined {channel} as {nick}", channel=channel, nick=self.nickname)

    def kickedFrom(self, channel: str, kicker: str, message: str) -> None:
        self.log.warn(
            "irc bot was kicked from {channel} by {kicker}: {message}",
            channel=channel, kicker=kicker, message=stripControls(message),
        )

    def irc_ERR_NICKNAMEINUSE(self, prefix: str, params: list[str]) -> None:
        self.setNick(self.alterCollidedNick(self.attemptedNick))

    def alterCollidedNick(self, nickname: str) -> str:
        """
        The next alternative to a nickname in use: the configured nick with
        a number, cut to RFC 2812's 9 characters so any server accepts it.
        """
        self.nickCollisions += 1
        suffix = str(self.nickCollisions)
        alternative = self.factory.settings.nickname[: RFC_NICKLEN - len(suffix)] + suffix
        self.log.warn(
            "irc bot: nickname {nick} is in use; trying {alternative}",
            nick=nickname, alternative=alternative,
        )
        return alternative

    def irc_ERR_ERRONEUSNICKNAME(self, prefix: str, params: list[str]) -> None:
        reason = stripControls(params[-1]) if params else ""
        if self.signedOnYet:
            return
        refused = self.attemptedNick
        shorter = refused[:RFC_NICKLEN]
        if shorter != refused:
            self.log.warn(
                "irc bot: the server refuses nickname {nick} ({reason}); trying {shorter}",
                nick=refused, reason=reason, shorter=shorter,
            )
            self.setNick(shorter)
            return
        self.log.error(
            "irc bot: the server refuses nickname {nick} ({reason}); choose another --irc-nick",
            nick=refused, reason=reason,
        )
        self.disconnect()

    def irc_ERR_PASSWDMISMATCH(self, prefix: str, params: list[str]) -> None:
        self.log.error(
            "irc bot: the server refused the password (--irc-password or --irc-password-file)"
        )
        self.disconnect()

    def irc_unknown(self, prefix: str, command: str, params: list[str]) -> None:
        if command.startswith("ERR_") or (command.isdigit() and command[0] in "45"):
            self.log.warn(
                "irc bot: the server says {command}: {text}",
                command=command, text=stripControls(" ".join(params[1:])),
            )

    def disconnect(self) -> None:
        """Close the connection (the service decides when to retry)."""
        assert self.transport is not None
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.log.info("irc bot lost its connection: {reason}", reason=reason.getErrorMessage())
        self.ended = True
        if not self.signedOnYet:
            self.factory.failedSessions += 1  # e.g. TLS verification or the password failed
        self.setTimeout(None)
        if self.pacer is not None:
            self.pacer.stop()
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        self.heartbeat = None
        if self.changes is not None:
            self.changes.unsubscribe()
            self.changes = None
        if self.announcer is not None:
            self.announcer.stop()
        super().connectionLost(reason)

    # What we never answer

    def irc_NOTICE(self, prefix: str, params: list[str]) -> None:
        """Never answer a NOTICE (RFC 2812 3.3.2), nor a CTCP reply."""

    def ctcpQuery(self, user: str, channel: str, messages: list[tuple[str, str | None]]) -> None:
        """Ignore CTCP queries (VERSION, PING, DCC...): less to flood with."""

    # Queries

    def privmsg(self, user: str, channel: str, message: str) -> None:
        nick = user.split("!", 1)[0]
        if ircLower(nick) == ircLower(self.nickname):
            return
        if isChannel(channel):
            query = addressedQuery(message, self.nickname)
            if query is None:
                return
            target = channel
        else:
            query, target = message.strip(), nick
        verdict = self.factory.budget.check(user)
        if verdict == IGNORE:
            return
        if verdict == WARN:
            self.log.info(
                "irc bot: {user} asks too fast; ignoring them for a while",
                user=stripControls(user),
            )
            self.notice(nick, "You are asking too fast; I will ignore you for a while.")
            return
        self.answer(user, target, query)

    def answer(self, user: str, target: str, query: str) -> None:
        """Send C{query}'s status to C{target} and log the query."""
        started = time.monotonic()
        peer = stripControls(user)
        if isChannel(target):
            peer = f"{peer} in {target}"

        def record(outcome: str) -> None:
            self.factory.settings.queryLog.record("irc", peer, query, outcome, started)

        assert self.pacer is not None
        if self.pacer.waiting >= self.factory.settings.maxQueuedLines:
            record("dropped: too many answers waiting to be sent")
            return
        problem = userNameProblem(query) if query else "the query is empty"
        if problem:
            record(f"refused: {problem}")
            nick = user.split("!", 1)[0]
            if self.factory.budget.firstHint(user):
                self.notice(nick, self.hint())
            return
        d = defer.maybeDeferred(self.factory.service.getUser, query).addCallbacks(
            lambda status: (replyLines(self.nickname, target, query, status), "found"),
            self.failedLookupLines,
            errbackArgs=(target, query),
        )
        d.addCallback(self.sendAnswer, target, record)

    def hint(self) -> str:
        return (
            "Send me one user name and I answer with that user's status, "
            f"e.g. /msg {self.nickname} NAME"
        )

    def failedLookupLines(self, failure: Failure, target: str, name: str) -> tuple[list[str], str]:
        if failure.check(UserNotFound):
            return [f"No such user: {stripControls(name)}"], "no such user"
        if failure.check(LookupFailed):
            message = lookupFailedMessage(cast(LookupFailed, failure.value))
            return replyLines(self.nickname, target, name, message), message
        self.log.failure("irc bot: looking up {name!r} failed", failure, name=name)
        return [f"Error: could not look up {stripControls(name)}"], "error"

    def sendAnswer(
        self, result: tuple[list[str], str], target: str, record: Callable[[str], None]
    ) -> None:
        lines, outcome = result
        record(outcome)
        if self.ended:
            return  # The answer came after the connection ended.
        for line in lines:
            self.sendLine(f"PRIVMSG {target} :{line}")
