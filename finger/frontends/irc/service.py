"""
The bot's factory, its settings, and the service that keeps it connected.

C{IFingerIRCFactory(backend)} is the bot with the default settings;
C{frontend(IFingerIRCFactory, backend, IRCSettings(...))} configures it.
L{makeIRCService} connects with a Twisted client endpoint string and keeps
reconnecting with backoff (C{ClientService}).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import endpoints, protocol
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.logger import Logger
from twisted.python import components
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface, implementer

from finger import querylog
from finger.adapt import registerFrontend
from finger.frontends.irc.announce import ANNOUNCEMENTS_PER_MINUTE
from finger.frontends.irc.budget import SenderBudget
from finger.frontends.irc.pacing import MAX_QUEUED_LINES
from finger.frontends.irc.protocol import FingerBot
from finger.interfaces import IFingerService
from finger.reactors import globalReactor

DEFAULT_NICK = "fingerbot"


@dataclass(frozen=True)
class IRCSettings:
    """
    How the bot behaves: its nickname, the channels it joins, the server
    password, the pace of its outgoing lines (seconds between lines, or
    C{None} for no pacing) and how many may wait, each sender's budget
    (C{budgetRequests} in C{budgetWindow} seconds), the query log, and the
    clock (C{None}: the global reactor).  With C{announce}, status changes
    are posted to the channels, at most C{announcePerMinute} a minute (see
    L{finger.frontends.irc.announce}).
    """

    nickname: str = DEFAULT_NICK
    channels: tuple[str, ...] = ()
    password: str | None = None
    lineRate: float | None = 0.5  # ngircd and most servers throttle faster clients.
    maxQueuedLines: int = MAX_QUEUED_LINES
    budgetRequests: int = 5
    budgetWindow: float = 10.0
    queryLog: querylog.QueryLog = querylog.ENABLED
    clock: IReactorTime | None = None
    announce: bool = False
    announcePerMinute: int = ANNOUNCEMENTS_PER_MINUTE


DEFAULT_SETTINGS = IRCSettings()


class IFingerIRCFactory(Interface):
    """The IRC frontend: a client factory for the bot, built from a service."""

    service = Attribute("The L{IFingerService} the bot answers from.")
    settings = Attribute("The bot's L{IRCSettings}.")
    failedSessions = Attribute("Connections in a row that ended before signing on.")

    def buildProtocol(addr):
        """Return a bot for a new connection."""


if TYPE_CHECKING:
    _BotFactoryBase = protocol.ClientFactory[FingerBot]  # generic in Twisted's stubs only
else:
    _BotFactoryBase = protocol.ClientFactory


@implementer(IFingerIRCFactory)
class FingerBotFactory(_BotFactoryBase):
    """Builds L{FingerBot}s for any L{IFingerService}."""

    protocol = FingerBot

    def __init__(self, service: IFingerService, settings: IRCSettings = DEFAULT_SETTINGS) -> None:
        self.service = service
        self.settings = settings
        # Settings without a clock mean the global reactor, which
        # twisted.words.protocols.irc has imported (installed) already.
        self.clock = settings.clock or globalReactor()
        self.budget = SenderBudget(self.clock, settings.budgetRequests, settings.budgetWindow)
        self.failedSessions = 0


components.registerAdapter(FingerBotFactory, IFingerService, IFingerIRCFactory)
registerFrontend(FingerBotFactory, IRCSettings, IFingerIRCFactory)


@implementer(IStreamClientEndpoint)
class _LoggingEndpoint:
    """Logs why a connection attempt failed (C{ClientService} keeps quiet)."""

    log = Logger()

    def __init__(self, endpoint: IStreamClientEndpoint, description: str) -> None:
        self.endpoint = endpoint
        self.description = description

    def __repr__(self) -> str:
        return self.description

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        d = self.endpoint.connect(protocolFactory)
        d.addErrback(self._failed)
        return d

    def _failed(self, failure: Failure) -> Failure:
        self.log.warn(
            "irc bot cannot connect to {description}: {reason}; retrying",
            description=self.description, reason=failure.getErrorMessage(),
        )
        return failure


def retryPolicy(
    factory: FingerBotFactory,
    maxDelay: float = 60.0,
    jitter: Callable[[], float] | None = None,
) -> Callable[[int], float]:
    """
    C{ClientService}'s backoff, counting as failures both connection
    attempts that failed and connections that ended before signing on (a
    bad certificate, a refused password), so the wait keeps growing.
    """
    if jitter is None:
        backoff = backoffPolicy(initialDelay=1.0, maxDelay=maxDelay)
    else:
        backoff = backoffPolicy(initialDelay=1.0, maxDelay=maxDelay, jitter=jitter)

    def delay(attempt: int) -> float:
        return backoff(attempt + factory.failedSessions)

    return delay


class IRCEndpointError(ValueError):
    """The IRC server's client endpoint string cannot be used as written."""


class IRCBotService(ClientService):
    """A C{ClientService} that keeps one bot connected; C{botFactory} makes it."""

    log = Logger()

    def __init__(
        self,
        endpoint: IStreamClientEndpoint,
        description: str,
        botFactory: FingerBotFactory,
        maxRetryDelay: float,
        clock: IReactorTime,
    ) -> None:
        self.botFactory = botFactory
        self.description = description
        super().__init__(
            endpoint,
            botFactory,
            retryPolicy=retryPolicy(botFactory, maxRetryDelay),
            clock=clock,
            prepareConnection=self._connected,
        )

    def _connected(self, bot: IProtocol) -> None:
        self.log.info("irc bot connected to {description}", description=self.description)


def makeIRCService(
    factory: FingerBotFactory, description: str, reactor: IReactorTime, maxRetryDelay: float = 60.0
) -> IRCBotService:
    """
    A service that keeps the bot connected to C{description} (a client
    endpoint string such as C{tcp:irc.example.org:6667} or
    C{tls:irc.example.org:6697}), retrying with backoff forever.
    Raises L{IRCEndpointError} for a bad endpoint string and C{OSError}
    for a file it names that cannot be read (e.g. C{trustRoots}).
    """
    try:
        endpoint = endpoints.clientFromString(reactor, description)
    except (ValueError, KeyError, TypeError) as e:
        raise IRCEndpointError(str(e)) from e
    return IRCBotService(
        _LoggingEndpoint(endpoint, description), description, factory, maxRetryDelay, reactor
    )
