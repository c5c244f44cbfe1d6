"""The status setter frontend, over an in-memory transport."""

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.setter import SetterSettings
from finger.interfaces import IFingerSetterFactory, StoreError


class SetterProtocolTests(unittest.TestCase):
    def setUp(self):
        self.service = MemoryFingerService({"alice": "old"})
        self.clock = task.Clock()
        self.factory = frontend(IFingerSetterFactory, self.service, SetterSettings(clock=self.clock))

    def connect(self):
        protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 5000))
        protocol.makeConnection(transport)
        return protocol, transport

    def status(self, name):
        return self.successResultOf(self.service.getUser(name))

    def test_setsStatusAndAnswersOK(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\nGone fishing\r\n")
        self.assertEqual(transport.value(), b"OK\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.status("alice"), "Gone fishing")

    def test_linesMayArriveInPieces(self):
        protocol, transport = self.connect()
        for byte in b"bob\nAt lunch\n":
            protocol.dataReceived(bytes([byte]))
        self.assertEqual(transport.value(), b"OK\r\n")
        self.assertEqual(self.status("bob"), "At lunch")

    def test_controlCharactersAreStrippedFromTheStatus(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\n\x1b[2Jclear\x07\r\n")
        self.assertEqual(self.status("alice"), "[2Jclear")

    def test_invalidNameIsASpecificError(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"al ice\r\nhi\r\n")
        self.assertEqual(transport.value(), b"ERROR invalid user name: the name contains ' '\r\n")

    def test_storeErrorReachesTheClient(self):
        self.service.setUser = lambda name, status: defer.fail(StoreError("disk full"))
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\nhi\r\n")
        self.assertEqual(transport.value(), b"ERROR disk full\r\n")

    def test_unexpectedFailureIsLoggedAndReportedGenerically(self):
        self.service.setUser = lambda name, status: defer.fail(RuntimeError("boom"))
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\nhi\r\n")
        self.assertEqual(transport.value(), b"ERROR the status could not be stored\r\n")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_lineTooLong(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\n" + b"x" * 2000)
        self.assertEqual(transport.value(), b"ERROR line too long (limit 1024 bytes)\r\n")
        self.assertEqual(self.status("alice"), "old")

    def test_invalidUtf8(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\r\n\xff\r\n")
        self.assertEqual(transport.value(), b"ERROR not valid UTF-8\r\n")
        self.assertEqual(self.status("alice"), "old")

    def test_statusWithoutNewlineCountsWhenTheClientHalfCloses(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\nno newline")
        protocol.readConnectionLost()
        self.assertEqual(transport.value(), b"OK\r\n")
        self.assertEqual(self.status("alice"), "no newline")

    def test_halfCloseWhileTheStoreIsStillWritingStillGetsTheAnswer(self):
        pending = defer.Deferred()
        self.service.setUser = lambda name, status: pending
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\nslow store\n")
        protocol.readConnectionLost()
        self.assertFalse(transport.disconnecting)
        pending.callback(None)
        self.assertEqual(transport.value(), b"OK\r\n")
        self.assertTrue(transport.disconnecting)

    def test_halfCloseAfterOnlyTheName(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\n")
        protocol.readConnectionLost()
        self.assertEqual(
            transport.value(), b"ERROR expected a status line after the user name\r\n"
        )
        self.assertEqual(self.status("alice"), "old")

    def test_idleTimeout(self):
        protocol, transport = self.connect()
        protocol.dataReceived(b"alice\n")
        self.clock.advance(61)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.status("alice"), "old")
