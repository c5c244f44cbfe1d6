"""The finger frontend's C{/W} query uses IFingerVerboseService when offered."""

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial import unittest
from zope.interface import implementer

import finger.frontends.finger  # noqa: F401 (registers the adapter)
from finger.backends.memory import MemoryFingerService
from finger.interfaces import IFingerFactory, IFingerVerboseService, UserNotFound


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
