"""The PB frontend over an in-memory loopback and transport."""

from __future__ import annotations

from twisted.internet import task
from twisted.spread import pb
from twisted.test import iosim
from twisted.trial.unittest import TestCase

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.pb import IFingerPBFactory, PBSettings
from finger.linger import LINGER_SECONDS
from finger.querylog import QueryLog
from tests.helpers.fakes import PEER, SocketLikeTransport


class RecordingQueryLog(QueryLog):
    def __init__(self) -> None:
        super().__init__(True)
        self.records: list[tuple[str, str, str]] = []

    def record(self, frontend, peer, query, outcome, started) -> None:
        self.records.append((frontend, query, outcome))


class LoopbackTests(TestCase):
    def setUp(self) -> None:
        self.queryLog = RecordingQueryLog()
        self.clock = task.Clock()
        backend = MemoryFingerService({"alice": "Happy and well"})
        self.server = frontend(
            IFingerPBFactory, backend, PBSettings(queryLog=self.queryLog, clock=self.clock)
        )
        self.client = pb.PBClientFactory()
        self.serverBroker, self.clientBroker, self.pump = iosim.connectedServerAndClient(
            lambda: self.server.buildProtocol(PEER), lambda: self.client.buildProtocol(PEER)
        )
        self.root = self.successResultOf(self.flushed(self.client.getRootObject()))

    def flushed(self, d):
        self.pump.flush()
        return d

    def test_getUser(self) -> None:
        d = self.flushed(self.root.callRemote("getUser", "alice"))
        self.assertEqual(self.successResultOf(d), "Happy and well")
        self.assertEqual(self.queryLog.records, [("pb", "alice", "found")])


class BrokerRefusalTests(TestCase):
    def test_protocolViolationLingersThenAborts(self) -> None:
        clock = task.Clock()
        factory = frontend(
            IFingerPBFactory, MemoryFingerService({}), PBSettings(queryLog=QueryLog(False), clock=clock)
        )
        broker = factory.buildProtocol(PEER)
        transport = SocketLikeTransport()
        broker.makeConnection(transport)
        broker.dataReceived(b"\x01" * 100)  # a Banana prefix longer than allowed
        self.assertTrue(transport.writeLost)
        broker.dataReceived(b"ignored" * 1000)  # drained, not decoded
        clock.advance(LINGER_SECONDS - 0.1)
        self.assertFalse(transport.aborted)
        clock.advance(0.1)
        self.assertTrue(transport.aborted)
        broker.connectionLost(None)
        self.assertEqual(clock.getDelayedCalls(), [])
