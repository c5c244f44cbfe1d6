"""finger.accounts.cred: the checker (passwords, tokens, bearer tokens) and the realm."""

from __future__ import annotations

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import Portal
from twisted.internet import defer, task
from twisted.logger import Logger, formatEvent
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from finger.accounts import tokens
from finger.accounts.cred import (
    FAILED,
    AccountChecker,
    AccountRealm,
    BearerToken,
    IAccountAvatar,
    IBearerToken,
)
from finger.accounts.memory import MemoryAccountStore
from finger.interfaces import StoreError
from tests.helpers.accounts import fastHashing


class CheckerTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.hashing = fastHashing()
        self.store = MemoryAccountStore(clock=self.clock.seconds)
        self.store.createAccount("alice", self.hashing.hashNow("alice's password"), False)
        self.store.createAccount("bob", self.hashing.hashNow("bob's password"), False)
        self.token = tokens.newToken()
        self.store.addToken("alice", self.token.id, self.token.tokenHash)
        self.checker = AccountChecker(self.store, self.hashing, self.clock)

    def check(self, credentials):
        return self.checker.requestAvatarId(credentials)

    def refused(self, credentials):
        failure = self.failureResultOf(self.check(credentials), UnauthorizedLogin)
        self.assertEqual(str(failure.value), FAILED)

    def test_provides(self):
        self.assertTrue(verifyObject(ICredentialsChecker, self.checker))
        self.assertTrue(verifyObject(IBearerToken, BearerToken("x")))

    def test_password(self):
        self.assertEqual(self.successResultOf(self.check(UsernamePassword(b"alice", b"alice's password"))), b"alice")

    def test_wrongPassword(self):
        self.refused(UsernamePassword(b"alice", b"bob's password"))

    def test_unknownNameSameAnswerAndCost(self):
        """An unknown name gets the same failure, after an argon2id verification too."""
        calls = []
        verify = self.hashing.verify
        self.hashing.verify = lambda h, p: calls.append(h) or verify(h, p)  # type: ignore[method-assign]
        self.refused(UsernamePassword(b"carol", b"alice's password"))
        self.assertEqual(calls, [None])

    def test_nonUTF8(self):
        self.refused(UsernamePassword(b"\xff", b"x"))
        self.refused(UsernamePassword(b"alice", b"\xff"))

    def test_tokenAsPassword(self):
        self.assertEqual(self.successResultOf(self.check(UsernamePassword(b"alice", self.token.token.encode()))), b"alice")

    def test_tokenOfAnotherAccount(self):
        """alice's token is not bob's password."""
        self.refused(UsernamePassword(b"bob", self.token.token.encode()))

    def test_bearer(self):
        self.assertEqual(self.successResultOf(self.check(BearerToken(self.token.token))), b"alice")

    def test_badBearer(self):
        self.refused(BearerToken("nonsense"))
        self.refused(BearerToken(self.token.token[:-2] + "xx"))
        self.refused(BearerToken(tokens.newToken().token))  # well-formed, unknown id

    def test_revoked(self):
        self.store.revokeTokens("alice")
        self.refused(BearerToken(self.token.token))

    def test_touch(self):
        self.successResultOf(self.check(BearerToken(self.token.token)))
        self.assertEqual(self.successResultOf(self.store.getAccount("alice")).lastUsedAt, 1000)
        self.assertEqual(self.successResultOf(self.store.getToken(self.token.id)).lastUsedAt, 1000)

    def test_rehash(self):
        """A good login with a hash of old parameters stores a new hash."""
        old = self.successResultOf(self.store.getAccount("bob")).passwordHash
        checker = AccountChecker(self.store, fastHashing(timeCost=2), self.clock)
        self.successResultOf(checker.requestAvatarId(UsernamePassword(b"bob", b"bob's password")))
        new = self.successResultOf(self.store.getAccount("bob")).passwordHash
        self.assertNotEqual(old, new)
        self.assertIn("t=2", new)


class FullDiskStore(MemoryAccountStore):
    """Reads work; the writes a login makes fail, as on a full disk."""

    def touch(self, name, tokenId, when):
        return defer.fail(StoreError("the accounts store failed: database or disk is full"))

    def setPasswordHash(self, name, passwordHash):
        return defer.fail(StoreError("the accounts store failed: database or disk is full"))


class FullDiskTests(unittest.TestCase):
    """A login that cannot be recorded (last use, a new hash) still succeeds."""

    def setUp(self):
        self.hashing = fastHashing()
        self.store = FullDiskStore()
        self.store.createAccount("alice", self.hashing.hashNow("alice's password"), False)
        self.token = tokens.newToken()
        self.store.addToken("alice", self.token.id, self.token.tokenHash)
        self.logged = []
        self.patch(AccountChecker, "log", Logger(observer=self.logged.append))

    def test_tokenAndPassword(self):
        checker = AccountChecker(self.store, self.hashing, task.Clock())
        for credentials in [BearerToken(self.token.token), UsernamePassword(b"alice", b"alice's password")]:
            self.assertEqual(self.successResultOf(checker.requestAvatarId(credentials)), b"alice")
        self.assertEqual(
            [formatEvent(e) for e in self.logged],
            ["Could not record the login of 'alice': the accounts store failed: database or disk is full"] * 2,
        )
        self.assertNotIn("log_failure", self.logged[0])  # one line, no traceback

    def test_rehash(self):
        checker = AccountChecker(self.store, fastHashing(timeCost=2), task.Clock())
        avatarId = checker.requestAvatarId(UsernamePassword(b"alice", b"alice's password"))
        self.assertEqual(self.successResultOf(avatarId), b"alice")
        self.assertIn("Could not record the new password hash of 'alice'", formatEvent(self.logged[-1]))


class RealmTests(unittest.TestCase):
    def setUp(self):
        self.hashing = fastHashing()
        self.store = MemoryAccountStore()
        self.store.createAccount("root", self.hashing.hashNow("pw"), True)
        self.portal = Portal(AccountRealm(self.store), [AccountChecker(self.store, self.hashing, task.Clock())])

    def test_avatar(self):
        interface, avatar, logout = self.successResultOf(
            self.portal.login(UsernamePassword(b"root", b"pw"), None, IAccountAvatar)
        )
        self.assertIs(interface, IAccountAvatar)
        self.assertEqual((avatar.name, avatar.admin), ("root", True))
        logout()

    def test_otherInterfaces(self):
        self.failureResultOf(
            defer.maybeDeferred(AccountRealm(self.store).requestAvatar, b"root", None, ICredentialsChecker),
            NotImplementedError,
        )

    def test_deletedMeanwhile(self):
        self.failureResultOf(
            AccountRealm(self.store).requestAvatar(b"gone", None, IAccountAvatar), UnauthorizedLogin
        )
