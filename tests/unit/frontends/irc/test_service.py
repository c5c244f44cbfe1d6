"""The bot's factory, settings and reconnecting service (finger.frontends.irc.service)."""

from __future__ import annotations

import dataclasses

from twisted.application.internet import ClientService
from twisted.internet import defer, task
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from finger import querylog
from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.irc.service import (
    DEFAULT_NICK,
    FingerBotFactory,
    IFingerIRCFactory,
    IRCBotService,
    IRCEndpointError,
    IRCSettings,
    _LoggingEndpoint,
    makeIRCService,
    retryPolicy,
)


class FactoryTests(TestCase):
    def setUp(self) -> None:
        self.backend = MemoryFingerService({"alice": "Happy and well"})
        self.clock = task.Clock()

    def test_adapterWithDefaults(self):
        factory = IFingerIRCFactory(self.backend)
        self.assertIsInstance(factory, FingerBotFactory)
        self.assertIs(factory.service, self.backend)
        self.assertEqual(factory.settings, IRCSettings())
        self.assertEqual(factory.settings.nickname, DEFAULT_NICK)
        self.assertEqual(factory.settings.lineRate, 0.5)
        self.assertIs(factory.settings.queryLog, querylog.ENABLED)
        from twisted.internet import reactor

        self.assertIs(factory.clock, reactor)

    def test_frontendWithSettings(self):
        settings = IRCSettings(
            nickname="statusbot", channels=("#finger",), password="sesame", clock=self.clock
        )
        factory = frontend(IFingerIRCFactory, self.backend, settings)
        self.assertIsInstance(factory, FingerBotFactory)
        self.assertIs(factory.settings, settings)
        self.assertIs(factory.clock, self.clock)
        self.assertIs(factory.budget.clock, self.clock)

    def test_settingsAreFrozen(self):
        settings = IRCSettings()
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, settings, "nickname", "x")

    def test_budgetFromTheSettings(self):
        settings = IRCSettings(budgetRequests=2, budgetWindow=3.0, clock=self.clock)
        factory = frontend(IFingerIRCFactory, self.backend, settings)
        self.assertEqual((factory.budget.requests, factory.budget.window), (2, 3.0))


class RetryTests(TestCase):
    def test_failedSessionsGrowTheRetryDelay(self):
        clock = task.Clock()
        settings = IRCSettings(lineRate=None, clock=clock)
        factory = frontend(IFingerIRCFactory, MemoryFingerService({}), settings)
        policy = retryPolicy(factory, maxDelay=1000.0, jitter=lambda: 0)
        first = policy(1)
        bot = factory.buildProtocol(None)
        bot.makeConnection(StringTransport())
        bot.connectionLost(Failure(ConnectionDone()))  # lost before signing on
        self.assertEqual(factory.failedSessions, 1)
        self.assertGreater(policy(1), first)
        bot = factory.buildProtocol(None)
        bot.makeConnection(StringTransport())
        bot.dataReceived(b":irc.test 001 fingerbot :Welcome\r\n")
        self.assertEqual(factory.failedSessions, 0)
        self.assertEqual(policy(1), first)
        bot.connectionLost(Failure(ConnectionDone()))

    def test_retryDelayIsCapped(self):
        factory = frontend(IFingerIRCFactory, MemoryFingerService({}), IRCSettings(clock=task.Clock()))
        policy = retryPolicy(factory, maxDelay=5.0, jitter=lambda: 0)
        self.assertEqual(policy(100), 5.0)


class FailingEndpoint:
    def connect(self, factory):
        return defer.fail(ConnectionRefusedError("refused"))


class ServiceTests(TestCase):
    def test_makeIRCService(self):
        reactor = MemoryReactorClock()
        factory = frontend(IFingerIRCFactory, MemoryFingerService({}), IRCSettings(clock=reactor))
        bot = makeIRCService(factory, "tcp:irc.example.org:6667", reactor, maxRetryDelay=5.0)
        self.assertIsInstance(bot, IRCBotService)
        self.assertIsInstance(bot, ClientService)
        self.assertIs(bot.botFactory, factory)
        bot.startService()
        self.addCleanup(bot.stopService)
        [(host, port, _, _, _)] = reactor.tcpClients
        self.assertEqual((host, port), ("irc.example.org", 6667))

    def test_badEndpointRaisesItsOwnError(self):
        factory = IFingerIRCFactory(MemoryFingerService({}))
        for description in ("tcp:nowhere", "nosuchkind:x", "tcp:h:1:bogus=1"):
            error = self.assertRaises(
                IRCEndpointError, makeIRCService, factory, description, MemoryReactorClock()
            )
            self.assertIsInstance(error, ValueError)
            self.assertNotIsInstance(error, SystemExit)

    def test_failedConnectionIsLogged(self):
        events: list[dict] = []
        endpoint = _LoggingEndpoint(FailingEndpoint(), "tcp:irc.example.org:6667")
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        d = endpoint.connect(IFingerIRCFactory(MemoryFingerService({})))
        self.failureResultOf(d, ConnectionRefusedError)
        [event] = [e for e in events if e.get("log_format", "").startswith("irc bot cannot")]
        self.assertEqual(event["description"], "tcp:irc.example.org:6667")
        self.assertEqual(repr(endpoint), "tcp:irc.example.org:6667")
