"""The worker pool and the parent watch (finger.workers) on a fake reactor."""

from __future__ import annotations

import os

from twisted.internet import error
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor
from twisted.python.failure import Failure

from finger.workers import RESTART_DELAY, ParentWatch, WorkerPool


class FakeTransport:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.signals: list[str] = []

    def signalProcess(self, name: str) -> None:
        self.signals.append(name)


class SpawningClock(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[tuple] = []

    def spawnProcess(self, protocol, executable, args, env, childFDs):
        transport = FakeTransport(len(self.spawned) + 100)
        self.spawned.append((protocol, args, childFDs, transport))
        return transport


def killed(protocol) -> None:
    protocol.processEnded(Failure(error.ProcessTerminated(signal=9)))


def makePool(reactor, count=2, maxRestarts=3):
    empty: list[bool] = []
    pool = WorkerPool(
        count, lambda n: ["twistd", f"--worker-id={n}"], lambda: [7, 9], {}, lambda: empty.append(True),
        maxRestarts=maxRestarts, reactor=reactor,
    )
    return pool, empty


def test_startsEachWorkerWithTheListeningDescriptors():
    reactor = SpawningClock()
    pool, _ = makePool(reactor)
    pool.startService()
    assert [args for _, args, _, _ in reactor.spawned] == [
        ["twistd", "--worker-id=1"], ["twistd", "--worker-id=2"]]
    childFDs = reactor.spawned[0][2]
    assert childFDs[7] == 7 and childFDs[9] == 9 and childFDs[0] == "w"


def test_aDeadWorkerIsRestartedUpToTheLimitPerMinute():
    reactor = SpawningClock()
    pool, empty = makePool(reactor, count=1, maxRestarts=2)
    pool.startService()
    for _ in range(2):
        killed(reactor.spawned[-1][0])
        reactor.advance(RESTART_DELAY)
    assert len(reactor.spawned) == 3
    killed(reactor.spawned[-1][0])
    reactor.advance(RESTART_DELAY)
    assert len(reactor.spawned) == 3  # over the limit: left stopped
    assert empty == [True]


def test_restartsOlderThanAMinuteDoNotCount():
    reactor = SpawningClock()
    pool, _ = makePool(reactor, count=1, maxRestarts=1)
    pool.startService()
    killed(reactor.spawned[-1][0])
    reactor.advance(61)
    killed(reactor.spawned[-1][0])
    reactor.advance(RESTART_DELAY)
    assert len(reactor.spawned) == 3


def test_stoppingTerminatesEveryWorkerAndWaits():
    reactor = SpawningClock()
    pool, _ = makePool(reactor)
    pool.startService()
    d = pool.stopService()
    assert [t.signals for _, _, _, t in reactor.spawned] == [["TERM"], ["TERM"]]
    assert not d.called
    for protocol, _, _, _ in reactor.spawned:
        killed(protocol)
    assert d.called
    reactor.advance(RESTART_DELAY)
    assert len(reactor.spawned) == 2  # not restarted while stopping


def test_parentWatchCallsBackAtEndOfFile():
    reactor = MemoryReactor()
    read, write = os.pipe()
    gone: list[bool] = []
    watch = ParentWatch(reactor, read, lambda: gone.append(True))
    watch.start()
    assert watch in reactor.readers
    os.write(write, b"x")
    watch.doRead()
    assert gone == []
    os.close(write)
    watch.doRead()
    assert gone == [True]
    assert watch not in reactor.readers
