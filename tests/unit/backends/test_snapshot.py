"""Unit tests for snapshots (IFingerSnapshots): file, memory, chain, and a listing that uses them."""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from finger.adapt import frontend
from finger.backends.chain import ChainFingerService
from finger.backends.file import FileFingerService
from finger.backends.local import LocalFingerService
from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import FingerSettings
from finger.interfaces import IFingerFactory, IFingerSnapshots, UserNotFound
from finger.querylog import QueryLog


def writeUsers(path: str, version: str, count: int = 300) -> None:
    with open(path + ".new", "w") as f:
        for i in range(count):
            f.write(f"user{i:04d}: {version}\n")
    os.replace(path + ".new", path)


def temporaryPath(case: unittest.TestCase) -> str:
    directory = tempfile.mkdtemp()
    case.addCleanup(shutil.rmtree, directory)
    return os.path.join(directory, "users")


class FileSnapshotTests(unittest.TestCase):
    def setUp(self) -> None:
        self.path = temporaryPath(self)
        writeUsers(self.path, "A")
        self.clock = task.Clock()
        self.service = FileFingerService(self.path, reactor=self.clock, settle=0)
        self.service.loadNow()

    def reload(self, version: str) -> None:
        writeUsers(self.path, version)
        os.utime(self.path, ns=(1, 10**18))  # a signature that differs for sure
        self.service.checkForChanges()
        for _ in range(1000):
            self.clock.advance(0)
        self.assertEqual(self.successResultOf(self.service.getUser("user0000")), version)

    def test_snapshotKeepsItsVersionAcrossAReload(self) -> None:
        self.assertTrue(IFingerSnapshots.providedBy(self.service))
        snapshot = self.service.snapshot()
        self.reload("B")
        self.assertEqual(self.successResultOf(snapshot.getUser("user0299")), "A")
        self.assertEqual(len(self.successResultOf(snapshot.getUsers())), 300)

    def test_snapshotSharesTheTable(self) -> None:
        names = self.successResultOf(self.service.getUsers())
        self.assertIs(self.successResultOf(self.service.snapshot().getUsers()), names)

    def test_unknownUser(self) -> None:
        self.failureResultOf(self.service.snapshot().getUser("nobody"), UserNotFound)


class MemorySnapshotTests(unittest.TestCase):
    def test_writesAfterASnapshotAreNotInIt(self) -> None:
        service = MemoryFingerService({"alice": "A", "bob": "A"})
        snapshot = service.snapshot()
        service.setUser("alice", "B")
        service.setUser("carol", "B")
        self.assertEqual(self.successResultOf(snapshot.getUser("alice")), "A")
        self.failureResultOf(snapshot.getUser("carol"), UserNotFound)
        self.assertEqual(self.successResultOf(snapshot.getUsers()), ("alice", "bob"))
        self.assertEqual(self.successResultOf(service.getUser("alice")), "B")
        self.assertEqual(
            self.successResultOf(service.snapshot().getUsers()), ("alice", "bob", "carol")
        )

    def test_noCopyWithoutWrites(self) -> None:
        service = MemoryFingerService({"alice": "A"})
        self.assertIs(service.snapshot(), service.snapshot())


class ChainSnapshotTests(unittest.TestCase):
    def test_chainOfSnapshots(self) -> None:
        first = MemoryFingerService({"alice": "A"})
        second = MemoryFingerService({"bob": "A"})
        chain = ChainFingerService([first, second])
        self.assertTrue(IFingerSnapshots.providedBy(chain))
        snapshot = chain.snapshot()
        first.setUser("alice", "B")
        second.setUser("bob", "B")
        self.assertEqual(self.successResultOf(snapshot.getUser("alice")), "A")
        self.assertEqual(self.successResultOf(snapshot.getUser("bob")), "A")
        self.assertEqual(self.successResultOf(snapshot.getUsers()), ("alice", "bob"))

    def test_unionIsSharedWhileNothingChanged(self) -> None:
        chain = ChainFingerService([MemoryFingerService({"a": "1"}), MemoryFingerService({"b": "2"})])
        union = self.successResultOf(chain.snapshot().getUsers())
        self.assertIs(self.successResultOf(chain.snapshot().getUsers()), union)
        self.assertIs(self.successResultOf(chain.getUsers()), union)

    def test_withoutSnapshotsNoSnapshot(self) -> None:
        chain = ChainFingerService([LocalFingerService(reactor=task.Clock())])  # type: ignore[arg-type]
        self.assertFalse(IFingerSnapshots.providedBy(chain))


class ListingDuringReloadTests(unittest.TestCase):
    """The finger listing is one version, even when the table is swapped half-way."""

    def test_listingIsOneVersion(self) -> None:
        path = temporaryPath(self)
        writeUsers(path, "A", 1000)
        clock = task.Clock()
        service = FileFingerService(path, reactor=clock, settle=0)
        service.loadNow()
        settings = FingerSettings(
            cooperate=task.Cooperator(
                terminationPredicateFactory=lambda: lambda: True,
                scheduler=lambda work: clock.callLater(0.001, work),
            ).cooperate,
            queryLog=QueryLog(False),
            clock=clock,
        )
        protocol = frontend(IFingerFactory, service, settings).buildProtocol(
            IPv4Address("TCP", "127.0.0.1", 1)
        )
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(b"\r\n")
        clock.advance(0.001)  # a batch or two
        self.assertIn(b"user0000: A", transport.value())
        writeUsers(path, "B", 1000)
        os.utime(path, ns=(1, 10**18))
        service.checkForChanges()
        for _ in range(2000):
            clock.advance(0.001)
        self.assertEqual(self.successResultOf(service.getUser("user0999")), "B")
        lines = transport.value().decode().splitlines()
        self.assertEqual(len(lines), 1000)
        self.assertEqual({line.split(": ")[1] for line in lines}, {"A"})
