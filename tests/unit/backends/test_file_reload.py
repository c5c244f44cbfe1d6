"""
Unit tests for how the file backend decides to reload: a changed file is
read once it has settled, in small steps, and only a complete, unchanged
version is installed.
"""

from __future__ import annotations

import os

from twisted.internet import task
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from finger.backends.file import FileFingerService, readUsersFile
from finger.interfaces import UserNotFound
from tests.helpers.abuse import temporaryPath
from tests.helpers.fakes import ManualCooperator


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
