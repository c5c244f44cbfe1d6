"""finger.accounts.throttle on a task.Clock."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from finger.accounts.throttle import LoginThrottle, Throttled


class ThrottleTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.throttle = LoginThrottle(maxFailures=3, window=60, clock=self.clock)

    def fail(self, name, peer, times=1):
        for _ in range(times):
            self.throttle.failed(name, peer)
            self.clock.advance(1)

    def test_belowTheLimit(self):
        self.fail("alice", "10.0.0.1", 2)
        self.assertIsNone(self.throttle.retryAfter("alice", "10.0.0.1"))
        self.throttle.check("alice", "10.0.0.1")

    def test_perAccount(self):
        """Failures for one name from many addresses block that name, from anywhere."""
        for n in range(3):
            self.fail("alice", f"10.0.0.{n}")
        error = self.assertRaises(Throttled, self.throttle.check, "alice", "192.0.2.9")
        self.assertEqual(error.retryAfter, 57)  # the first failure was at 0, now is 3
        self.assertIn("try again in 57 seconds", str(error))
        self.throttle.check("bob", "192.0.2.9")

    def test_perAddress(self):
        """Failures from one address for many names block that address, for any name."""
        for n in range(3):
            self.fail(f"user{n}", "10.0.0.1")
        self.assertRaises(Throttled, self.throttle.check, "newname", "10.0.0.1")
        self.throttle.check("newname", "10.0.0.2")

    def test_lifts(self):
        self.fail("alice", "10.0.0.1", 3)
        self.assertIsNotNone(self.throttle.retryAfter("alice", None))
        self.clock.advance(56)
        self.assertIsNotNone(self.throttle.retryAfter("alice", None))
        self.clock.advance(1)
        self.assertIsNone(self.throttle.retryAfter("alice", None))

    def test_slidingWindow(self):
        """Old failures drop out of the window one by one."""
        self.fail("alice", None, 2)
        self.clock.advance(58)  # the two failures were at 0 and 1; now 60
        self.fail("alice", None)  # at 60: the one at 0 is out of the window
        self.assertIsNone(self.throttle.retryAfter("alice", None))

    def test_bearerTokensCountPerAddress(self):
        """A bearer token names no account: only the address counts."""
        self.fail(None, "10.0.0.1", 3)
        self.assertIsNotNone(self.throttle.retryAfter(None, "10.0.0.1"))

    def test_bounded(self):
        throttle = LoginThrottle(maxFailures=3, window=60, clock=self.clock, maxTracked=10)
        for n in range(100):
            throttle.failed(f"user{n}", None)
        self.assertEqual(len(throttle._failures), 10)

    def test_retryAfterIsAWholeSecondAtLeast(self):
        self.assertEqual(Throttled(0.01).retryAfter, 1)
        self.assertEqual(Throttled(2.5).retryAfter, 3)
