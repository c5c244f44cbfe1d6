"""The file backend: loading, reloading (once a change has settled, in small steps), and keeping the last good table."""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.internet import defer, task
from twisted.logger import Logger, formatEvent, globalLogPublisher
from twisted.trial import unittest
from twisted.trial.unittest import TestCase

from finger.backends import file as fileModule
from finger.backends.file import FileFingerService, UsersFileError, readUsersFile
from finger.interfaces import UserNotFound
from tests.helpers.abuse import temporaryPath
from tests.helpers.fakes import ManualCooperator


class FileBackendTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, "users")
        self.write(b"alice: Happy and well\nbob: Feeling sad: lost his keys\n")
        # A change is read as soon as it is seen (waiting for the file to
        # settle is tested in ReloadTests below).
        self.service = FileFingerService(self.path, refresh=30, settle=0)
        self.events = []
        self.service.log = Logger(observer=self.events.append)

    def write(self, data: bytes) -> None:
        with open(self.path, "wb") as f:
            f.write(data)
        # Make the change visible even within one mtime tick.
        stamp = getattr(self, "_stamp", 1_000_000_000) + 1
        self._stamp = stamp
        os.utime(self.path, ns=(stamp * 10**9, stamp * 10**9))

    def messages(self, level=None):
        return [
            e["log_format"].format(**e)
            for e in self.events
            if level is None or e["log_level"].name == level
        ]

    def status(self, name):
        return self.successResultOf(self.service.getUser(name))

    def test_loadNowServesTheFile(self):
        self.service.loadNow()
        self.assertEqual(self.status("bob"), "Feeling sad: lost his keys")
        self.assertEqual(list(self.successResultOf(self.service.getUsers())), ["alice", "bob"])
        self.failureResultOf(self.service.getUser("zed"), UserNotFound)

    def test_missingFileAtStartIsAClearError(self):
        os.remove(self.path)
        error = self.assertRaises(UsersFileError, self.service.loadNow)
        self.assertEqual(str(error), f"cannot read {self.path}: No such file or directory")

    def test_notUtf8AtStartIsAClearError(self):
        self.write(b"alice: caf\xe9\n")
        error = self.assertRaises(UsersFileError, self.service.loadNow)
        self.assertIn("not valid UTF-8", str(error))

    def test_malformedLinesAreLoggedWithFileAndLineAndSkipped(self):
        self.write(b"alice: ok\nthis line has no separator\n")
        self.service.loadNow()
        self.assertEqual(self.status("alice"), "ok")
        self.assertIn(
            f"{self.path}:2: no ':' between name and status; line skipped",
            self.messages("warn"),
        )

    def test_beforeLoadingNobodyIsKnown(self):
        self.failureResultOf(self.service.getUser("alice"), UserNotFound)
        self.assertEqual(list(self.successResultOf(self.service.getUsers())), [])

    @defer.inlineCallbacks
    def test_reloadParsesInStepsAndSwapsAtomically(self):
        self.service.loadNow()
        self.write(b"alice: Changed\ncarol: New\n")
        d = self.service.checkForChanges()
        # Not parsed yet: the work happens in steps between network events,
        # and until it is done queries see the whole old table.
        self.assertNoResult(d)
        self.assertEqual(self.status("bob"), "Feeling sad: lost his keys")
        yield d
        self.assertEqual(self.status("alice"), "Changed")
        self.failureResultOf(self.service.getUser("bob"), UserNotFound)
        self.assertEqual(list(self.successResultOf(self.service.getUsers())), ["alice", "carol"])

    @defer.inlineCallbacks
    def test_unchangedFileIsNotReread(self):
        self.service.loadNow()
        reads = []
        original = fileModule.readingUsersFile
        self.patch(fileModule, "readingUsersFile", lambda path: reads.append(path) or original(path))
        yield self.service.checkForChanges()
        self.assertEqual(reads, [])
        self.write(b"alice: Changed\n")
        yield self.service.checkForChanges()
        self.assertEqual(reads, [self.path])

    @defer.inlineCallbacks
    def test_deletedFileKeepsTheLastGoodTableAndLogsOnce(self):
        self.service.loadNow()
        os.remove(self.path)
        yield self.service.checkForChanges()
        yield self.service.checkForChanges()
        self.assertEqual(self.status("alice"), "Happy and well")
        errors = self.messages("error")
        self.assertEqual(
            errors,
            [f"cannot read {self.path}: No such file or directory; keeping the last good table (2 users)"],
        )

    @defer.inlineCallbacks
    def test_fileComingBackIsLoadedAgain(self):
        self.service.loadNow()
        os.remove(self.path)
        yield self.service.checkForChanges()
        self.write(b"dave: back\n")
        yield self.service.checkForChanges()
        self.assertEqual(self.status("dave"), "back")

    @defer.inlineCallbacks
    def test_unreadableFileKeepsTheLastGoodTable(self):
        self.service.loadNow()
        # Root reads any file, so make it unreadable by making it a directory.
        os.remove(self.path)
        os.mkdir(self.path)
        yield self.service.checkForChanges()
        self.assertEqual(self.status("alice"), "Happy and well")
        self.assertEqual(
            self.messages("error"),
            [f"cannot read {self.path}: Is a directory; keeping the last good table (2 users)"],
        )

    @defer.inlineCallbacks
    def test_garbageKeepsTheLastGoodTable(self):
        self.service.loadNow()
        for garbage in (b"\xff\xfe\x00\x01binary", b"", b"x\ny\nz\nalice: one\n"):
            self.write(garbage)
            yield self.service.checkForChanges()
            self.assertEqual(self.status("bob"), "Feeling sad: lost his keys")
        self.assertEqual(len(self.messages("error")), 3)

    @defer.inlineCallbacks
    def test_commentOnlyFileClearsTheTable(self):
        self.service.loadNow()
        self.write(b"# nobody here\n")
        yield self.service.checkForChanges()
        self.assertEqual(list(self.successResultOf(self.service.getUsers())), [])

    def test_startServicePollsEveryRefreshSeconds(self):
        clock = task.Clock()
        service = FileFingerService(self.path, refresh=5, reactor=clock)
        checks = []
        service.checkForChanges = lambda: checks.append(clock.seconds())
        service.startService()
        self.assertEqual(self.successResultOf(service.getUser("alice")), "Happy and well")
        clock.advance(5)
        clock.advance(5)
        self.assertEqual(checks, [5, 10])
        service.stopService()
        clock.advance(5)
        self.assertEqual(checks, [5, 10])


def usersText(version: int, count: int = 100) -> str:
    return "".join(f"user{i:03d}: version {version}\n" for i in range(count))


class ReloadTests(TestCase):
    def setUp(self) -> None:
        self.path = temporaryPath(self)
        self.write(usersText(1))
        self.clock = task.Clock()
        self.backend = FileFingerService(self.path, refresh=0.1, reactor=self.clock, settle=1.0)
        self.cooperator = ManualCooperator()
        self.backend._cooperator = self.cooperator.cooperator
        self.backend.loadNow()
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def write(self, text: str, mode: str = "w") -> None:
        with open(self.path, mode, encoding="utf-8") as f:
            f.write(text)
        self.touchLater()

    def touchLater(self) -> None:
        # Give every write a distinct mtime, whatever the clock's granularity.
        self._mtime = getattr(self, "_mtime", 1_000_000_000) + 1
        os.utime(self.path, ns=(self._mtime, self._mtime))

    def status(self, name: str = "user099") -> str:
        d = self.backend.getUser(name)
        result = []
        d.addBoth(result.append)
        value = result[0]
        if hasattr(value, "trap"):
            value.trap(UserNotFound)
            return "no such user"
        return value

    def check(self, seconds: float = 0.0) -> None:
        """Let C{seconds} pass, then check the file and run any reload to its end."""
        self.clock.advance(seconds)
        self.backend.checkForChanges()
        self.cooperator.runUntilIdle()

    def test_changeLoadedOnceSettled(self) -> None:
        self.write(usersText(2))
        self.check()
        self.assertEqual(self.status(), "version 1")
        self.check(0.5)
        self.assertEqual(self.status(), "version 1")
        self.check(0.5)
        self.assertEqual(self.status(), "version 2")

    def test_recheckScheduledWithoutWaitingForTheNextRefresh(self) -> None:
        self.backend.refresh = 30.0
        self.write(usersText(2))
        self.check()
        self.clock.advance(1.0)  # the settle re-check is due
        self.cooperator.runUntilIdle()
        self.assertEqual(self.status(), "version 2")

    def test_halfWrittenFileNeverInstalled(self) -> None:
        """
        A writer truncating the file and rewriting it in place, pausing
        half-way: the half table is never served.
        """
        text = usersText(2)
        half = text[: len(text) // 2]
        self.write("")  # truncated
        self.check(0.1)
        self.write(half)
        for _ in range(5):
            self.check(0.1)
            self.assertEqual(self.status(), "version 1")
        self.write(text)
        for _ in range(9):
            self.check(0.1)
            self.assertEqual(self.status(), "version 1")
        self.check(0.2)
        self.assertEqual(self.status(), "version 2")
        self.assertEqual(len(self.backend._table.users), 100)

    def test_changedWhileReadingIsReadAgain(self) -> None:
        self.write(usersText(2, count=20000))
        self.check(0)
        self.clock.advance(1.0)
        self.backend.checkForChanges()
        for _ in range(3):  # a few steps into the reload
            self.cooperator.calls.pop(0)()
        self.write(usersText(3, count=20000))
        self.cooperator.runUntilIdle()
        self.assertEqual(self.status(), "version 1", "the version read while changing is dropped")
        self.check(1.0)  # noticed as a new change...
        self.check(1.0)  # ...and read once settled
        self.assertEqual(self.status(), "version 3")

    def test_oldTableServedDuringTheReload(self) -> None:
        self.write(usersText(2, count=20000))
        self.check(0)
        self.clock.advance(1.0)
        self.backend.checkForChanges()
        steps = 0
        while self.cooperator.calls:
            self.assertEqual(self.status(), "version 1")
            self.cooperator.calls.pop(0)()
            steps += 1
        self.assertEqual(self.status(), "version 2")
        self.assertGreater(steps, 10)

    def test_unusableVersionNotReadAgain(self) -> None:
        with open(self.path, "wb") as f:
            f.write(b"alice: \xff\n")
        self.touchLater()
        for _ in range(30):
            self.check(0.1)
        self.assertEqual(self.status(), "version 1")
        reloads = [e for e in self.events if "reloading" in e.get("log_format", "")]
        errors = [e for e in self.events if e.get("log_level").name == "error"]
        self.assertEqual((len(reloads), len(errors)), (1, 1))
        self.assertIn("not valid UTF-8 (byte offset 7)", formatEvent(errors[0]))
        self.write(usersText(4))
        self.check(0.1)
        self.check(1.0)
        self.assertEqual(self.status(), "version 4")

    def test_deletedThenRecreated(self) -> None:
        os.remove(self.path)
        self.check(0.1)
        self.assertEqual(self.status(), "version 1")
        self.write(usersText(5))
        self.check(0.1)
        self.check(1.0)
        self.assertEqual(self.status(), "version 5")

    def test_stopDuringAReload(self) -> None:
        self.backend.startService()
        self.write(usersText(2, count=20000))
        self.check(0)
        self.clock.advance(1.0)
        self.cooperator.calls.pop(0)()
        self.backend.stopService()
        self.cooperator.runUntilIdle()
        self.assertEqual(self.status(), "version 1")
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual(self.clock.getDelayedCalls(), [])


class ReadUsersFileTests(TestCase):
    def test_signatureAndTable(self) -> None:
        path = temporaryPath(self)
        with open(path, "w") as f:
            f.write("alice: hi\n")
        signature, table = readUsersFile(path)
        st = os.stat(path)
        self.assertEqual(signature, (st.st_mtime_ns, st.st_size, st.st_ino))
        self.assertEqual(dict(table.users), {"alice": "hi"})


class FileChangeFeedTests(unittest.TestCase):
    """A reload publishes the users it added, changed or removed, and no others."""

    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, "users")
        self.stamp = 1_000_000_000
        self.write(b"alice: Happy\nbob: Sad\ncarol: Same\n")
        self.clock = task.Clock()
        self.clock.advance(500)
        self.service = FileFingerService(self.path, refresh=30, reactor=self.clock, settle=0)
        self.service.log = Logger(observer=lambda event: None)
        self.service.loadNow()
        self.seen = []
        self.service.subscribe(self.seen.append)

    def write(self, data: bytes) -> None:
        with open(self.path, "wb") as f:
            f.write(data)
        self.stamp += 1
        os.utime(self.path, ns=(self.stamp * 10**9, self.stamp * 10**9))

    def reload(self):
        d = self.service.checkForChanges()
        while not d.called:
            self.clock.advance(0)
        self.successResultOf(d)

    def test_onlyChangedLinesArePublished(self):
        from finger.feed import StatusChange

        self.write(b"# a comment now\nalice: Happy\nbob: Better\ndave: New\ncarol: Same\n")
        self.reload()
        self.assertEqual(
            self.seen, [StatusChange("bob", "Better", 500.0), StatusChange("dave", "New", 500.0)]
        )
        self.write(b"bob: Better\ncarol: Same\ndave: New\n")
        self.reload()
        self.assertEqual(self.seen[2:], [StatusChange("alice", None, 500.0)])

    def test_aRejectedReloadPublishesNothing(self):
        self.write(b"")  # empty: the last good table is kept
        self.reload()
        self.assertEqual(self.seen, [])
        self.assertEqual(self.successResultOf(self.service.getUser("alice")), "Happy")

    def test_publishedOnlyOnceTheNewTableIsServed(self):
        statuses = []
        self.service.subscribe(
            lambda change: statuses.append(self.successResultOf(self.service.getUser(change.name)))
        )
        self.write(b"alice: Happy\nbob: Changed\ncarol: Same\n")
        self.reload()
        self.assertEqual(statuses, ["Changed"])

    def test_atMostMaxReloadChangesArePublished(self):
        self.patch(fileModule, "MAX_RELOAD_CHANGES", 2)
        self.write(b"a: 1\nb: 2\nc: 3\nd: 4\n")
        self.reload()
        self.assertEqual([c.name for c in self.seen], ["a", "alice"])
