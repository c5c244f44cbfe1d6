"""finger.accounts.hashing: argon2id, off the reactor thread, bounded concurrency."""

from __future__ import annotations

import threading

from twisted.internet import defer
from twisted.trial import unittest

from finger.accounts import hashing
from finger.accounts.hashing import PasswordHashing, PasswordProblem
from tests.helpers.accounts import fastHashing


class HashingTests(unittest.TestCase):
    def test_argon2id(self):
        """Hashes are argon2id in the PHC format, salted (two hashes differ)."""
        h = fastHashing()
        first, second = h.hashNow("secret"), h.hashNow("secret")
        self.assertTrue(first.startswith("$argon2id$"), first)
        self.assertNotEqual(first, second)
        self.assertNotIn("secret", first)

    def test_defaultsAreSlow(self):
        """The default parameters are argon2-cffi's (64 MiB, 3 passes), not a fast hash."""
        h = PasswordHashing(runInThread=lambda f, *a: defer.maybeDeferred(f, *a))
        stored = h.hashNow("secret")
        self.assertIn("m=65536,t=3,p=4", stored)

    def test_verify(self):
        h = fastHashing()
        stored = h.hashNow("secret")
        self.assertTrue(h.verifyNow(stored, "secret"))
        self.assertFalse(h.verifyNow(stored, "Secret"))
        self.assertFalse(h.verifyNow("not a hash", "secret"))

    def test_unknownAccountCostsAVerification(self):
        """C{None} (no account) is verified against a dummy hash, and never matches."""
        h = fastHashing()
        calls = []
        original = h._verify
        h._verify = lambda *a: calls.append(a) or original(*a)  # type: ignore[method-assign]
        self.assertFalse(h.verifyNow(None, "not a password: no such account"))
        self.assertEqual(len(calls), 1)

    def test_refused(self):
        h = fastHashing()
        self.assertRaises(PasswordProblem, h.hashNow, "")
        self.assertRaises(PasswordProblem, h.hashNow, "x" * (hashing.MAX_PASSWORD_LENGTH + 1))
        self.failureResultOf(h.hash(""), PasswordProblem)

    def test_tooLongNeverMatches(self):
        h = fastHashing()
        stored = h.hashNow("x" * hashing.MAX_PASSWORD_LENGTH)
        self.assertFalse(h.verifyNow(stored, "x" * (hashing.MAX_PASSWORD_LENGTH + 1)))

    def test_needsRehash(self):
        old = fastHashing().hashNow("secret")
        stronger = PasswordHashing(
            timeCost=2, memoryCost=64, parallelism=1, runInThread=fastHashing()._runInThread
        )
        self.assertTrue(stronger.needsRehash(old))
        self.assertFalse(fastHashing().needsRehash(old))


class ThreadTests(unittest.TestCase):
    def test_offTheReactorThread(self):
        """With the default runner, hashing runs in the reactor's thread pool."""
        from twisted.internet import reactor

        h = PasswordHashing(reactor, timeCost=1, memoryCost=64, parallelism=1)
        seen = []
        original = h.hashNow

        def hashNow(password):
            seen.append(threading.current_thread())
            return original(password)

        h.hashNow = hashNow  # type: ignore[method-assign]

        def check(result):
            self.assertTrue(result.startswith("$argon2id$"))
            self.assertNotEqual(seen, [threading.main_thread()])
            self.assertEqual(len(seen), 1)

        return h.hash("secret").addCallback(check)

    def test_boundedConcurrency(self):
        """At most MAX_CONCURRENT_HASHES run at once; the rest wait their turn."""
        started: list[defer.Deferred] = []

        def runner(function, *args):
            d: defer.Deferred = defer.Deferred()
            started.append(d)
            return d

        h = PasswordHashing(timeCost=1, memoryCost=64, parallelism=1, runInThread=runner)
        results = [h.hash("secret") for _ in range(5)]
        self.assertEqual(len(started), hashing.MAX_CONCURRENT_HASHES)
        started[0].callback("done")
        self.assertEqual(self.successResultOf(results[0]), "done")
        self.assertEqual(len(started), hashing.MAX_CONCURRENT_HASHES + 1)
