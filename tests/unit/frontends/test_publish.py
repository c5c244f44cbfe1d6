"""finger.frontends.publish: the write flow's checks, in order."""

from __future__ import annotations

from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer
from twisted.trial import unittest

from finger.accounts.cred import BearerToken
from finger.backends.memory import MemoryFingerService
from finger.frontends import publish
from finger.interfaces import IFingerService, StoreError
from tests.helpers.accounts import HERE, THERE, loginGate


class PublishTests(unittest.TestCase):
    def setUp(self):
        gate = loginGate(root=True, token=True, maxFailures=2)
        self.clock, self.accounts = gate.clock, gate.store
        self.auth, self.token = gate.auth, gate.token
        self.service = MemoryFingerService({"bob": "Bob's"})

    def publish(self, credentials, target="alice", status="Gone fishing", address=HERE,
                secure=False, auth=None, service=None):
        return defer.ensureDeferred(publish.publish(
            service or self.service, self.auth if auth is None else auth, credentials,
            address, secure, target, status,
        ))

    def refused(self, kind, *args, **kwargs):
        return self.failureResultOf(self.publish(*args, **kwargs), kind).value

    def test_set(self):
        written = self.successResultOf(self.publish(BearerToken(self.token.token)))
        self.assertEqual((written.account, written.name, written.status), ("alice", "alice", "Gone fishing"))
        self.assertIsInstance(written.setAt, float)
        self.assertEqual(self.successResultOf(self.service.getUser("alice")), "Gone fishing")

    def test_clear(self):
        written = self.successResultOf(self.publish(UsernamePassword(b"root", b"rootpw"), "bob", None))
        self.assertIsNone(written.status)
        self.assertEqual(list(self.successResultOf(self.service.getUsers())), [])

    def test_noAccounts(self):
        error = defer.ensureDeferred(publish.publish(self.service, None, None, HERE, False, "a", "x"))
        self.assertIn("no accounts configured", str(self.failureResultOf(error, publish.NoAccounts).value))

    def test_insecureBeforeAnythingElse(self):
        """Plain HTTP from another host: refused, saying why, before credentials are looked at."""
        error = self.refused(publish.InsecureTransport, BearerToken(self.token.token), address=THERE)
        self.assertIn("only over HTTPS or from this host", str(error))
        self.successResultOf(self.publish(BearerToken(self.token.token), address=THERE, secure=True))

    def test_noCredentials(self):
        self.refused(publish.NoCredentials, None)

    def test_wrong(self):
        self.refused(publish.LoginFailed, UsernamePassword(b"alice", b"nope"))
        self.refused(publish.LoginFailed, BearerToken("fngr_000000000000_" + "a" * 43))

    def test_throttled(self):
        for _ in range(2):
            self.refused(publish.LoginFailed, UsernamePassword(b"alice", b"nope"))
        error = self.refused(publish.LoginThrottled, UsernamePassword(b"alice", b"pw"))
        self.assertEqual(error.retryAfter, 60)

    def test_forbidden(self):
        error = self.refused(publish.Forbidden, BearerToken(self.token.token), target="bob")
        self.assertEqual(str(error), "alice may not write the status of bob")
        self.assertEqual(self.successResultOf(self.service.getUser("bob")), "Bob's")

    def test_admin(self):
        self.successResultOf(self.publish(UsernamePassword(b"root", b"rootpw"), "bob"))
        self.assertEqual(self.successResultOf(self.service.getUser("bob")), "Gone fishing")

    def test_badStatus(self):
        self.refused(publish.BadStatus, BearerToken(self.token.token), status="x" * (publish.MAX_STATUS + 1))
        self.refused(publish.BadStatus, BearerToken(self.token.token), status=42)
        self.successResultOf(self.publish(BearerToken(self.token.token), status="x" * publish.MAX_STATUS))

    def test_badName(self):
        self.refused(publish.BadName, UsernamePassword(b"root", b"rootpw"), target="a b")

    def test_storeFails(self):
        class Failing(MemoryFingerService):
            def setUser(self, name, status):
                return defer.fail(StoreError("disk full"))

        error = self.refused(publish.CannotStore, BearerToken(self.token.token), service=Failing())
        self.assertEqual(str(error), "disk full")

    def test_readOnly(self):
        from zope.interface import implementer

        @implementer(IFingerService)
        class ReadOnly:
            def getUser(self, name):
                return defer.succeed("")

            def getUsers(self):
                return defer.succeed(())

        self.refused(publish.CannotStore, BearerToken(self.token.token), service=ReadOnly())
        self.refused(publish.CannotStore, BearerToken(self.token.token), status=None, service=ReadOnly())
