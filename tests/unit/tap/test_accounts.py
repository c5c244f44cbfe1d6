"""finger.tap.accounts: the throttle options and which backends have accounts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from twisted.trial.unittest import TestCase

from finger.backends.chain import ChainFingerService
from finger.backends.memory import MemoryFingerService
from finger.backends.store import SQLiteFingerService
from finger.tap import Options, StartupError
from finger.tap.accounts import accountStoreOf, authenticatorFor


def options(*args: str) -> Options:
    parsed = Options()
    parsed.parseOptions(["--memory", *args])
    return parsed


class AccountsOptionsTests(TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.store = SQLiteFingerService(str(Path(directory) / "s.db"))

    def test_defaults(self):
        parsed = options()
        self.assertEqual((parsed["login-max-failures"], parsed["login-window"]), (10, 900.0))

    def test_given(self):
        authenticator = authenticatorFor(self.store, options("--login-max-failures", "3", "--login-window", "5"))
        self.assertIsNotNone(authenticator)
        self.assertEqual((authenticator.throttle.maxFailures, authenticator.throttle.window), (3, 5.0))

    def test_bad(self):
        self.assertRaises(StartupError, options, "--login-max-failures", "0")
        self.assertRaises(StartupError, options, "--login-window", "soon")

    def test_noAccountsWithoutAStore(self):
        self.assertIsNone(authenticatorFor(MemoryFingerService(), options()))

    def test_storeInAChain(self):
        chain = ChainFingerService([MemoryFingerService(), self.store])
        self.assertIs(accountStoreOf(chain), self.store)
        self.assertIsNotNone(authenticatorFor(chain, options()))
        self.assertIsNone(accountStoreOf(ChainFingerService([MemoryFingerService()])))


class PeerKeyTests(TestCase):
    def test_ipv6CountedByNetwork(self):
        """The throttle counts IPv6 clients by the same prefix as the connection limits."""
        from twisted.internet.address import IPv6Address

        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        store = SQLiteFingerService(str(Path(directory) / "s.db"))
        default = authenticatorFor(store, options())
        one, other = IPv6Address("TCP", "2001:db8::1", 1), IPv6Address("TCP", "2001:db8::2", 1)
        self.assertEqual(default.peerKey(one), default.peerKey(other))
        exact = authenticatorFor(store, options("--ipv6-prefix", "128"))
        self.assertNotEqual(exact.peerKey(one), exact.peerKey(other))
