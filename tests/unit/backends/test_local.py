"""The local backend: the real finger program, real processes, strict names."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from twisted.internet import defer, error, reactor
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial import unittest

from finger.backends.local import LocalFingerError, LocalFingerService, isSafeName
from finger.interfaces import UserNotFound
from tests.helpers.systemusers import SystemAccount, requireRoot

FINGER = "/usr/bin/finger"
UNSAFE_NAMES = [
    "alice;touch /tmp/pwned",
    "$(touch x)",
    "a b",
    "-l",
    "--help",
    "",
    "x" * 33,
    "alice\n",
    "\u00e9mile",
    "a/b",
    "a*",
]


class NameTests(unittest.TestCase):
    def test_safeNames(self):
        for name in ["alice", "a", "bob.smith", "user_1", "x-y", "x" * 32, "_svc", "1"]:
            self.assertTrue(isSafeName(name), name)

    def test_unsafeNames(self):
        for name in UNSAFE_NAMES:
            self.assertFalse(isSafeName(name), name)


class CountingReactor:
    """The real reactor, counting C{spawnProcess} calls."""

    def __init__(self) -> None:
        self.spawned: list[list[str]] = []

    def spawnProcess(self, protocol, executable, args, **kwargs):
        self.spawned.append(list(args))
        return reactor.spawnProcess(protocol, executable, args, **kwargs)

    def __getattr__(self, name):
        return getattr(reactor, name)


class RealProgramTests(unittest.TestCase):
    def setUp(self):
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory)
        self.reactor = CountingReactor()

    def script(self, body: str) -> str:
        path = self.directory / "program"
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        return str(path)

    @defer.inlineCallbacks
    def test_realFingerProgram(self):
        requireRoot()
        account = SystemAccount("Local Person")
        self.addCleanup(account.delete)
        account.write(".plan", "Testing the local backend.\n")
        service = LocalFingerService(FINGER, reactor=self.reactor)
        status = yield service.getUser(account.name)
        self.assertIn(f"Login: {account.name}", status)
        self.assertIn("Name: Local Person", status)
        self.assertIn("Testing the local backend.", status)
        self.assertEqual(self.reactor.spawned, [[FINGER, "-m", account.name]])

    @defer.inlineCallbacks
    def test_realFingerUnknownUser(self):
        service = LocalFingerService(FINGER, reactor=self.reactor)
        with self.assertRaises(UserNotFound):
            yield service.getUser("nosuchuser-fgt")
        self.assertEqual(len(self.reactor.spawned), 1)

    @defer.inlineCallbacks
    def test_unsafeNamesRunNothing(self):
        ran = self.directory / "ran"
        pwned = self.directory / "pwned"
        program = self.script(f'echo "$@" >> {ran}\nexec {FINGER} "$@"')
        service = LocalFingerService(program, reactor=self.reactor)
        for name in [f"alice;touch {pwned}", *UNSAFE_NAMES]:
            with self.assertRaises(UserNotFound):
                yield service.getUser(name)
        self.assertEqual(self.reactor.spawned, [])
        self.assertFalse(ran.exists())
        self.assertFalse(pwned.exists())
        # The same program does run for a safe name: the checks above can fail.
        with self.assertRaises(UserNotFound):
            yield service.getUser("nosuchuser-fgt")
        self.assertEqual(ran.read_text(), "-m nosuchuser-fgt\n")

    @defer.inlineCallbacks
    def test_slowProgramIsKilled(self):
        pidFile = self.directory / "pid"
        program = self.script(f"echo $$ > {pidFile}\nexec sleep 600")
        service = LocalFingerService(program, timeout=0.5, reactor=self.reactor)
        with self.assertRaises(LocalFingerError) as caught:
            yield service.getUser("alice")
        self.assertIn("did not answer", str(caught.exception))
        pid = int(pidFile.read_text())
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped

    @defer.inlineCallbacks
    def test_endlessOutputIsCapped(self):
        program = self.script("exec yes 'all work and no play'")
        service = LocalFingerService(program, maxOutput=10000, reactor=self.reactor)
        status = yield service.getUser("jack")
        self.assertEqual(len(status.encode()), 10000 - 1)  # rstrip drops the cut line's space
        self.assertTrue(status.startswith("all work and no play\n"))

    @defer.inlineCallbacks
    def test_minimalEnvironment(self):
        program = self.script("env")
        os.environ["FINGER_TEST_SECRET"] = "leak"
        self.addCleanup(os.environ.pop, "FINGER_TEST_SECRET")
        status = yield LocalFingerService(program, reactor=self.reactor).getUser("alice")
        self.assertNotIn("FINGER_TEST_SECRET", status)
        self.assertIn("PATH=/usr/bin:/bin", status)

    def test_usersListIsEmpty(self):
        service = LocalFingerService(FINGER, reactor=self.reactor)
        self.assertEqual(self.successResultOf(service.getUsers()), ())


class FakeProcess:
    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.signals: list[str] = []
        self.closed = False

    def closeStdin(self) -> None:
        pass

    def signalProcess(self, signal: str) -> None:
        self.signals.append(signal)

    def loseConnection(self) -> None:
        self.closed = True

    def end(self, output: bytes = b"") -> None:
        if output:
            self.protocol.outReceived(output)
        self.protocol.processEnded(Failure(error.ProcessDone(0)))


class ProcessReactor(MemoryReactorClock):
    """A memory reactor that records spawned processes."""

    def __init__(self) -> None:
        super().__init__()
        self.processes: list[FakeProcess] = []

    def spawnProcess(self, protocol, executable, args, env=None, **kwargs):
        process = FakeProcess(protocol)
        self.processes.append(process)
        protocol.makeConnection(process)
        return process


class ScheduledTests(unittest.TestCase):
    def test_atMostMaxRunningAtOnce(self):
        clock = ProcessReactor()
        service = LocalFingerService("finger", maxRunning=2, reactor=clock)
        results = [service.getUser(f"user{i}") for i in range(4)]
        self.assertEqual(len(clock.processes), 2)
        clock.processes[0].end(b"first\n")
        self.assertEqual(self.successResultOf(results[0]), "first")
        self.assertEqual(len(clock.processes), 3)
        for process in clock.processes[1:]:
            process.end(b"more\n")
        self.assertEqual(len(clock.processes), 4)

    def test_timeoutKillsAndStopsReading(self):
        clock = ProcessReactor()
        service = LocalFingerService("finger", timeout=5, reactor=clock)
        result = service.getUser("alice")
        process, = clock.processes
        clock.advance(4.9)
        self.assertEqual(process.signals, [])
        clock.advance(0.1)
        self.assertEqual(process.signals, ["KILL"])
        self.assertTrue(process.closed)
        process.protocol.processEnded(Failure(error.ProcessTerminated(signal=9)))
        self.failureResultOf(result, LocalFingerError)

    def test_answerCancelsTimeout(self):
        clock = ProcessReactor()
        service = LocalFingerService("finger", timeout=5, reactor=clock)
        result = service.getUser("alice")
        clock.processes[0].end(b"Login: alice\n")
        self.assertEqual(self.successResultOf(result), "Login: alice")
        self.assertEqual(clock.getDelayedCalls(), [])
