"""finger.tap.backends: the backend options, their builders, and how makeService chains them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from twisted.trial import unittest

from finger import tap
from finger.backends.chain import ChainFingerService
from finger.backends.local import LocalFingerService
from finger.backends.memory import MemoryFingerService
from finger.backends.passwd import PasswordFingerService
from finger.backends.proxy import ProxyFingerService
from finger.backends.store import SQLiteFingerService
from finger.backends.webstatus import WebStatusService
from finger.interfaces import IFingerSetterService
from finger.listen import ListeningService
from finger.tap.backends import forwarderFor, hopLimit
from finger.tap.errors import StartupError

LOOPBACK0 = "tcp:0:interface=127.0.0.1"


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


class SystemBackendTests(unittest.TestCase):
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


class ProxyOptionsTests(unittest.SynchronousTestCase):
    def parse(self, *argv) -> tap.Options:
        options = tap.Options()
        options.parseOptions(list(argv))
        return options

    def test_forwardingOffByDefault(self):
        options = self.parse("--memory")
        self.assertIsNone(forwarderFor(MemoryFingerService(), options))

    def test_forward(self):
        options = self.parse("--memory", "--forward", "--forward-timeout", "2", "--forward-hops", "5")
        forwarder = forwarderFor(MemoryFingerService(), options)
        self.assertIsInstance(forwarder, ProxyFingerService)
        self.assertEqual(
            (forwarder.timeout, forwarder.maxHops, forwarder.allowed), (2.0, 5, {("*", 79)})
        )

    def test_forwardAllowImpliesForward(self):
        options = self.parse(
            "--memory", "--forward-allow", "a.example", "--forward-allow", "[::1]:7979",
            "--forward-allow", "127.0.0.1:*", "--forward-allow", "*:7979",
        )
        forwarder = forwarderFor(MemoryFingerService(), options)
        self.assertEqual(
            forwarder.allowed,
            {("a.example", 79), ("::1", 7979), ("127.0.0.1", "*"), ("*", 7979)},
        )

    def test_badForwardAllow(self):
        with self.assertRaises(StartupError) as caught:
            self.parse("--memory", "--forward-allow", "a b")
        self.assertIn("--forward-allow: bad host 'a b'", str(caught.exception))
        for bad, message in [("*:x", "bad port in '*:x'"), ("h:**", "bad port in 'h:**'"),
                             ("*h", "bad host '*h'"), ("*:0", "bad port in '*:0'")]:
            with self.assertRaises(StartupError) as caught:
                self.parse("--memory", "--forward-allow", bad)
            self.assertIn(f"--forward-allow: {message}", str(caught.exception))
        with self.assertRaises(StartupError) as caught:
            self.parse("--memory", "--forward", "--forward-hops", "0")
        self.assertIn("at least 1", str(caught.exception))

    def test_proxyIsTheBackendAndTheForwarder(self):
        options = self.parse("--proxy")
        backend = tap.makeBackend(options)
        self.assertIsInstance(backend, ProxyFingerService)
        self.assertIs(forwarderFor(backend, options), backend)

    def test_makeServiceWiresTheForwarder(self):
        options = self.parse("--memory", "--forward", "--finger", "tcp:0", "--setter", "none")
        top = tap.makeService(options)
        listener = [s for s in top if getattr(s, "frontend", None) == "finger"][0]
        self.assertIsInstance(listener.factory.wrappedFactory.forwarder, ProxyFingerService)


class StoreStartupTests(unittest.TestCase):
    """--store: what the store raises becomes a start-up error naming the option."""

    def setUp(self):
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory)

    def test_startServiceFailureIsAStartupError(self):
        # The directory is there when the service is built, gone when it starts.
        path = self.directory / "going" / "status.db"
        path.parent.mkdir()
        top = tap.makeService(parse(
            "--store", str(path), "--finger", "none", "--setter", "none", "--web", "none",
            "--pb", "none",
        ))
        (backend,) = top
        path.parent.rmdir()
        with self.assertRaises(StartupError) as caught:
            top.startService()
        self.assertRegex(
            str(caught.exception),
            rf"^finger: --store: cannot \w+ {path}: unable to open database file "
            r"\(running as (user|uid) \S+: it must be able to write the database and the "
            r"directory it is in\)$",
        )
        self.assertFalse(backend.running)

    def test_checkedAsTheUserTwistdWillSwitchTo(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("switching users needs root")
        from twisted.scripts.twistd import ServerOptions

        os.chmod(self.directory, 0o755)  # nobody may look, not write
        db = str(self.directory / "status.db")
        config = ServerOptions()
        config.parseOptions(["-u", "nobody", "finger", "--store", db])
        with self.assertRaises(StartupError) as caught:
            tap.makeBackend(config.subOptions)
        self.assertEqual(
            str(caught.exception),
            f"finger: --store: cannot create {db}: Permission denied "
            "(checked as user nobody, who will run the service: it must be able to write "
            "the database and the directory it is in)",
        )
        # As root (no -u), the same store is fine.
        self.assertIsInstance(tap.makeBackend(parse("--store", db)), SQLiteFingerService)


class OptionsMixinTests(unittest.SynchronousTestCase):
    def test_aBackendIsChosenOnce(self):
        options = parse("--memory", "--user", "a=b", "--pwd", "--pwd-user", "root", "--memory")
        self.assertEqual(options["backends"], [("memory", None), ("pwd", None)])
        options = parse("--file", "a", "--file", "b", "--file", "a")
        self.assertEqual(options["backends"], [("file", "a"), ("file", "b")])

    def test_everyOptionListedOnce(self):
        usage = str(tap.Options())
        for option in ["--refresh", "--local-program", "--pwd-verbose", "--forward-hops",
                       "--web-status-ttl", "--timeout", "--file=", "--proxy", "--web-status="]:
            self.assertEqual(usage.count(option), 1, option)

    def test_hopLimit(self):
        self.assertEqual(hopLimit("3"), 3)
        for bad in ["0", "-1"]:
            with self.assertRaises(ValueError) as caught:
                hopLimit(bad)
            self.assertEqual(str(caught.exception), f"the hop limit must be at least 1, not {bad!r}")
        with self.assertRaises(ValueError) as caught:
            hopLimit("many")
        self.assertIn("invalid literal for int()", str(caught.exception))


class WebStatusOptionsTests(unittest.SynchronousTestCase):
    def test_webStatus(self):
        options = parse("--web-status", "https://s.example/{user}.txt", "--web-status-ttl", "0",
                        "--web-status-timeout", "2")
        backend = tap.makeBackend(options)
        self.assertIsInstance(backend, WebStatusService)
        self.assertEqual((backend.template, backend.ttl, backend.timeout),
                         ("https://s.example/{user}.txt", 0.0, 2.0))

    def test_badTemplateIsAUsageError(self):
        with self.assertRaises(StartupError) as caught:
            parse("--web-status", "https://s.example/")
        self.assertEqual(
            str(caught.exception),
            "finger: --web-status: the URL template must contain {user} "
            "(see: twistd finger --help)",
        )

    def test_unreadableCAIsAStartupError(self):
        missing = "/nonexistent/ca.pem"
        options = parse("--web-status", "https://s.example/{user}", "--web-status-ca", missing)
        with self.assertRaises(StartupError) as caught:
            tap.makeBackend(options)
        self.assertEqual(
            str(caught.exception),
            f"finger: --web-status-ca: cannot read {missing}: No such file or directory",
        )
