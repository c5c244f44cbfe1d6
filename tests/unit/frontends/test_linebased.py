"""
Unit tests for the finger and setter protocols' own limits: idle timeout,
total time, line length, and back-pressure when listing many users.
"""

from __future__ import annotations

from dataclasses import replace

from twisted.internet import task
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import TestCase

from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import LIST_BATCH, FingerFactoryFromService, FingerSettings
from finger.frontends.linebased import Deadlines
from finger.frontends.setter import FingerSetterFactoryFromService, SetterSettings
from finger.linger import LINGER_SECONDS
from finger.querylog import QueryLog
from tests.helpers.fakes import BUFFER_SIZE, PEER, ManualCooperator, SocketLikeTransport


class LineLimitsTestsMixin:
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def configure(self, **settings) -> None:
        self.settings = replace(self.settings, **settings)

    def connect(self, transport=None):
        factory = self.factoryType(self.backend, self.settings)
        protocol = factory.buildProtocol(PEER)
        transport = transport or SocketLikeTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def assertNoTimerLeft(self) -> None:
        """
        No deadline is kept for a closed connection, and the shared timer
        (finger.frontends.linebased.Deadlines) stops with the last one.
        """
        self.assertEqual(Deadlines.of(self.clock).due, {})
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def outcomes(self) -> list[str]:
        return [e["outcome"] for e in self.events if "outcome" in e]

    def assertCutOff(self, transport, spared: float, then: float, outcome: str) -> None:
        """Still open C{spared} seconds on, aborted C{then} seconds later, for C{outcome}."""
        self.clock.advance(spared)
        self.assertFalse(transport.aborted)
        self.clock.advance(then)
        self.assertTrue(transport.aborted)
        self.assertEqual(self.outcomes(), [outcome])

    def askForTheList(self):
        """Ask for the whole list, the listing run by hand; (protocol, transport, cooperator)."""
        cooperator = ManualCooperator()
        self.configure(cooperate=cooperator.cooperator.cooperate)
        protocol, transport = self.connect()
        protocol.dataReceived(b"\r\n")
        cooperator.runUntilIdle()
        return protocol, transport, cooperator


class FingerLimitsTests(LineLimitsTestsMixin, TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.backend = MemoryFingerService({"alice": "Happy and well"})
        self.factoryType = FingerFactoryFromService
        self.settings = FingerSettings(
            timeout=5.0, timeLimit=30.0, queryLog=QueryLog(True), clock=self.clock
        )

    def test_idleConnectionIsClosed(self) -> None:
        protocol, transport = self.connect()
        self.assertCutOff(transport, 4.9, 0.2, "idle timeout")

    def test_tricklingClientIsClosedByTheIdleTimeout(self) -> None:
        """A byte a second never completes a query: that does not keep it open."""
        protocol, transport = self.connect()
        for _ in range(6):
            protocol.dataReceived(b"a")
            self.clock.advance(1.0)
        self.assertTrue(transport.aborted)
        self.assertEqual(self.outcomes(), ["idle timeout"])

    def test_slowReaderIsCutOffByTheTimeLimit(self) -> None:
        """
        A client that asks for the list and never reads it is cut off after
        C{timeLimit} seconds, not kept forever.
        """
        for i in range(5000):
            self.backend.setUser(f"user{i:05d}", "x" * 50)
        protocol, transport, cooperator = self.askForTheList()
        self.assertTrue(transport.paused)
        self.assertCutOff(transport, 29.0, 1.0, "time limit reached")

    def test_timeLimitCancelledWhenDone(self) -> None:
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\n")
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)
        self.assertNoTimerLeft()

    def test_listingRespectsBackPressure(self) -> None:
        """
        Listing 200,000 users to a client that does not read buffers at
        most about one socket buffer, however long the list; the whole list
        arrives, in order, once the client reads.
        """
        count = 200_000
        self.backend._users.clear()
        for i in range(count):
            self.backend._users[f"user{i:06d}"] = "s" * 40
        expected = sum(len(f"user{i:06d}: {'s' * 40}\r\n") for i in range(count))
        protocol, transport, cooperator = self.askForTheList()
        self.assertTrue(transport.paused)
        self.assertLess(len(transport.value()), expected // 10)
        rounds = 0
        while not transport.disconnecting:
            transport.drain()
            cooperator.runUntilIdle()
            rounds += 1
        transport.drain()
        self.assertEqual(transport.delivered, expected)
        batch = LIST_BATCH * len(f"user000000: {'s' * 40}\r\n")
        self.assertLessEqual(transport.mostBuffered, BUFFER_SIZE + batch)
        self.assertGreater(rounds, 100)
        self.assertEqual(self.outcomes(), [f"listed {count} users"])

    def test_clientGoneMidListing(self) -> None:
        """The transport stops the producer when the client goes: no error."""
        for i in range(5000):
            self.backend._users[f"user{i:05d}"] = "x" * 50
        protocol, transport, cooperator = self.askForTheList()
        producer = transport.producer
        protocol.connectionLost(None)
        producer.stopProducing()  # what a TCP transport does on connection loss
        cooperator.runUntilIdle()
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertNoTimerLeft()

    def test_hugeLineRefusedWithoutBuffering(self) -> None:
        """A 10 MB query is refused at once; the rest is read and discarded."""
        protocol, transport = self.connect()
        chunk = b"a" * 65536
        for _ in range(160):
            protocol.dataReceived(chunk)
            self.assertEqual(protocol.pending, b"")
        protocol.dataReceived(b"\r\n")
        self.assertEqual(transport.value(), b"Query too long (limit 1024 bytes)\r\n")
        self.assertTrue(transport.writeLost)
        self.assertEqual(self.outcomes(), ["refused: Query too long (limit 1024 bytes)"])


    def test_refusalLingersThenAborts(self) -> None:
        """
        A refused client is half-closed and drained for LINGER_SECONDS (even
        when the idle timeout would end sooner), then cut off.
        """
        self.configure(timeout=1.0)
        protocol, transport = self.connect()
        protocol.dataReceived(b"\xff\r\n")
        self.assertEqual(transport.value(), b"Query is not valid UTF-8\r\n")
        self.assertTrue(transport.writeLost)
        self.clock.advance(LINGER_SECONDS - 0.1)
        self.assertFalse(transport.aborted)
        protocol.dataReceived(b"more garbage\r\n")
        self.assertEqual(transport.value(), b"Query is not valid UTF-8\r\n")
        self.clock.advance(0.1)
        self.assertTrue(transport.aborted)
        protocol.connectionLost(None)
        self.assertNoTimerLeft()

    def test_refusedClientClosingEndsTheLinger(self) -> None:
        protocol, transport = self.connect()
        protocol.dataReceived(b"\xff\r\n")
        protocol.readConnectionLost()
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)
        self.assertNoTimerLeft()


class SetterLimitsTests(LineLimitsTestsMixin, TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.backend = MemoryFingerService()
        self.factoryType = FingerSetterFactoryFromService
        self.settings = SetterSettings(
            timeout=5.0, timeLimit=30.0, queryLog=QueryLog(True), clock=self.clock,
            allowUnauthenticated=True,  # the TCP setter: these tests use TCP transports
        )

    def test_idleAfterTheNameIsClosed(self) -> None:
        protocol, transport = self.connect()
        protocol.dataReceived(b"dave\r\n")
        self.clock.advance(5.0)
        self.assertTrue(transport.aborted)
        self.assertEqual(self.outcomes(), ["idle timeout"])

    def test_hugeStatusRefusedWithoutBuffering(self) -> None:
        protocol, transport = self.connect()
        protocol.dataReceived(b"dave\r\n")
        for _ in range(160):
            protocol.dataReceived(b"b" * 65536)
            self.assertEqual(protocol.pending, b"")
        self.assertEqual(transport.value(), b"ERROR line too long (limit 1024 bytes)\r\n")
        self.assertEqual(self.backend._users, {})

    def test_timeLimit(self) -> None:
        protocol, transport = self.connect()
        # Answered, but the connection is still open (the client reads nothing).
        protocol.dataReceived(b"dave\r\nhello\r\n")
        self.clock.advance(30.0)
        self.assertTrue(transport.aborted)
