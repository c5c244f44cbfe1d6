"""finger.accounts.standing: a login is checked again at each write."""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial import unittest

from finger.accounts.memory import MemoryAccountStore
from finger.accounts.standing import LAPSED, LoginLapsed, basisOf, confirm
from finger.accounts.tokens import newToken


class StandingTests(unittest.TestCase):
    def setUp(self):
        self.store = MemoryAccountStore()
        self.successResultOf(self.store.createAccount("alice", "hash-1", False))
        self.token = newToken()
        self.successResultOf(self.store.addToken("alice", self.token.id, self.token.tokenHash))

    def basis(self, secret):
        return self.successResultOf(defer.ensureDeferred(basisOf(self.store, "alice", secret)))

    def confirmed(self, basis):
        return defer.ensureDeferred(confirm(self.store, basis))

    def assertLapsed(self, basis):
        failure = self.failureResultOf(self.confirmed(basis), LoginLapsed)
        self.assertEqual(str(failure.value.args[0]), LAPSED)

    def test_standsWhileNothingChanges(self):
        for basis in [self.basis("the password"), self.basis(self.token.token)]:
            avatar = self.successResultOf(self.confirmed(basis))
            self.assertEqual((avatar.name, avatar.admin), ("alice", False))

    def test_passwordLoginLapsesWhenThePasswordChanges(self):
        basis = self.basis("the password")
        self.assertNotIn("hash-1", repr(basis))
        self.successResultOf(self.store.setPasswordHash("alice", "hash-2"))
        self.assertLapsed(basis)

    def test_tokenLoginSurvivesPasswdButNotRevoke(self):
        basis = self.basis(self.token.token)
        self.assertEqual(basis.tokenId, self.token.id)
        self.successResultOf(self.store.setPasswordHash("alice", "hash-2"))
        self.successResultOf(self.confirmed(basis))
        self.successResultOf(self.store.revokeTokens("alice", self.token.id))
        self.assertLapsed(basis)

    def test_deletedAccountLapses(self):
        bases = [self.basis("the password"), self.basis(self.token.token)]
        self.successResultOf(self.store.deleteAccount("alice"))
        for basis in bases:
            self.assertLapsed(basis)
        self.failureResultOf(
            defer.ensureDeferred(basisOf(self.store, "alice", "the password")), LoginLapsed
        )

    def test_recreatedAccountDoesNotRevive(self):
        """A new account of the same name (a new hash) is not the one logged in."""
        basis = self.basis("the password")
        self.successResultOf(self.store.deleteAccount("alice"))
        self.successResultOf(self.store.createAccount("alice", "hash-new", True))
        self.assertLapsed(basis)
