"""The RFC 1288 finger frontend, over an in-memory transport and clock."""

from dataclasses import replace

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial import unittest
from zope.interface import implementer

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import FORWARDING_DENIED, LIST_DENIED, FingerSettings, parseQuery
from finger.interfaces import IFingerFactory, IFingerVerboseService, UserNotFound
from finger.querylog import QueryLog

TICK = 0.001


class RecordingQueryLog(QueryLog):
    """Keeps the recorded queries instead of logging them."""

    def __init__(self):
        super().__init__(True)
        self.records = []

    def record(self, frontend, peer, query, outcome, started):
        self.records.append((frontend, query, outcome))


class FingerProtocolTests(unittest.TestCase):
    def setUp(self):
        self.service = MemoryFingerService(
            {"alice": "Happy and well", "bob": "Feeling sad: lost his keys"}
        )
        self.clock = task.Clock()
        self.queryLog = RecordingQueryLog()
        self.settings = FingerSettings(
            # One batch of the listing per clock tick.
            cooperate=task.Cooperator(
                terminationPredicateFactory=lambda: lambda: True,
                scheduler=lambda work: self.clock.callLater(TICK, work),
            ).cooperate,
            queryLog=self.queryLog,
            clock=self.clock,
        )

    def configure(self, **settings):
        self.settings = replace(self.settings, **settings)

    def connect(self):
        factory = frontend(IFingerFactory, self.service, self.settings)
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        transport = StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 5000))
        protocol.makeConnection(transport)
        return protocol, transport

    def ask(self, data: bytes) -> StringTransport:
        protocol, transport = self.connect()
        protocol.dataReceived(data)
        for _ in range(100):
            self.clock.advance(TICK)
        return transport

    def startLongListing(self) -> tuple[StringTransport, int]:
        """Ask for a list of 1002 users, one tick on: the transport, and what it has so far."""
        for number in range(1000):
            self.service.setUser(f"user{number:04}", "status")
        protocol, transport = self.connect()
        protocol.dataReceived(b"\r\n")
        self.clock.advance(TICK)
        return transport, len(transport.value())

    def test_knownUser(self):
        transport = self.ask(b"alice\r\n")
        self.assertEqual(transport.value(), b"Happy and well\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.queryLog.records, [("finger", "alice", "found")])

    def test_bareLinefeedIsAccepted(self):
        self.assertEqual(self.ask(b"alice\n").value(), b"Happy and well\r\n")

    def test_unknownUser(self):
        transport = self.ask(b"zed\r\n")
        self.assertEqual(transport.value(), b"No such user: zed\r\n")
        self.assertEqual(self.queryLog.records, [("finger", "zed", "no such user")])

    def test_verboseFormAnyCaseAnySpaces(self):
        for query in (b"/W alice\r\n", b"/w    alice\r\n", b"  /Walice\r\n"):
            self.assertEqual(self.ask(query).value(), b"Happy and well\r\n")

    def test_emptyQueryListsEveryone(self):
        transport = self.ask(b"\r\n")
        self.assertEqual(
            transport.value(),
            b"alice: Happy and well\r\nbob: Feeling sad: lost his keys\r\n",
        )
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.queryLog.records, [("finger", "", "listed 2 users")])

    def test_verboseEmptyQueryListsEveryone(self):
        self.assertIn(b"alice: Happy and well\r\n", self.ask(b"/W\r\n").value())

    def test_listDenied(self):
        self.configure(listUsers=False)
        self.assertEqual(self.ask(b"\r\n").value(), LIST_DENIED.encode() + b"\r\n")

    def test_forwardingDenied(self):
        for query in (b"alice@example.org\r\n", b"@example.org\r\n", b"/W a@b@c\r\n"):
            self.assertEqual(self.ask(query).value(), FORWARDING_DENIED.encode() + b"\r\n")

    def test_controlCharactersInStatusNeverReachTheWire(self):
        self.service.setUser("eve", "\x1b[31mred\x07 \x00bell\x7f\x9b2J\tend")
        self.assertEqual(self.ask(b"eve\r\n").value(), b"[31mred bell2J\tend\r\n")

    def test_multiLineStatusUsesCrlf(self):
        self.service.setUser("carol", "line one\nline two\r\nline three")
        self.assertEqual(self.ask(b"carol\r\n").value(), b"line one\r\nline two\r\nline three\r\n")

    def test_controlCharactersInListedStatuses(self):
        self.service.setUser("eve", "a\x1bb\nsecond")
        self.assertIn(b"eve: ab\r\n    second\r\n", self.ask(b"\r\n").value())

    def test_invalidUtf8GetsAnErrorNotATraceback(self):
        transport = self.ask(b"\xff\xfe\r\n")
        self.assertEqual(transport.value(), b"Query is not valid UTF-8\r\n")
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_lineTooLong(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"a" * 1025)
        self.assertEqual(transport.value(), b"Query too long (limit 1024 bytes)\r\n")
        # Whatever the client still sends is discarded, not buffered.
        protocol.dataReceived(b"a" * 100_000)
        self.assertEqual(protocol.pending, b"")

    def test_lineOfExactlyTheLimitIsAQuery(self):
        name = "x" * 1024
        self.assertEqual(self.ask(name.encode() + b"\n").value(), f"No such user: {name}\r\n".encode())

    def test_idleClientIsDisconnected(self):
        protocol, transport = self.connect()
        self.clock.advance(59)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(2)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.queryLog.records, [("finger", "", "idle timeout")])

    def test_slowClientIsDisconnectedAfterTheTimeoutEvenIfItTrickles(self):
        self.configure(timeout=10)
        protocol, transport = self.connect()
        for _ in range(11):
            protocol.dataReceived(b"a")
            self.clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_onlyTheFirstQueryIsAnswered(self):
        transport = self.ask(b"alice\r\nbob\r\n")
        self.assertEqual(transport.value(), b"Happy and well\r\n")

    def test_backendErrorIsAnErrorLine(self):
        self.service.getUser = lambda name: defer.fail(RuntimeError("disk on fire"))
        transport = self.ask(b"alice\r\n")
        self.assertEqual(transport.value(), b"Error: could not look up alice\r\n")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_userRemovedDuringListingIsLeftOut(self):
        names = ("alice", "bob")
        self.service.snapshot = lambda: self.service  # a view that changes under the listing
        self.service.getUsers = lambda: defer.succeed(names)
        self.service.getUser = lambda name: (
            defer.fail(UserNotFound(name)) if name == "bob" else defer.succeed("here")
        )
        self.assertEqual(self.ask(b"\r\n").value(), b"alice: here\r\n")

    def test_listingPausesWhileTheClientDoesNotRead(self):
        transport, written = self.startLongListing()
        self.assertGreater(written, 0)
        transport.producer.pauseProducing()
        for _ in range(50):
            self.clock.advance(TICK)
        self.assertEqual(len(transport.value()), written)
        transport.producer.resumeProducing()
        for _ in range(50):
            self.clock.advance(TICK)
        self.assertEqual(transport.value().count(b"\r\n"), 1002)  # with alice and bob
        self.assertTrue(transport.disconnecting)

    def test_clientGoneDuringListingStopsIt(self):
        transport, written = self.startLongListing()
        transport.producer.stopProducing()
        for _ in range(50):
            self.clock.advance(TICK)
        self.assertEqual(len(transport.value()), written)
        self.assertEqual(self.flushLoggedErrors(), [])


class ParseQueryTests(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(parseQuery(""), (False, ""))
        self.assertEqual(parseQuery("alice"), (False, "alice"))
        self.assertEqual(parseQuery("/W"), (True, ""))
        self.assertEqual(parseQuery("/w  alice "), (True, "alice"))
        self.assertEqual(parseQuery("alice@host"), (False, "alice@host"))


# The /W query uses IFingerVerboseService when offered.


@implementer(IFingerVerboseService)
class VerboseMemory(MemoryFingerService):
    def getUserVerbose(self, name):
        return self.getUser(name).addCallback(lambda status: f"{status}\nShell: /bin/sh")


def ask(service, query: bytes) -> bytes:
    factory = IFingerFactory(service)
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 7979))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(query)
    protocol.connectionLost(None)  # the server closed after answering
    return transport.value()


class VerboseQueryTests(unittest.TestCase):
    def test_verboseQueryUsesVerboseLookup(self):
        service = VerboseMemory({"alice": "Happy"})
        self.assertEqual(ask(service, b"/W alice\r\n"), b"Happy\r\nShell: /bin/sh\r\n")
        self.assertEqual(ask(service, b"/w   alice\r\n"), b"Happy\r\nShell: /bin/sh\r\n")

    def test_plainQueryUsesPlainLookup(self):
        service = VerboseMemory({"alice": "Happy"})
        self.assertEqual(ask(service, b"alice\r\n"), b"Happy\r\n")

    def test_verboseUnknownUser(self):
        service = VerboseMemory({"alice": "Happy"})
        self.assertEqual(ask(service, b"/W bob\r\n"), b"No such user: bob\r\n")

    def test_backendWithoutVerboseAnswersPlainly(self):
        service = MemoryFingerService({"alice": "Happy"})
        self.assertEqual(ask(service, b"/W alice\r\n"), b"Happy\r\n")

    def test_verboseLookupFailureIsReported(self):
        @implementer(IFingerVerboseService)
        class Broken(MemoryFingerService):
            def getUserVerbose(self, name):
                return defer.fail(UserNotFound(name))

        self.assertEqual(
            ask(Broken({"alice": "Happy"}), b"/W alice\r\n"), b"No such user: alice\r\n"
        )
