"""
What the finger and setter frontends log: one structured C{finger.query}
event per query (frontend, peer, query, outcome, duration), and a backend
failure logged exactly once, naming what was asked, with the client getting
a one-line error instead of a traceback.
"""

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import FingerSettings
from finger.frontends.setter import SetterSettings
from finger.interfaces import (
    IFingerFactory,
    IFingerService,
    IFingerSetterFactory,
    IFingerSetterService,
    StoreError,
)
from finger.querylog import QueryLog

PEER = IPv4Address("TCP", "192.0.2.7", 40000)


class BackendBroke(Exception):
    """An unexpected backend failure (not UserNotFound or StoreError)."""


DISK_ON_FIRE = BackendBroke("disk on fire")


@implementer(IFingerService, IFingerSetterService)
class BrokenBackend:
    def __init__(self, setError: Exception = DISK_ON_FIRE) -> None:
        self.setError = setError

    def getUser(self, name):
        return defer.fail(BackendBroke("disk on fire"))

    def getUsers(self):
        return defer.fail(BackendBroke("disk on fire"))

    def setUser(self, name, status):
        return defer.fail(self.setError)


class QueryEventsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def ask(self, factory, data: bytes) -> bytes:
        protocol = factory.buildProtocol(PEER)
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        protocol.dataReceived(data)
        protocol.connectionLost(None)  # the server closed after answering
        return transport.value()

    def queryEvents(self) -> list[dict]:
        return [e for e in self.events if e.get("log_namespace") == "finger.query"]

    def failureEvents(self) -> list[dict]:
        return [e for e in self.events if "log_failure" in e]

    def assertOneQueryEvent(self, frontend: str, query: str, outcome: str) -> None:
        [event] = self.queryEvents()
        self.assertEqual(
            {k: event[k] for k in ("frontend", "peer", "query", "outcome")},
            {"frontend": frontend, "peer": "192.0.2.7:40000", "query": query, "outcome": outcome},
        )
        self.assertIsInstance(event["duration"], float)
        self.assertGreaterEqual(event["duration"], 0)

    def test_fingerFoundIsOneEvent(self) -> None:
        factory = IFingerFactory(MemoryFingerService({"alice": "Happy"}))
        self.assertEqual(self.ask(factory, b"alice\r\n"), b"Happy\r\n")
        self.assertOneQueryEvent("finger", "alice", "found")
        self.assertEqual(self.failureEvents(), [])

    def test_fingerBackendFailureLoggedOnceWithTheName(self) -> None:
        factory = IFingerFactory(BrokenBackend())
        self.assertEqual(self.ask(factory, b"alice\r\n"), b"Error: could not look up alice\r\n")
        self.assertOneQueryEvent("finger", "alice", "error")
        [failure] = self.failureEvents()
        self.assertEqual(failure["name"], "alice")
        self.assertEqual(len(self.flushLoggedErrors(BackendBroke)), 1)

    def test_fingerListFailureLoggedOnce(self) -> None:
        factory = IFingerFactory(BrokenBackend())
        self.assertEqual(self.ask(factory, b"\r\n"), b"Error: could not list users\r\n")
        self.assertOneQueryEvent("finger", "", "error")
        self.assertEqual(len(self.failureEvents()), 1)
        self.assertEqual(len(self.flushLoggedErrors(BackendBroke)), 1)

    def test_setterSetIsOneEvent(self) -> None:
        backend = MemoryFingerService()
        factory = IFingerSetterFactory(backend)
        self.assertEqual(self.ask(factory, b"dave\r\nOut to lunch\r\n"), b"OK\r\n")
        self.assertOneQueryEvent("setter", "dave", "set")
        self.assertEqual(self.failureEvents(), [])

    def test_setterStoreErrorIsAnOutcomeNotATraceback(self) -> None:
        factory = IFingerSetterFactory(BrokenBackend(StoreError("store is read-only")))
        self.assertEqual(self.ask(factory, b"dave\r\nhi\r\n"), b"ERROR store is read-only\r\n")
        self.assertOneQueryEvent("setter", "dave", "ERROR store is read-only")
        self.assertEqual(self.failureEvents(), [])

    def test_setterBackendFailureLoggedOnceWithTheName(self) -> None:
        factory = IFingerSetterFactory(BrokenBackend())
        self.assertEqual(
            self.ask(factory, b"dave\r\nhi\r\n"), b"ERROR the status could not be stored\r\n"
        )
        self.assertOneQueryEvent("setter", "dave", "error")
        [failure] = self.failureEvents()
        self.assertEqual(failure["name"], "dave")
        self.assertEqual(len(self.flushLoggedErrors(BackendBroke)), 1)

    def test_disabledQueryLogLogsNoQueries(self) -> None:
        off = QueryLog(enabled=False)
        finger = frontend(IFingerFactory, MemoryFingerService({"alice": "Happy"}), FingerSettings(queryLog=off))
        setter = frontend(IFingerSetterFactory, MemoryFingerService(), SetterSettings(queryLog=off))
        self.assertEqual(self.ask(finger, b"alice\r\n"), b"Happy\r\n")
        self.assertEqual(self.ask(setter, b"dave\r\nhi\r\n"), b"OK\r\n")
        self.assertEqual(self.queryEvents(), [])


class WriteEventsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def written(self) -> list[dict]:
        return [e for e in self.events if e.get("log_namespace") == "finger.query"]

    def test_writeHasAccountAndTarget(self) -> None:
        import time

        QueryLog().record("api", "192.0.2.7:1", "PUT /api/users/bob/status", "403 forbidden",
                          time.monotonic(), account="alice", target="bob")
        [event] = self.written()
        self.assertEqual((event["account"], event["target"], event["outcome"]),
                         ("alice", "bob", "403 forbidden"))
        from twisted.logger import formatEvent

        self.assertIn("of 'bob' by alice from 192.0.2.7:1: 403 forbidden", formatEvent(event))

    def test_writesLoggedEvenWhenQueriesAreNot(self) -> None:
        import time

        log = QueryLog(enabled=False)
        log.record("api", "p", "GET /api/users", "200", time.monotonic())
        self.assertEqual(self.written(), [])
        log.record("api", "p", "PUT /api/users/bob/status", "401", time.monotonic(), target="bob")
        [event] = self.written()
        self.assertIsNone(event["account"])
