"""Unit tests for finger.limits: connection limits applied in listen()."""

from __future__ import annotations

from twisted.application import service
from twisted.internet import interfaces
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.protocol import Factory, Protocol, ServerFactory
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from finger import tap
from finger.limits import (
    DEFAULT_LIMITS,
    MAX_LINGERING_REFUSALS,
    REFUSAL_LINGER_SECONDS,
    LimitedFactory,
    Limits,
    RefusalProtocol,
)
from finger.listen import ListeningService, listen
from finger.tap.errors import StartupError


@implementer(interfaces.IHalfCloseableDescriptor)
class HalfCloseableTransport(StringTransport):
    """A StringTransport that can half-close, like a TCP transport."""

    writeLost = False

    def loseWriteConnection(self) -> None:
        self.writeLost = True


class Recorder(Protocol):
    """Records what happens to it."""

    def __init__(self) -> None:
        self.events: list = []

    def connectionMade(self) -> None:
        self.events.append("made")

    def dataReceived(self, data: bytes) -> None:
        self.events.append(data)
        self.transport.write(b"echo " + data)

    def connectionLost(self, reason) -> None:
        self.events.append("lost")


@implementer(interfaces.IHalfCloseableProtocol, interfaces.IHandshakeListener)
class HalfCloseableRecorder(Recorder):
    def readConnectionLost(self) -> None:
        self.events.append("readLost")

    def writeConnectionLost(self) -> None:
        self.events.append("writeLost")

    def handshakeCompleted(self) -> None:
        self.events.append("handshake")


class RecorderFactory(ServerFactory):
    protocol = Recorder
    refusalMessage: str | None = "Too many connections, try again later"

    def __init__(self) -> None:
        self.built: list[Recorder] = []

    def buildProtocol(self, addr):
        p = super().buildProtocol(addr)
        self.built.append(p)
        return p


def address(host: str = "10.0.0.1", port: int = 1234) -> IPv4Address:
    return IPv4Address("TCP", host, port)


class LimitedFactoryTests(TestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.wrapped = RecorderFactory()
        self.factory = LimitedFactory(
            self.wrapped, Limits(maxConnections=3, maxConnectionsPerPeer=2), "test", self.clock
        )
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def connect(self, host: str = "10.0.0.1", transport=None):
        """Accept one connection from C{host}; return (protocol, transport)."""
        peer = address(host)
        protocol = self.factory.buildProtocol(peer)
        transport = transport or HalfCloseableTransport(peerAddress=peer)
        protocol.makeConnection(transport)
        return protocol, transport

    def logged(self, fragment: str) -> list[dict]:
        return [e for e in self.events if fragment in e.get("log_format", "")]

    def test_belowTheLimitConnectionsAreServed(self) -> None:
        for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            protocol, transport = self.connect(host)
            protocol.dataReceived(b"hi")
            self.assertEqual(transport.value(), b"echo hi")
        self.assertEqual(len(self.factory.protocols), 3)

    def test_beyondMaxConnectionsRefusedWithMessage(self) -> None:
        served = [self.connect(host) for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3")]
        refused, transport = self.connect("10.0.0.4")
        self.assertIsInstance(refused, RefusalProtocol)
        self.assertEqual(transport.value(), b"Too many connections, try again later\r\n")
        self.assertTrue(transport.writeLost)
        self.assertEqual(len(self.wrapped.built), 3, "the frontend never saw the refused one")
        # The existing clients keep being served.
        for protocol, t in served:
            protocol.dataReceived(b"still there")
            self.assertEqual(t.value(), b"echo still there")

    def test_closingFreesASlot(self) -> None:
        first, _ = self.connect("10.0.0.1")
        self.connect("10.0.0.2")
        self.connect("10.0.0.3")
        first.connectionLost(None)
        self.assertEqual(self.wrapped.built[0].events[-1], "lost")
        protocol, transport = self.connect("10.0.0.4")
        self.assertNotIsInstance(protocol, RefusalProtocol)
        self.assertEqual(self.factory.perPeer, {"10.0.0.2": 1, "10.0.0.3": 1, "10.0.0.4": 1})

    def test_perPeerLimit(self) -> None:
        self.connect("10.0.0.1")
        second, _ = self.connect("10.0.0.1")
        refused, transport = self.connect("10.0.0.1")
        self.assertIsInstance(refused, RefusalProtocol)
        self.assertEqual(transport.value(), b"Too many connections, try again later\r\n")
        other, _ = self.connect("10.0.0.2")
        self.assertNotIsInstance(other, RefusalProtocol)
        second.connectionLost(None)
        again, _ = self.connect("10.0.0.1")
        self.assertNotIsInstance(again, RefusalProtocol)

    def test_exemptPeersHaveOnlyTheTotalLimit(self) -> None:
        """A trusted reverse proxy carries everyone's connections: no per-peer limit."""
        self.factory = LimitedFactory(
            self.wrapped,
            Limits(maxConnections=7, maxConnectionsPerPeer=2,
                   perPeerExempt=lambda peer: peer == "10.0.0.9"),
            "test", self.clock,
        )
        for _ in range(4):
            self.assertNotIsInstance(self.connect("10.0.0.9")[0], RefusalProtocol)
        for _ in range(2):
            self.assertNotIsInstance(self.connect("10.0.0.1")[0], RefusalProtocol)
        self.assertIsInstance(self.connect("10.0.0.1")[0], RefusalProtocol)  # others still limited
        self.assertNotIsInstance(self.connect("10.0.0.9")[0], RefusalProtocol)
        self.assertIsInstance(self.connect("10.0.0.9")[0], RefusalProtocol)  # the total limit

    def test_addressesWithoutHostHaveNoPerPeerLimit(self) -> None:
        for _ in range(3):
            protocol = self.factory.buildProtocol(UNIXAddress(b"/tmp/sock"))
            protocol.makeConnection(StringTransport())
            self.assertNotIsInstance(protocol, RefusalProtocol)
        self.assertIsInstance(self.factory.buildProtocol(UNIXAddress(b"/tmp/sock")), RefusalProtocol)

    def test_noMessageJustCloses(self) -> None:
        self.wrapped.refusalMessage = None
        for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            self.connect(host)
        refused, transport = self.connect("10.0.0.4")
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)

    def test_refusalLingersThenAborts(self) -> None:
        """
        The refused client gets a moment to read the message (its input is
        discarded), then the connection is aborted.
        """
        for host in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            self.connect(host)
        refused, transport = self.connect("10.0.0.4")
        refused.dataReceived(b"alice\r\n")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(self.factory.lingering, 1)
        self.clock.advance(REFUSAL_LINGER_SECONDS)
        self.assertTrue(transport.disconnected)
        refused.connectionLost(None)
        self.assertEqual(self.factory.lingering, 0)

    def test_lingeringRefusalsAreBounded(self) -> None:
        self.factory.limits = Limits(maxConnections=1, maxConnectionsPerPeer=1)
        self.connect("10.0.0.1")
        transports = [self.connect(f"10.0.1.{i}")[1] for i in range(MAX_LINGERING_REFUSALS + 5)]
        self.assertEqual(self.factory.lingering, MAX_LINGERING_REFUSALS)
        for t in transports[MAX_LINGERING_REFUSALS:]:
            self.assertEqual(t.value(), b"Too many connections, try again later\r\n")
            self.assertTrue(t.disconnecting)

    def test_refusalsAreLoggedOncePerEpisode(self) -> None:
        first, _ = self.connect("10.0.0.1")
        self.connect("10.0.0.2")
        self.connect("10.0.0.3")
        for i in range(10):
            self.connect(f"10.0.1.{i}")
        self.assertEqual(len(self.logged("refusing new ones")), 1)
        first.connectionLost(None)
        [again] = self.logged("accepting connections again")
        self.assertEqual(again["refused"], 10)

    def test_perPeerRefusalsAreLoggedOncePerEpisode(self) -> None:
        first, _ = self.connect("10.0.0.1")
        self.connect("10.0.0.1")
        for _ in range(5):
            self.connect("10.0.0.1")
        self.assertEqual(len(self.logged("refusing more from it")), 1)
        first.connectionLost(None)
        [again] = self.logged("accepting connections from {peer} again")
        self.assertEqual((again["peer"], again["refused"]), ("10.0.0.1", 5))
        self.assertEqual(self.factory._refusedFrom, {})


class WrapperTransparencyTests(TestCase):
    """The wrapper must not hide what the frontends use of their transport."""

    def connect(self, protocolClass):
        wrapped = RecorderFactory()
        wrapped.protocol = protocolClass
        factory = LimitedFactory(wrapped, DEFAULT_LIMITS, "test", MemoryReactorClock())
        peer, host = address("10.0.0.9", 4321), address("127.0.0.1", 79)
        protocol = factory.buildProtocol(peer)
        transport = HalfCloseableTransport(hostAddress=host, peerAddress=peer)
        protocol.makeConnection(transport)
        return protocol, transport, wrapped.built[0]

    def test_peerAndHost(self) -> None:
        _, _, inner = self.connect(Recorder)
        self.assertEqual(inner.transport.getPeer(), address("10.0.0.9", 4321))
        self.assertEqual(inner.transport.getHost(), address("127.0.0.1", 79))

    def test_producerReachesTheRealTransport(self) -> None:
        _, transport, inner = self.connect(Recorder)
        producer = object()
        inner.transport.registerProducer(producer, True)
        self.assertIs(transport.producer, producer)
        inner.transport.unregisterProducer()
        self.assertIsNone(transport.producer)

    def test_halfCloseForwarded(self) -> None:
        wrapper, transport, inner = self.connect(HalfCloseableRecorder)
        half = interfaces.IHalfCloseableProtocol(wrapper, None)
        self.assertIsNotNone(half, "the transport must see a half-closeable protocol")
        half.readConnectionLost()
        half.writeConnectionLost()
        self.assertEqual(inner.events[-2:], ["readLost", "writeLost"])
        inner.transport.loseWriteConnection()
        self.assertTrue(transport.writeLost)

    def test_notHalfCloseableUnlessWrappedIs(self) -> None:
        """
        A transport closes a protocol that cannot half-close on EOF; the
        wrapper must not claim otherwise for it.
        """
        wrapper, _, _ = self.connect(Recorder)
        self.assertFalse(interfaces.IHalfCloseableProtocol.providedBy(wrapper))
        self.assertFalse(interfaces.IHandshakeListener.providedBy(wrapper))

    def test_transportInterfacesProvided(self) -> None:
        """
        The wrapper provides its transport's interfaces (e.g. the web's
        Request.isSecure looks for ISSLTransport), each kind of transport its
        own.
        """

        @implementer(interfaces.ISSLTransport)
        class SSLTransport(HalfCloseableTransport):
            pass

        factory = LimitedFactory(RecorderFactory(), DEFAULT_LIMITS, "test", MemoryReactorClock())
        for transportClass, secure in [(HalfCloseableTransport, False), (SSLTransport, True),
                                       (HalfCloseableTransport, False)]:
            wrapper = factory.buildProtocol(address())
            wrapper.makeConnection(transportClass())
            self.assertTrue(interfaces.ITransport.providedBy(wrapper))
            self.assertEqual(interfaces.ISSLTransport.providedBy(wrapper), secure)

    def test_handshakeForwarded(self) -> None:
        wrapper, _, inner = self.connect(HalfCloseableRecorder)
        self.assertTrue(interfaces.IHandshakeListener.providedBy(wrapper))
        wrapper.handshakeCompleted()
        self.assertEqual(inner.events[-1], "handshake")


class ListenTests(TestCase):
    def test_listenWrapsWithTheGivenLimits(self) -> None:
        top = service.MultiService()
        limits = Limits(5, 2)
        factory = Factory.forProtocol(Recorder)
        listener = listen(top, "test", "tcp:0", factory, reactor=MemoryReactorClock(), limits=limits)
        self.assertIsInstance(listener.factory, LimitedFactory)
        self.assertIs(listener.factory.wrappedFactory, factory)
        self.assertEqual((listener.factory.limits, listener.factory.frontend), (limits, "test"))

    def test_listenDefaultsToTheDefaultLimits(self) -> None:
        listener = listen(
            service.MultiService(), "test", "tcp:0", Factory.forProtocol(Recorder),
            reactor=MemoryReactorClock(),
        )
        self.assertEqual(listener.factory.limits, Limits(1024, 32))


class OptionsTests(TestCase):
    def options(self, *args: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(["--memory", *args])
        return options

    def test_defaults(self) -> None:
        self.assertEqual(self.options().limits, Limits(1024, 32))

    def test_given(self) -> None:
        options = self.options("--max-connections", "7", "--max-connections-per-peer", "3")
        self.assertEqual(options.limits, Limits(7, 3))

    def test_mustBePositiveWholeNumbers(self) -> None:
        for bad in ("0", "-1", "2.5", "lots"):
            self.assertRaises(StartupError, self.options, "--max-connections", bad)
            self.assertRaises(StartupError, self.options, "--max-connections-per-peer", bad)

    def test_everyListenerGetsTheLimitsFromTheOptions(self) -> None:
        """
        Every listener makeService creates enforces the command line's
        limits: a frontend that forgets C{limits=options.limits} fails here.
        """
        options = self.options(
            "--max-connections", "7", "--max-connections-per-peer", "3",
            "--max-connection-time", "9",
        )
        top = tap.makeService(options)
        listeners = list(_listeners(top))
        self.assertGreaterEqual(len(listeners), 2)  # finger and setter at least
        for listener in listeners:
            self.assertIsInstance(listener.factory, LimitedFactory, listener.frontend)
            self.assertEqual(listener.factory.limits, Limits(7, 3), listener.frontend)
        lineBased = [each for each in listeners if each.frontend in ("finger", "setter")]
        self.assertEqual(
            {each.factory.wrappedFactory.settings.timeLimit for each in lineBased}, {9.0}
        )


def _listeners(parent):
    for child in parent:
        if isinstance(child, ListeningService):
            yield child
        if isinstance(child, service.MultiService):
            yield from _listeners(child)
