"""The file backend: loading, reloading, and keeping the last good table."""

import os
import shutil
import tempfile

from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.trial import unittest

from finger.backends import file as fileModule
from finger.backends.file import FileFingerService, UsersFileError
from finger.interfaces import UserNotFound


class FileBackendTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.path = os.path.join(directory, "users")
        self.write(b"alice: Happy and well\nbob: Feeling sad: lost his keys\n")
        # A change is read as soon as it is seen (waiting for the file to
        # settle is tested in test_file_reload).
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
