"""The status setter frontend, over an in-memory transport."""

import os
import pwd
import socket

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.setter import NOT_LOCAL, SetterSettings, localRefusal
from finger.interfaces import IFingerSetterFactory, StoreError
from finger.peercred import PeerCredentials


class SetterProtocolTests(unittest.TestCase):
    """The classic protocol, on a setter open to TCP (C{--setter tcp:...})."""

    def setUp(self):
        self.service = MemoryFingerService({"alice": "old"})
        self.clock = task.Clock()
        self.factory = frontend(
            IFingerSetterFactory,
            self.service,
            SetterSettings(clock=self.clock, allowUnauthenticated=True),
        )

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


class SocketTransport(StringTransport):
    """A StringTransport whose handle is a real socket (for SO_PEERCRED)."""

    def __init__(self, handle: socket.socket) -> None:
        super().__init__(peerAddress=UNIXAddress(None))
        self.handle = handle

    def getHandle(self) -> socket.socket:
        return self.handle


class LocalSetterTests(unittest.TestCase):
    """The default setter: who may set what is the kernel's word (SO_PEERCRED)."""

    def setUp(self):
        self.service = MemoryFingerService({"alice": "old"})
        self.factory = frontend(
            IFingerSetterFactory, self.service, SetterSettings(clock=task.Clock())
        )

    def status(self, name):
        return self.successResultOf(self.service.getUser(name))

    def test_tcpIsRefusedUnlessAllowed(self):
        protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 5000))
        protocol.makeConnection(transport)
        protocol.dataReceived(b"alice\r\nforged\r\n")
        self.assertEqual(transport.value(), (NOT_LOCAL + "\r\n").encode())
        self.assertEqual(self.status("alice"), "old")

    def connectLocally(self):
        server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(server.close)
        self.addCleanup(client.close)
        protocol = self.factory.buildProtocol(UNIXAddress(None))
        transport = SocketTransport(server)
        protocol.makeConnection(transport)
        return protocol, transport

    def test_theKernelNamesTheLocalPeer(self):
        protocol, transport = self.connectLocally()
        self.assertEqual(protocol.credentials.uid, os.geteuid())
        self.assertEqual(protocol.credentials.pid, os.getpid())
        self.assertIn(f"uid {os.geteuid()}", protocol.peerName())

    def test_ownStatusIsSet(self):
        own = pwd.getpwuid(os.geteuid()).pw_name
        protocol, transport = self.connectLocally()
        protocol.dataReceived(own.encode() + b"\nmine\n")
        self.assertEqual(transport.value(), b"OK\r\n")
        self.assertEqual(self.status(own), "mine")

    def test_anotherUsersStatusOnlyAsRoot(self):
        protocol, transport = self.connectLocally()
        protocol.dataReceived(b"alice\nsomeone\n")
        if os.geteuid() == 0:
            self.assertEqual(transport.value(), b"OK\r\n")
            self.assertEqual(self.status("alice"), "someone")
        else:
            self.assertTrue(transport.value().startswith(b"ERROR you are "))
            self.assertEqual(self.status("alice"), "old")


NOBODY = pwd.getpwnam("nobody")


class LocalRefusalTests(unittest.SynchronousTestCase):
    """The rule: root anyone's, a user only their own login name's."""

    def credentials(self, uid):
        return PeerCredentials(pid=1, uid=uid, gid=uid)

    def test_rootMaySetAnyone(self):
        self.assertIsNone(localRefusal(self.credentials(0), "alice"))
        self.assertIsNone(localRefusal(self.credentials(0), "nobody"))

    def test_aUserMaySetOnlyTheirOwn(self):
        nobody = self.credentials(NOBODY.pw_uid)
        self.assertIsNone(localRefusal(nobody, "nobody"))
        self.assertEqual(
            localRefusal(nobody, "alice"), "ERROR you are nobody: you may set only your own status"
        )
        self.assertIsNotNone(localRefusal(nobody, "Nobody"))

    def test_aUidWithoutALoginNameMaySetNothing(self):
        uid = 3_999_999
        self.assertRaises(KeyError, pwd.getpwuid, uid)
        self.assertEqual(
            localRefusal(self.credentials(uid), ""),
            f"ERROR uid {uid} has no login name, so no status of its own",
        )
