"""
finger.inherited: a UNIX socket from systemd is served and its file left to
systemd; the adopt: endpoint of --workers.
"""

import os
import shutil
import socket
import stat
import tempfile

import pytest
from twisted.internet import endpoints, protocol, reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.testing import MemoryReactor
from twisted.trial import unittest

from finger.inherited import (
    AdoptedServerEndpoint,
    AdoptError,
    InheritedSocketError,
    InheritedUNIXEndpoint,
    adoptDescription,
    familyName,
    inheritedUNIXIndex,
    isInherited,
    withoutSocketFileChanges,
)
from finger.listen import ListenError, listen


@pytest.mark.parametrize(
    "description, index",
    [
        ("systemd:domain=UNIX:index=2", 2),
        ("systemd:index=0:domain=unix", 0),
        ("systemd:domain=INET6:index=0", None),
        ("unix:/run/finger/setter.sock", None),
        ("tcp:1079", None),
    ],
)
def test_inheritedUNIXIndex(description, index):
    assert inheritedUNIXIndex(description) == index


def test_badIndexIsAConfigurationError():
    with pytest.raises(InheritedSocketError, match="not a number"):
        inheritedUNIXIndex("systemd:domain=UNIX:index=x")


@pytest.mark.parametrize(
    "description, inherited",
    [
        ("systemd:domain=UNIX:index=0", True),
        ("adopt:fd=5:family=UNIX", True),
        (" ADOPT:fd=5", True),
        ("systemd:domain=INET6:index=0", False),
        ("unix:/run/finger/setter.sock", False),
        ("tcp:1079", False),
    ],
)
def test_isInherited(description, inherited):
    assert isInherited(description) is inherited


def test_descriptionRoundTripsThroughTheEndpointParser():
    reactor = MemoryReactor()
    endpoint = endpoints.serverFromString(reactor, adoptDescription(7, socket.AF_INET6))
    assert isinstance(endpoint, AdoptedServerEndpoint)
    assert (endpoint.fd, endpoint.family) == (7, socket.AF_INET6)


@pytest.mark.parametrize("description", [
    "adopt:fd=x", "adopt:fd=3:family=APPLETALK", "adopt:fd=3:color=blue",
])
def test_badDescriptionsAreClearErrors(description):
    with pytest.raises(AdoptError):
        endpoints.serverFromString(MemoryReactor(), description)


def test_unknownFamilyCannotBePassed():
    with pytest.raises(AdoptError):
        familyName(12345)


def test_listenAdoptsTheDescriptorAndClosesOurs():
    reactor = MemoryReactor()
    listening = socket.socket()
    fd = os.dup(listening.fileno())
    listening.close()
    d = AdoptedServerEndpoint(reactor, fd, socket.AF_INET).listen(protocol.ServerFactory())
    assert d.called
    assert reactor.adoptedPorts[0][0] == fd
    with pytest.raises(OSError):
        os.fstat(fd)


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)
        self.transport.loseConnection()


class InheritedUNIXEndpointTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp(prefix="finger-inherited-")
        self.addCleanup(shutil.rmtree, directory, True)
        self.path = os.path.join(directory, "s.sock")
        self.listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listening.bind(self.path)
        os.chmod(self.path, 0o640)  # as systemd made it (SocketMode=)
        self.listening.listen()
        self.addCleanup(self.listening.close)

    async def test_servesAndLeavesTheFileAlone(self):
        endpoint = withoutSocketFileChanges(
            AdoptedStreamServerEndpoint(reactor, os.dup(self.listening.fileno()), socket.AF_UNIX)
        )
        self.assertIsInstance(endpoint, InheritedUNIXEndpoint)
        factory = protocol.Factory.forProtocol(Echo)
        port = await endpoint.listen(factory)
        # Not chmod-ed (Twisted's adopted unix port sets 0666).
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)
        answer: Deferred[bytes] = Deferred()

        class Client(protocol.Protocol):
            def connectionMade(self):
                self.transport.write(b"hi")

            def dataReceived(self, data):
                answer.callback(data)

        await protocol.ClientCreator(reactor, Client).connectUNIX(self.path)
        self.assertEqual(await answer, b"hi")
        await port.stopListening()
        # systemd's file is still there (Twisted's adopted unix port unlinks it).
        self.assertTrue(stat.S_ISSOCK(os.stat(self.path).st_mode))

    def test_missingIndexIsAStartupError(self):
        from twisted.application import service

        with self.assertRaises(ListenError) as caught:
            listen(service.MultiService(), "setter", "systemd:domain=UNIX:index=3", protocol.Factory())
        self.assertIn("no socket was inherited from systemd at that index", str(caught.exception))

    def test_otherEndpointsAreUnchanged(self):
        tcp = AdoptedStreamServerEndpoint(reactor, 99, socket.AF_INET)
        self.assertIs(withoutSocketFileChanges(tcp), tcp)
