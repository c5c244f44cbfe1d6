"""finger.frontends.pblogin: PB login over TLS or loopback only, throttled; the account object."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from finger.accounts.gate import INSECURE, NO_ACCOUNTS
from finger.backends.memory import MemoryFingerService
from finger.frontends.pblogin import FingerPBAccount, LoginRefused, WriteRefused, logIn
from finger.querylog import QueryLog
from tests.helpers.accounts import HERE, THERE, loginGate


class LoginTests(unittest.TestCase):
    def setUp(self):
        gate = loginGate(root=True)
        self.clock, self.store, self.auth = gate.clock, gate.store, gate.auth
        self.service = MemoryFingerService({"bob": "Bob's"})

    def login(self, name, secret, peer=HERE, secure=False, auth="default"):
        transport = StringTransport(peerAddress=peer)
        return defer.ensureDeferred(logIn(
            self.service, self.auth if auth == "default" else auth, QueryLog(False),
            transport, secure, name, secret,
        ))

    def refusal(self, *args, **kwargs):
        return str(self.failureResultOf(self.login(*args, **kwargs), LoginRefused).value)

    def test_loopbackLogin(self):
        account = self.successResultOf(self.login("alice", "pw"))
        self.assertIsInstance(account, FingerPBAccount)
        self.assertEqual(account.avatar.name, "alice")

    def test_plainTextFromAnotherHostIsRefusedBeforeAnyCheck(self):
        self.assertEqual(self.refusal("alice", "pw", peer=THERE), INSECURE)
        # Over TLS the same client may log in.
        account = self.successResultOf(self.login("alice", "pw", peer=THERE, secure=True))
        self.assertEqual(account.avatar.name, "alice")

    def test_noAccounts(self):
        self.assertEqual(self.refusal("alice", "pw", auth=None), NO_ACCOUNTS)

    def test_badArguments(self):
        self.assertEqual(self.refusal(7, "pw"), "the name must be a string, not int")
        self.assertEqual(self.refusal("alice", "x" * 2000), "the secret is too long (limit 1024 characters)")

    def test_throttledAfterFailuresAndLifted(self):
        for _ in range(3):
            self.refusal("alice", "wrong")
        self.assertIn("too many failed logins; try again in", self.refusal("alice", "pw"))
        self.clock.advance(61)
        self.successResultOf(self.login("alice", "pw"))

    def test_accountWritesOnlyWhatTheRuleAllows(self):
        account = self.successResultOf(self.login("alice", "pw"))
        result = self.successResultOf(account.remote_setStatus("p", "Gone fishing"))
        self.assertEqual((result["name"], result["status"]), ("alice", "Gone fishing"))
        refused = self.failureResultOf(account.remote_setUser("p", "bob", "forged"), WriteRefused)
        self.assertEqual(str(refused.value), "alice may not write the status of bob")
        self.assertEqual(self.successResultOf(self.service.getUser("bob")), "Bob's")
        admin = self.successResultOf(self.login("root", "rootpw"))
        self.successResultOf(admin.remote_setUser("p", "bob", "by root"))
        self.assertEqual(self.successResultOf(self.service.getUser("bob")), "by root")
        self.failureResultOf(account.remote_setStatus("p", "x" * 70000), WriteRefused)
