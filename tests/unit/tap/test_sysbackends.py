"""The system backends' command-line options and how makeService chains them."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from twisted.trial import unittest

from finger import tap
from finger.backends.chain import ChainFingerService
from finger.backends.local import LocalFingerService
from finger.backends.passwd import PasswordFingerService
from finger.backends.store import SQLiteFingerService
from finger.interfaces import IFingerSetterService
from finger.listen import ListeningService, StartupError

LOOPBACK0 = "tcp:0:interface=127.0.0.1"


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


class OptionsTests(unittest.TestCase):
    def setUp(self):
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory)
        self.db = str(self.directory / "status.db")

    def test_backendsInOrder(self):
        options = parse("--store", self.db, "--pwd", "--local", "--memory")
        self.assertEqual(
            options["backends"], [("store", self.db), ("pwd", None), ("local", None), ("memory", None)]
        )

    def test_pwdOptions(self):
        options = parse("--pwd-user", "root", "--pwd-user", "daemon", "--pwd-verbose")
        self.assertEqual(options["backends"], [("pwd", None)])
        self.assertEqual(options["pwd-users"], ["root", "daemon"])
        self.assertTrue(options["pwd-verbose"])
        backend = tap.makeBackend(options)
        self.assertIsInstance(backend, PasswordFingerService)
        self.assertEqual(backend.extraUsers, {"root", "daemon"})
        self.assertTrue(backend.verbose)
        self.assertFalse(tap.makeBackend(parse("--pwd")).verbose)

    def test_unknownPwdUser(self):
        with self.assertRaises(StartupError) as caught:
            tap.makeBackend(parse("--pwd-user", "no-such-account-fgt"))
        self.assertIn("no such account: no-such-account-fgt", str(caught.exception))

    def test_localProgram(self):
        backend = tap.makeBackend(parse("--local"))
        self.assertIsInstance(backend, LocalFingerService)
        self.assertEqual(backend.program, "/usr/bin/finger")
        backend = tap.makeBackend(parse("--local", "--local-program", "/bin/true"))
        self.assertEqual(backend.program, "/bin/true")

    def test_localProgramNotExecutable(self):
        for program in [str(self.directory / "missing"), str(self.directory), "/etc/passwd"]:
            with self.assertRaises(StartupError) as caught:
                tap.makeBackend(parse("--local", "--local-program", program))
            self.assertIn("is not an executable file", str(caught.exception))

    def test_storeCreatedWhenStartedNotWhenBuilt(self):
        # Built maybe as root; started as the user twistd -u switched to.
        backend = tap.makeBackend(parse("--store", self.db))
        self.assertIsInstance(backend, SQLiteFingerService)
        self.assertFalse(Path(self.db).exists())
        backend.startService()
        self.addCleanup(backend.stopService)
        self.assertTrue(Path(self.db).exists())

    def test_corruptStoreIsStartupError(self):
        Path(self.db).write_bytes(b"garbage " * 1000)
        with self.assertRaises(StartupError) as caught:
            tap.makeBackend(parse("--store", self.db))
        self.assertEqual(
            str(caught.exception),
            f"finger: --store: cannot use {self.db}: file is not a database",
        )

    def test_chainInCommandLineOrder(self):
        backend = tap.makeBackend(parse("--store", self.db, "--pwd"))
        self.assertIsInstance(backend, ChainFingerService)
        kinds = [type(b) for b in backend.backends]
        self.assertEqual(kinds, [SQLiteFingerService, PasswordFingerService])
        backend = tap.makeBackend(parse("--pwd", "--store", self.db))
        self.assertEqual(
            [type(b) for b in backend.backends], [PasswordFingerService, SQLiteFingerService]
        )

    def test_noBackendNamesTheSystemBackends(self):
        with self.assertRaises(StartupError) as caught:
            parse("--finger", LOOPBACK0)
        self.assertIn("--pwd, --local, --store PATH", str(caught.exception))

    def listeners(self, *args: str) -> list[str]:
        top = tap.makeService(parse(*args, "--finger", LOOPBACK0, "--pb", "none", "--web", "none"))
        return [s.frontend for s in top if isinstance(s, ListeningService)]

    def test_setterOnlyWithASettableBackend(self):
        self.assertEqual(self.listeners("--pwd", "--local"), ["finger"])
        self.assertEqual(
            self.listeners("--pwd", "--store", self.db, "--setter", LOOPBACK0),
            ["finger", "setter"],
        )
        with self.assertRaises(StartupError):
            self.listeners("--pwd", "--local", "--setter", LOOPBACK0)
        self.assertTrue(IFingerSetterService.providedBy(tap.makeBackend(parse("--pwd", "--memory"))))
