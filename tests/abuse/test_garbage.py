"""
Garbage input (hypothesis): random bytes fed to the finger and setter
parsers never make them log an unhandled error, and every connection ends;
end to end, the service answers afterwards.
"""

from __future__ import annotations

import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import interfaces, task
from twisted.trial.unittest import TestCase

from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import FingerFactoryFromService, FingerSettings
from finger.frontends.setter import FingerSetterFactoryFromService, SetterSettings
from finger.linger import LINGER_SECONDS
from finger.querylog import QueryLog
from tests.helpers.abuse import assertNoErrors, connect, readAll
from tests.helpers.fakes import PEER, ManualCooperator, SocketLikeTransport
from tests.helpers.support import LOOPBACK0, finger

# Random bytes, with a good share of what the parsers look for.
pieces = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"\r\n", b"\n", b"\r", b"/W", b"/w ", b"@", b"alice", b"bob@host",
                     b"\xff\xfe", b"\xc3", b"\x00", b"\x1b[2J", b" ", b":"]),
    # Around the line limit (built from one byte: drawing 1000 random bytes
    # is slow with older hypothesis).
    st.builds(lambda n, b: bytes([b]) * n, st.integers(1000, 1100), st.integers(0, 255)),
)
garbage = st.lists(st.lists(pieces, max_size=6).map(b"".join), max_size=8)


class GarbageTests(TestCase):
    """Unit level: the protocols with an in-memory transport."""

    def feed(self, makeFactory, chunks: list[bytes], halfClose: bool) -> None:
        cooperator = ManualCooperator()
        clock = task.Clock()
        factory = makeFactory(
            queryLog=QueryLog(False), timeout=5.0, timeLimit=20.0, clock=clock,
            cooperate=cooperator.cooperator.cooperate,
        )
        settings = factory.settings
        protocol = factory.buildProtocol(PEER)
        transport = SocketLikeTransport()
        protocol.makeConnection(transport)
        for chunk in chunks:
            if transport.disconnecting or transport.aborted:
                break
            protocol.dataReceived(chunk)
            cooperator.runUntilIdle()
        if halfClose and interfaces.IHalfCloseableProtocol.providedBy(protocol):
            protocol.readConnectionLost()
        cooperator.runUntilIdle()
        transport.drain()
        cooperator.runUntilIdle()
        clock.advance(max(settings.timeout, LINGER_SECONDS, settings.timeLimit))
        # The connection always ends: closed, or aborted by a time limit.
        self.assertTrue(transport.disconnecting or transport.aborted)
        protocol.connectionLost(None)
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertEqual(self.flushLoggedErrors(), [])
        reply = transport.value()
        reply.decode("utf-8")  # whatever it said is text
        self.assertTrue(reply == b"" or reply.endswith(b"\r\n"))

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(garbage, st.booleans())
    def test_finger(self, chunks, halfClose) -> None:
        backend = MemoryFingerService({"alice": "Happy\x1b[31m", "bob": "x\ny"})
        self.feed(
            lambda **kw: FingerFactoryFromService(backend, FingerSettings(**kw)), chunks, halfClose
        )

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(garbage, st.booleans())
    def test_setter(self, chunks, halfClose) -> None:
        backend = MemoryFingerService({"alice": "Happy"})
        def makeFactory(cooperate, **kw):
            return FingerSetterFactoryFromService(backend, SetterSettings(**kw))

        self.feed(makeFactory, chunks, halfClose)


def test_garbageOverSockets(startFinger):
    """
    A few random byte strings over real sockets, to finger and setter, some
    half-closed: each connection ends, and the service answers afterwards.
    """
    service = startFinger(
        "--memory", "--user", "alice=Happy and well", "--finger", LOOPBACK0,
        "--setter", LOOPBACK0, "--timeout", "1", expect=("finger", "setter"),
    )
    ports = [service.port("finger"), service.port("setter")]

    @settings(max_examples=12, deadline=None, database=None)
    @given(st.sampled_from(ports), garbage.map(b"".join), st.booleans())
    def send(port, data, halfClose):
        s = connect(port, timeout=30)
        try:
            s.sendall(data)
            if halfClose:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may already have refused and closed
        readAll(s)  # returns once the server ends the connection
        s.close()

    send()
    assert finger(ports[0], "alice") == "Happy and well\r\n"
    assertNoErrors(service)
