"""finger.accounts.gate: login with throttling; who may carry credentials."""

from __future__ import annotations

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.trial import unittest

from finger.accounts.cred import BearerToken
from finger.accounts.gate import buildAuthenticator, isLoopback, mayCarryCredentials
from finger.accounts.throttle import Throttled
from tests.helpers.accounts import HERE, THERE, fastHashing, loginGate


class LoginTests(unittest.TestCase):
    def setUp(self):
        gate = loginGate(token=True)
        self.clock, self.store, self.throttle = gate.clock, gate.store, gate.throttle
        self.auth, self.token = gate.auth, gate.token

    def login(self, name, password, address=THERE):
        return self.auth.login(UsernamePassword(name, password), address)

    def test_good(self):
        avatar = self.successResultOf(self.login(b"alice", b"pw"))
        self.assertEqual((avatar.name, avatar.admin), ("alice", False))

    def test_throttledPerAccount(self):
        """After 3 failures the right password is refused too, with the wait; then it lifts."""
        for _ in range(3):
            self.failureResultOf(self.login(b"alice", b"wrong"), UnauthorizedLogin)
        failure = self.failureResultOf(self.login(b"alice", b"pw", HERE), Throttled)
        self.assertEqual(failure.value.retryAfter, 60)
        self.clock.advance(60)
        self.successResultOf(self.login(b"alice", b"pw"))

    def test_unknownNameCountsTheSame(self):
        for _ in range(3):
            failure = self.failureResultOf(self.login(b"nobody", b"pw"), UnauthorizedLogin)
            self.assertEqual(str(failure.value), "wrong name, password or token")
        self.failureResultOf(self.login(b"nobody", b"pw", HERE), Throttled)

    def test_throttledPerAddress(self):
        for n in range(3):
            self.failureResultOf(self.login(b"user%d" % n, b"pw"), UnauthorizedLogin)
        self.failureResultOf(self.auth.login(BearerToken(self.token.token), THERE), Throttled)
        self.successResultOf(self.auth.login(BearerToken(self.token.token), HERE))

    def test_peerKeySwappable(self):
        """The address key comes from the given function (e.g. IPv6 by /64)."""
        auth = buildAuthenticator(
            self.store, fastHashing(), self.throttle, peerKey=lambda address: "everyone",
            clock=self.clock,
        )
        for n in range(3):
            self.failureResultOf(auth.login(UsernamePassword(b"u%d" % n, b"x"), THERE), UnauthorizedLogin)
        self.failureResultOf(auth.login(UsernamePassword(b"alice", b"pw"), HERE), Throttled)

    def test_mayWrite(self):
        avatar = self.successResultOf(self.login(b"alice", b"pw"))
        self.assertTrue(self.auth.mayWrite(avatar, "alice"))
        self.assertFalse(self.auth.mayWrite(avatar, "bob"))


class TransportTests(unittest.TestCase):
    def test_loopback(self):
        self.assertTrue(isLoopback(HERE))
        self.assertTrue(isLoopback(IPv4Address("TCP", "127.1.2.3", 1)))
        self.assertTrue(isLoopback(IPv6Address("TCP", "::1", 1)))
        self.assertTrue(isLoopback(IPv6Address("TCP", "::ffff:127.0.0.1", 1)))
        self.assertTrue(isLoopback(UNIXAddress(b"/run/x")))
        self.assertFalse(isLoopback(THERE))
        self.assertFalse(isLoopback(IPv6Address("TCP", "2001:db8::1", 1)))
        self.assertFalse(isLoopback(IPv4Address("TCP", "not an address", 1)))
        self.assertFalse(isLoopback(None))

    def test_mayCarry(self):
        self.assertTrue(mayCarryCredentials(THERE, secure=True))
        self.assertTrue(mayCarryCredentials(HERE, secure=False))
        self.assertFalse(mayCarryCredentials(THERE, secure=False))
