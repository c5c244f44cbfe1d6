"""Unit tests of finger.client: the library against real loopback servers, the filter, the parser."""

from __future__ import annotations

import socket

from twisted.internet import defer, protocol, reactor
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase

from finger import client


class Scripted(protocol.Protocol):
    """A server that records the query, then sends C{factory.reply} and closes."""

    def connectionMade(self) -> None:
        self.buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        if b"\n" in self.buffer:
            self.factory.queries.append(self.buffer)
            self.factory.answer(self)


def listenScripted(testCase, answer) -> int:
    factory = protocol.ServerFactory.forProtocol(Scripted)
    factory.queries = []
    factory.answer = answer
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    testCase.addCleanup(port.stopListening)
    testCase.factory = factory
    return port.getHost().port


def replyAndClose(data: bytes):
    def answer(proto):
        proto.transport.write(data)
        proto.transport.loseConnection()

    return answer


def closedPort() -> tuple[socket.socket, int]:
    """A bound but not listening socket: connecting to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


class FingerLoopbackTests(TestCase):
    """L{client.finger} against servers in this process, over real TCP."""

    @defer.inlineCallbacks
    def test_sendsQueryAndReadsUntilClose(self):
        port = listenScripted(self, replyAndClose(b"Happy and well\r\n"))
        reply = yield client.finger("alice", "127.0.0.1", port)
        self.assertEqual(reply, "Happy and well\r\n")
        self.assertEqual(self.factory.queries, [b"alice\r\n"])

    @defer.inlineCallbacks
    def test_invalidUtf8IsReplaced(self):
        port = listenScripted(self, replyAndClose(b"caf\xe9 \xc3\xa9\r\n"))
        reply = yield client.finger("", "127.0.0.1", port)
        self.assertEqual(reply, "caf\ufffd \xe9\r\n")
        self.assertEqual(self.factory.queries, [b"\r\n"])

    @defer.inlineCallbacks
    def test_refused(self):
        s, port = closedPort()
        self.addCleanup(s.close)
        with self.assertRaises(client.ConnectionRefused) as caught:
            yield client.finger("alice", "127.0.0.1", port)
        self.assertEqual(str(caught.exception), f"127.0.0.1:{port} refused the connection")

    @defer.inlineCallbacks
    def test_replyTooLarge(self):
        """A server that keeps sending is cut at the cap."""
        sent = []

        def endless(proto):
            def more():
                if proto.transport.connected and len(sent) < 1000:
                    sent.append(proto.transport.write(b"x" * 4096))
                    reactor.callLater(0, more)

            more()

        port = listenScripted(self, endless)
        with self.assertRaises(client.ReplyTooLarge) as caught:
            yield client.finger("alice", "127.0.0.1", port, maxSize=10000)
        self.assertIn("sent more than 10000 bytes", str(caught.exception))
        self.assertLess(len(sent), 1000)

    @defer.inlineCallbacks
    def test_queryWithLineBreakRejected(self):
        with self.assertRaises(ValueError):
            yield client.finger("alice\r\nbob", "127.0.0.1", 79)


class FakeEndpoint:
    """Connects the factory's protocol to a StringTransport when told to."""

    def __init__(self) -> None:
        self.connecting = defer.Deferred()

    def connect(self, factory):
        self.factory = factory
        return self.connecting

    def connectNow(self):
        proto = self.factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        self.connecting.callback(proto)
        return proto, transport


class FingerTimeoutTests(SynchronousTestCase):
    """The deadline covers connecting and reading (a fake clock drives it)."""

    def setUp(self):
        self.clock = Clock()
        self.endpoint = FakeEndpoint()
        self.d = client.queryEndpoint(
            self.endpoint, "alice", "far:79", timeout=10, maxSize=100, clock=self.clock
        )

    def test_connectTimeout(self):
        self.clock.advance(9.9)
        self.assertNoResult(self.d)
        self.clock.advance(0.2)
        failure = self.failureResultOf(self.d, client.TimedOut)
        self.assertEqual(failure.getErrorMessage(), "far:79 did not answer within 10 seconds")

    def test_readTimeoutAborts(self):
        proto, transport = self.endpoint.connectNow()
        self.assertEqual(transport.value(), b"alice\r\n")
        proto.dataReceived(b"partial")
        self.clock.advance(10)
        self.assertTrue(transport.disconnecting)
        self.assertNoResult(self.d)
        proto.connectionLost(_aborted())
        self.failureResultOf(self.d, client.TimedOut)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_answerInTimeStopsTimer(self):
        proto, transport = self.endpoint.connectNow()
        proto.dataReceived(b"ok\r\n")
        proto.connectionLost(_done())
        self.assertEqual(self.successResultOf(self.d), "ok\r\n")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_sizeCapCounts(self):
        proto, transport = self.endpoint.connectNow()
        proto.dataReceived(b"x" * 100)
        self.assertFalse(transport.disconnecting)
        proto.dataReceived(b"y")
        self.assertTrue(transport.disconnecting)
        proto.connectionLost(_aborted())
        self.failureResultOf(self.d, client.ReplyTooLarge)

    def test_cancelAbortsConnection(self):
        proto, transport = self.endpoint.connectNow()
        self.d.cancel()
        self.assertTrue(transport.disconnecting)
        self.failureResultOf(self.d, defer.CancelledError)
        proto.connectionLost(_aborted())  # Arrives later; must not fire again.

    def test_abnormalClose(self):
        proto, transport = self.endpoint.connectNow()
        proto.connectionLost(_aborted())
        failure = self.failureResultOf(self.d, client.ConnectFailed)
        self.assertIn("far:79 closed the connection abnormally", failure.getErrorMessage())


def _done():
    from twisted.internet.error import ConnectionDone
    from twisted.python.failure import Failure

    return Failure(ConnectionDone())


def _aborted():
    from twisted.internet.error import ConnectionAborted
    from twisted.python.failure import Failure

    return Failure(ConnectionAborted())


class TerminalSafeTests(SynchronousTestCase):
    def test_escapeSequencesShownInCaretNotation(self):
        self.assertEqual(
            client.terminalSafe("\x1b[2J\x1b]0;owned\x07hi\x7f"), "^[[2J^[]0;owned^Ghi^?"
        )

    def test_keepsTabAndNormalisesLineEnds(self):
        self.assertEqual(client.terminalSafe("a\tb\r\nc\rd\ne"), "a\tb\nc\nd\ne")

    def test_nonAsciiReplacedUnlessEightBit(self):
        self.assertEqual(client.terminalSafe("caf\xe9"), "caf?")
        self.assertEqual(client.terminalSafe("caf\xe9", eightBit=True), "caf\xe9")

    def test_eightBitStillNeutralisesControls(self):
        # C1 CSI, a bidi override and ESC stay neutralised with --8bit.
        self.assertEqual(
            client.terminalSafe("\x9b31m\u202eevil\x1b", eightBit=True), "?31m?evil^["
        )


class ParseHostPortTests(SynchronousTestCase):
    def test_forms(self):
        self.assertEqual(client.parseHostPort("example.org"), ("example.org", 79))
        self.assertEqual(client.parseHostPort("example.org:7979"), ("example.org", 7979))
        self.assertEqual(client.parseHostPort("[::1]:7979"), ("::1", 7979))
        self.assertEqual(client.parseHostPort("::1"), ("::1", 79))

    def test_errors(self):
        for bad in ["", "a b", "h:0", "h:70000", "h:x", "[::1", "a:b:c", "ex/ample", "h:\u0661"]:
            with self.assertRaises(ValueError, msg=bad):
                client.parseHostPort(bad)

    def test_formatAddress(self):
        self.assertEqual(client.formatAddress("::1", 79), "[::1]:79")
        self.assertEqual(client.formatAddress("h", 79), "h:79")


class CommandOptionsTests(SynchronousTestCase):
    def parse(self, *argv):
        options = client.ClientOptions()
        options.parseOptions(list(argv))
        return options["query"], options["host"], options["port"]

    def test_forms(self):
        self.assertEqual(self.parse("alice@h:7979"), ("alice", "h", 7979))
        self.assertEqual(self.parse("@h"), ("", "h", 79))
        self.assertEqual(self.parse("-l", "alice@h"), ("/W alice", "h", 79))
        self.assertEqual(self.parse("-l", "@h"), ("/W", "h", 79))
        self.assertEqual(self.parse("alice@h1@h2:80"), ("alice@h1", "h2", 80))
        self.assertEqual(self.parse("alice"), ("alice", "localhost", 79))

    def test_badHost(self):
        from twisted.python.usage import UsageError

        with self.assertRaises(UsageError):
            self.parse("alice@bad host")
