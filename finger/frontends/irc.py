"""
The IRC frontend: a bot, adapted from L{IFingerService} to
L{IFingerIRCFactory}, that answers status queries.

A private message C{alice} is answered privately with C{alice: <status>}
(or C{alice: <reason>} when the status is kept elsewhere and could not be
had, L{LookupFailed});
in a channel the bot answers only when addressed (C{fingerbot: alice} or
C{fingerbot, alice}).  Flood safety: outgoing lines are paced
(C{IRCClient.lineRate}) and bounded, each sender has a small request budget
(over it, one notice and then silence), NOTICEs are never answered, CTCP
queries are ignored, and anything that is not a user name gets at most one
hint as a NOTICE, so the bot cannot loop with another bot.

L{makeIRCService} connects with a Twisted client endpoint string and keeps
reconnecting with backoff (C{ClientService}).
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, endpoints, protocol
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python import components, usage
from twisted.words.protocols import irc
from zope.interface import Attribute, Interface, implementer

from finger import querylog
from finger.frontends.lookup import lookupFailedMessage
from finger.coerce import positiveSeconds
from finger.interfaces import IFingerService, LookupFailed, UserNotFound
from finger.listen import StartupError
from finger.text import printableLines, stripControls
from finger.users import userNameProblem

DEFAULT_NICK = "fingerbot"
MAX_LINE_BYTES = 512  # RFC 2812: a message, CRLF included.
RFC_NICKLEN = 9  # RFC 2812's nickname length; every server accepts it.
# Our prefix as the server relays it, assumed at its longest: a username of
# up to 10 characters (plus '~' without ident) and a 63-character host.
USER_ROOM = 11
HOST_ROOM = 63
MAX_REPLY_LINES = 6  # Lines of one answer; the rest is summarised.
MAX_QUEUED_LINES = 30  # Outgoing lines waiting for lineRate; beyond, queries are dropped.
MAX_SENDERS = 1000  # Senders remembered by the budget before expired ones are pruned.
IDLE_TIMEOUT = 300.0  # Silence (the heartbeat PINGs every 120 s) before reconnecting.
MAX_PASSWORD_FILE = 4096  # Bytes; a password is one short line.

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


@dataclass
class _Sender:
    times: deque = field(default_factory=deque)
    warned: bool = False
    hinted: bool = False


ALLOW, WARN, IGNORE = "allow", "warn", "ignore"


class SenderBudget:
    """
    At most C{requests} requests per sender in any C{window} seconds.
    Every request counts, answered or not, so a sender who keeps flooding
    stays ignored; the first refusal of a run is a L{WARN} (answer with one
    notice), the rest L{IGNORE}.
    """

    def __init__(self, clock, requests: int = 5, window: float = 10.0) -> None:
        self.clock = clock
        self.requests = requests
        self.window = window
        self._senders: dict[str, _Sender] = {}

    def _state(self, sender: str) -> _Sender:
        now = self.clock.seconds()
        if len(self._senders) >= MAX_SENDERS:
            for key in [k for k, s in self._senders.items() if self._expire(s, now)]:
                del self._senders[key]
        state = self._senders.get(sender)
        if state is None or self._expire(state, now):
            state = self._senders[sender] = _Sender(deque(maxlen=self.requests))
        return state

    def _expire(self, state: _Sender, now: float) -> bool:
        """Forget request times older than the window; true if none is left."""
        while state.times and state.times[0] <= now - self.window:
            state.times.popleft()
        return not state.times

    def check(self, sender: str) -> str:
        """Count a request from C{sender}: L{ALLOW}, L{WARN} or L{IGNORE}."""
        state = self._state(sender)
        full = len(state.times) >= self.requests
        state.times.append(self.clock.seconds())
        if not full:
            state.warned = False
            return ALLOW
        if state.warned:
            return IGNORE
        state.warned = True
        return WARN

    def firstHint(self, sender: str) -> bool:
        """True the first time C{sender} needs a usage hint (while remembered)."""
        state = self._state(sender)
        first = not state.hinted
        state.hinted = True
        return first


class IFingerIRCFactory(Interface):
    """The IRC frontend: a client factory for the bot, built from a service."""

    nickname = Attribute("The nickname to ask for.")
    channels = Attribute("Channels to join.")
    password = Attribute("Server password, or None.")
    queryLog = Attribute("The L{finger.querylog.QueryLog} for each query.")

    def buildProtocol(addr):
        """Return a bot for a new connection."""


class FingerBot(irc.IRCClient, TimeoutMixin):
    """Answers status queries; see the module docstring for the rules."""

    log = Logger()
    username = "finger"
    realname = "finger status bot"
    _collisions = 0
    _lost = False

    def callLater(self, *args, **kwargs):
        return self.factory.clock.callLater(*args, **kwargs)

    # Connection and registration

    def connectionMade(self) -> None:
        self.nickname = self.factory.nickname
        self.password = self.factory.password
        self.lineRate = self.factory.lineRate
        self.setTimeout(IDLE_TIMEOUT)
        super().connectionMade()

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        # Twisted decodes strictly and would drop the connection on one
        # non-UTF-8 line (legacy clients still send Latin-1).
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        super().lineReceived(line)

    def timeoutConnection(self) -> None:
        self.log.warn(
            "irc bot: no word from the server in {seconds} s; reconnecting", seconds=IDLE_TIMEOUT
        )
        self.transport.abortConnection()

    def _createHeartbeat(self):
        heartbeat = super()._createHeartbeat()
        heartbeat.clock = self.factory.clock
        return heartbeat

    def signedOn(self) -> None:
        self.factory.failedSessions = 0
        self.log.info("irc bot signed on as {nick}", nick=self.nickname)
        for channel in self.factory.channels:
            self.join(channel)

    def joined(self, channel: str) -> None:
        self.log.info("irc bot joined {channel} as {nick}", channel=channel, nick=self.nickname)

    def kickedFrom(self, channel: str, kicker: str, message: str) -> None:
        self.log.warn(
            "irc bot was kicked from {channel} by {kicker}: {message}",
            channel=channel, kicker=kicker, message=stripControls(message),
        )

    def alterCollidedNick(self, nickname: str) -> str:
        """
        The next alternative to a nickname in use: the configured nick with
        a number, cut to RFC 2812's 9 characters so any server accepts it.
        """
        self._collisions += 1
        suffix = str(self._collisions)
        alternative = self.factory.nickname[: RFC_NICKLEN - len(suffix)] + suffix
        self.log.warn(
            "irc bot: nickname {nick} is in use; trying {alternative}",
            nick=nickname, alternative=alternative,
        )
        return alternative

    def irc_ERR_ERRONEUSNICKNAME(self, prefix, params) -> None:
        reason = stripControls(params[-1]) if params else ""
        if self._registered:
            return
        shorter = self._attemptedNick[:RFC_NICKLEN]
        if shorter != self._attemptedNick:
            self.log.warn(
                "irc bot: the server refuses nickname {nick} ({reason}); trying {shorter}",
                nick=self._attemptedNick, reason=reason, shorter=shorter,
            )
            self.setNick(shorter)
            return
        self.log.error(
            "irc bot: the server refuses nickname {nick} ({reason}); choose another --irc-nick",
            nick=self._attemptedNick, reason=reason,
        )
        self.transport.loseConnection()

    def irc_ERR_PASSWDMISMATCH(self, prefix, params) -> None:
        self.log.error(
            "irc bot: the server refused the password (--irc-password or --irc-password-file)"
        )
        self.transport.loseConnection()

    def irc_unknown(self, prefix, command, params) -> None:
        if command.startswith("ERR_") or (command.isdigit() and command[0] in "45"):
            self.log.warn(
                "irc bot: the server says {command}: {text}",
                command=command, text=stripControls(" ".join(params[1:])),
            )

    def connectionLost(self, reason) -> None:
        self.log.info("irc bot lost its connection: {reason}", reason=reason.getErrorMessage())
        self._lost = True
        if not self._registered:
            self.factory.failedSessions += 1  # e.g. TLS verification or the password failed
        self.setTimeout(None)
        if self._queueEmptying is not None and self._queueEmptying.active():
            self._queueEmptying.cancel()
        self._queueEmptying = None
        self._queue = []
        super().connectionLost(reason)

    # What we never answer

    def irc_NOTICE(self, prefix, params) -> None:
        """Never answer a NOTICE (RFC 2812 3.3.2), nor a CTCP reply."""

    def ctcpQuery(self, user, channel, messages) -> None:
        """Ignore CTCP queries (VERSION, PING, DCC...): less to flood with."""

    # Queries

    def privmsg(self, user: str, channel: str, message: str) -> None:
        nick = user.split("!", 1)[0]
        if ircLower(nick) == ircLower(self.nickname):
            return
        if channel[:1] in irc.CHANNEL_PREFIXES:
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
        if target[:1] in irc.CHANNEL_PREFIXES:
            peer = f"{peer} in {target}"

        def record(outcome: str) -> None:
            self.factory.queryLog.record("irc", peer, query, outcome, started)

        if len(self._queue or ()) >= MAX_QUEUED_LINES:
            record("dropped: too many answers waiting to be sent")
            return
        problem = userNameProblem(query) if query else "the query is empty"
        if problem:
            record(f"refused: {problem}")
            nick = user.split("!", 1)[0]
            if self.factory.budget.firstHint(user):
                self.notice(nick, self.hint())
            return
        d = defer.maybeDeferred(self.factory.service.getUser, query)
        d.addCallbacks(
            lambda status: (self.replyLines(target, query, status), "found"),
            self._userFailed,
            errbackArgs=(target, query),
        )
        d.addCallback(self._send, target, record)

    def hint(self) -> str:
        return (
            "Send me one user name and I answer with that user's status, "
            f"e.g. /msg {self.nickname} NAME"
        )

    def replyLines(self, target: str, name: str, status: str) -> list[str]:
        """
        C{name: <status>} lines, each fitting one IRC line, at most
        L{MAX_REPLY_LINES}.
        """
        label = f"{stripControls(name)}: "
        room = roomForText(self.nickname, "PRIVMSG", target) - len(label.encode("utf-8"))
        lines = [
            label + piece for line in printableLines(status) for piece in splitUTF8(line, room)
        ]
        if len(lines) > MAX_REPLY_LINES:
            hidden = len(lines) - (MAX_REPLY_LINES - 1)
            lines = lines[: MAX_REPLY_LINES - 1] + [f"{label}[{hidden} more lines not shown]"]
        return lines

    def _userFailed(self, failure, target: str, name: str) -> tuple[list[str], str]:
        if failure.check(UserNotFound):
            return [f"No such user: {stripControls(name)}"], "no such user"
        if failure.check(LookupFailed):
            message = lookupFailedMessage(failure.value)
            return self.replyLines(target, name, message), message
        self.log.failure("irc bot: looking up {name!r} failed", failure, name=name)
        return [f"Error: could not look up {stripControls(name)}"], "error"

    def _send(self, result: tuple[list[str], str], target: str, record) -> None:
        lines, outcome = result
        record(outcome)
        if self._lost:
            return  # The answer came after the connection ended.
        for line in lines:
            self.sendLine(f"PRIVMSG {target} :{line}")


@implementer(IFingerIRCFactory)
class FingerBotFactory(protocol.ClientFactory):
    """Builds L{FingerBot}s for any L{IFingerService}."""

    protocol = FingerBot
    nickname = DEFAULT_NICK
    channels: tuple[str, ...] = ()
    password: str | None = None
    lineRate: float | None = 0.5  # ngircd and most servers throttle faster clients.
    queryLog = querylog.ENABLED
    failedSessions = 0  # Connections in a row that ended before signing on.

    def __init__(self, service: IFingerService, clock=None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.service = service
        self.clock = clock
        self.budget = SenderBudget(clock)


components.registerAdapter(FingerBotFactory, IFingerService, IFingerIRCFactory)


class _LoggingEndpoint:
    """Logs why a connection attempt failed (C{ClientService} keeps quiet)."""

    log = Logger()

    def __init__(self, endpoint, description: str) -> None:
        self.endpoint = endpoint
        self.description = description

    def __repr__(self) -> str:
        return self.description

    def connect(self, factory):
        d = self.endpoint.connect(factory)
        d.addErrback(self._failed)
        return d

    def _failed(self, failure):
        self.log.warn(
            "irc bot cannot connect to {description}: {reason}; retrying",
            description=self.description, reason=failure.getErrorMessage(),
        )
        return failure


def retryPolicy(factory: FingerBotFactory, maxDelay: float = 60.0, jitter=None):
    """
    C{ClientService}'s backoff, counting as failures both connection
    attempts that failed and connections that ended before signing on (a
    bad certificate, a refused password), so the wait keeps growing.
    """
    kwargs = {} if jitter is None else {"jitter": jitter}
    backoff = backoffPolicy(initialDelay=1.0, maxDelay=maxDelay, **kwargs)

    def delay(attempt: int) -> float:
        return backoff(attempt + factory.failedSessions)

    return delay


def makeIRCService(
    factory: FingerBotFactory, description: str, maxRetryDelay: float = 60.0, reactor=None
) -> ClientService:
    """
    A service that keeps the bot connected to C{description} (a client
    endpoint string such as C{tcp:irc.example.org:6667} or
    C{tls:irc.example.org:6697}), retrying with backoff forever.
    Raises C{ValueError} for a bad endpoint string.
    """
    if reactor is None:
        from twisted.internet import reactor
    endpoint = endpoints.clientFromString(reactor, description)
    log = Logger()

    def connected(bot: FingerBot) -> None:
        log.info("irc bot connected to {description}", description=description)

    service = ClientService(
        _LoggingEndpoint(endpoint, description),
        factory,
        retryPolicy=retryPolicy(factory, maxRetryDelay),
        clock=reactor,
        prepareConnection=connected,
    )
    service.botFactory = factory
    return service


class IRCOptions:
    """The IRC bot's options of C{twistd finger} (a mixin)."""

    optParameters = [
        ["irc-server", None, None,
         "Run the IRC bot: a client endpoint string, e.g. tcp:irc.example.org:6667 or "
         "tls:irc.example.org:6697 (add :trustRoots=DIR for a private CA)."],
        ["irc-password", None, None,
         "The IRC server's password, if it needs one (visible in ps; see --irc-password-file)."],
        ["irc-password-file", None, None,
         "Read the IRC server's password from this file at start-up "
         "(one line; keep the file private)."],
        ["irc-max-retry-delay", None, 60.0,
         "Longest wait between the IRC bot's reconnection attempts, in seconds.", positiveSeconds],
    ]

    def opt_irc_nick(self, nick: str) -> None:
        """The IRC bot's nickname (default fingerbot)."""
        problem = nickProblem(nick)
        if problem:
            raise usage.UsageError(f"--irc-nick {nick!r}: {problem}")
        self["irc-nick"] = nick

    def opt_irc_channel(self, channel: str) -> None:
        """A channel for the IRC bot to join (repeatable)."""
        problem = channelProblem(channel)
        if problem:
            raise usage.UsageError(f"--irc-channel {channel!r}: {problem}")
        self.setdefault("irc-channels", []).append(channel)


def ircPassword(options) -> str | None:
    """
    The server password: C{--irc-password}, or the contents of
    C{--irc-password-file} without its trailing line end, read now (at
    start-up, before twistd drops privileges, so the file may be root's).
    """
    path = options.get("irc-password-file")
    if path is None:
        return options["irc-password"]
    if options["irc-password"] is not None:
        raise StartupError("give --irc-password or --irc-password-file, not both")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PASSWORD_FILE + 1)
    except OSError as e:
        raise StartupError(f"cannot read the IRC password file {path}: {e.strerror or e}") from None
    try:
        password = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise StartupError(f"the IRC password file {path} is not UTF-8 text") from None
    if len(data) > MAX_PASSWORD_FILE or re.search(r"[\r\n\x00]", password):
        raise StartupError(f"the IRC password file {path} must hold just the password, on one line")
    if not password:
        raise StartupError(f"the IRC password file {path} is empty")
    return password


def addIRCBot(top, backend: IFingerService, options) -> None:
    """Add the IRC bot to C{top} if the options name a server."""
    description = options["irc-server"]
    channels = tuple(options.get("irc-channels", ()))
    if not description:
        if channels:
            raise StartupError("--irc-channel needs --irc-server")
        if options.get("irc-password-file"):
            raise StartupError("--irc-password-file needs --irc-server")
        return
    factory = IFingerIRCFactory(backend)
    factory.nickname = options.get("irc-nick", DEFAULT_NICK)
    factory.channels = channels
    factory.password = ircPassword(options)
    factory.queryLog = options.queryLog
    try:
        bot = makeIRCService(factory, description, options["irc-max-retry-delay"])
    except OSError as e:
        raise StartupError(
            f"cannot use IRC server {description!r}: {e.filename or ''}: {e.strerror or e}"
        ) from None
    except (ValueError, KeyError, TypeError) as e:
        raise StartupError(f"bad IRC server endpoint {description!r}: {e}") from None
    bot.setServiceParent(top)
