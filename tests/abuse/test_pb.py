"""
Abuse of the Perspective Broker frontend: connections that say nothing are
closed by the idle timeout (end to end), and the timeout never cuts a
connection that is in use or waiting for an answer (unit).
"""

from __future__ import annotations

from twisted.internet import defer, task
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import TestCase

from finger.backends.memory import MemoryFingerService
from finger.frontends.pb import FingerPBFactory, PBSettings
from tests.helpers.abuse import SOURCES, openConnections, waitAllClosed
from tests.helpers.pb import pbClient
from tests.helpers.support import LOOPBACK0


def test_silentPBConnectionsAreClosedByTheIdleTimeoutWhileCallsAreAnswered(startFinger):
    """
    100 PB connections that send nothing (from 10 addresses, within the
    per-client limit): a classic client's calls are answered meanwhile, and
    --timeout 2 closes every silent one.
    """
    service = startFinger(
        "--memory", "--user", "alice=Happy and well",
        "--finger", "none", "--setter", "none", "--web", "none",
        "--timeout", "2", "--pb", LOOPBACK0, expect=("pb",),
    )
    port = service.port("pb")
    silent = openConnections(port, 100, SOURCES[1:11])
    try:
        assert pbClient(port, ["call", "getUser", "alice"]) == [{"ok": "Happy and well"}]
        assert waitAllClosed(silent, timeout=60) == len(silent)
    finally:
        for s in silent:
            s.close()
    assert service.process.poll() is None
    assert "Traceback" not in service.log


class SlowService:
    """A service whose getUser answers only when the test says so."""

    def __init__(self) -> None:
        self.pending: list[defer.Deferred] = []

    def getUser(self, name):
        d = defer.Deferred()
        self.pending.append(d)
        return d

    def getUsers(self):
        return defer.succeed(())


class BrokerIdleTimeoutTests(TestCase):
    def broker(self, service, timeout=2.0):
        clock = task.Clock()
        factory = FingerPBFactory(service, PBSettings(timeout=timeout, clock=clock))
        broker = factory.buildProtocol(None)
        transport = StringTransport()
        broker.makeConnection(transport)
        return broker, transport, clock

    def test_silentConnectionIsClosed(self):
        broker, transport, clock = self.broker(MemoryFingerService({}))
        clock.advance(1.9)
        self.assertFalse(transport.disconnecting)
        clock.advance(0.2)
        self.assertTrue(transport.disconnecting)

    def test_trafficRestartsTheCount(self):
        broker, transport, clock = self.broker(MemoryFingerService({}))
        for _ in range(5):
            clock.advance(1.5)
            broker.dataReceived(b"")  # any bytes received
        self.assertFalse(transport.disconnecting)
        clock.advance(2.1)
        self.assertTrue(transport.disconnecting)

    def test_notClosedWhileACallIsBeingAnswered(self):
        service = SlowService()
        broker, transport, clock = self.broker(service)
        answer = defer.Deferred()
        broker.callStarted(answer)
        clock.advance(10)
        self.assertFalse(transport.disconnecting)
        answer.callback("done")
        clock.advance(1.9)
        self.assertFalse(transport.disconnecting)
        clock.advance(0.2)
        self.assertTrue(transport.disconnecting)

    def test_noTimeoutByDefault(self):
        broker, transport, clock = self.broker(MemoryFingerService({}), timeout=None)
        clock.advance(3600)
        self.assertFalse(transport.disconnecting)
