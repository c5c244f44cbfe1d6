"""The IAccountStore contract, as tests any store runs (mix into a TestCase with makeStore)."""

from __future__ import annotations

from twisted.internet import defer
from zope.interface.verify import verifyObject

from finger.accounts.interfaces import (
    MAX_WEBFINGER_BYTES,
    AccountError,
    AccountExists,
    IAccountStore,
    IAccountWebFinger,
    NoSuchAccount,
)


class AccountStoreContract:
    """C{self.makeStore()} returns a started, empty store; C{self.now} its clock's time."""

    now = 1700000000.0

    def makeStore(self) -> IAccountStore:
        raise NotImplementedError

    def test_provides(self):
        self.assertTrue(verifyObject(IAccountStore, self.makeStore()))

    @defer.inlineCallbacks
    def test_createGetList(self):
        store = self.makeStore()
        created = yield store.createAccount("bob", "hash-b", False)
        yield store.createAccount("alice", "hash-a", True)
        self.assertEqual((created.name, created.admin, created.createdAt), ("bob", False, self.now))
        alice = yield store.getAccount("alice")
        self.assertEqual((alice.name, alice.passwordHash, alice.admin), ("alice", "hash-a", True))
        self.assertIsNone(alice.lastUsedAt)
        names = [a.name for a in (yield store.listAccounts())]
        self.assertEqual(names, ["alice", "bob"])
        self.assertNotIn("hash-a", repr(alice))

    @defer.inlineCallbacks
    def test_errors(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield self.assertFailure(store.createAccount("alice", "h", False), AccountExists)
        yield self.assertFailure(store.createAccount("a b", "h", False), AccountError)
        yield self.assertFailure(store.createAccount("", "h", False), AccountError)
        yield self.assertFailure(store.getAccount("bob"), NoSuchAccount)
        yield self.assertFailure(store.setPasswordHash("bob", "h"), NoSuchAccount)
        yield self.assertFailure(store.deleteAccount("bob"), NoSuchAccount)
        yield self.assertFailure(store.addToken("bob", "id", "h"), NoSuchAccount)
        yield self.assertFailure(store.listTokens("bob"), NoSuchAccount)
        yield self.assertFailure(store.revokeTokens("bob"), NoSuchAccount)

    @defer.inlineCallbacks
    def test_password(self):
        store = self.makeStore()
        yield store.createAccount("alice", "old", False)
        yield store.setPasswordHash("alice", "new")
        self.assertEqual((yield store.getAccount("alice")).passwordHash, "new")

    @defer.inlineCallbacks
    def test_tokens(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield store.createAccount("bob", "h", False)
        record = yield store.addToken("alice", "aaaaaaaaaaaa", "hash1")
        self.assertEqual((record.id, record.name, record.tokenHash), ("aaaaaaaaaaaa", "alice", "hash1"))
        yield store.addToken("alice", "bbbbbbbbbbbb", "hash2")
        yield store.addToken("bob", "cccccccccccc", "hash3")
        self.assertEqual((yield store.getToken("bbbbbbbbbbbb")).tokenHash, "hash2")
        self.assertIsNone((yield store.getToken("dddddddddddd")))
        ids = [r.id for r in (yield store.listTokens("alice"))]
        self.assertEqual(sorted(ids), ["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
        self.assertEqual((yield store.revokeTokens("alice", "aaaaaaaaaaaa")), 1)
        self.assertEqual((yield store.revokeTokens("alice", "cccccccccccc")), 0)  # bob's
        self.assertIsNotNone((yield store.getToken("cccccccccccc")))
        self.assertEqual((yield store.revokeTokens("alice")), 1)
        self.assertEqual((yield store.listTokens("alice")), [])

    @defer.inlineCallbacks
    def test_deleteRemovesTokens(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield store.addToken("alice", "aaaaaaaaaaaa", "hash1")
        yield store.deleteAccount("alice")
        self.assertIsNone((yield store.getToken("aaaaaaaaaaaa")))
        yield self.assertFailure(store.getAccount("alice"), NoSuchAccount)
        yield store.createAccount("alice", "h", False)  # the name is free again
        self.assertEqual((yield store.listTokens("alice")), [])

    @defer.inlineCallbacks
    def test_touch(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield store.addToken("alice", "aaaaaaaaaaaa", "hash1")
        yield store.touch("alice", None, 5.0)
        self.assertEqual((yield store.getAccount("alice")).lastUsedAt, 5.0)
        self.assertIsNone((yield store.getToken("aaaaaaaaaaaa")).lastUsedAt)
        yield store.touch("alice", "aaaaaaaaaaaa", 6.0)
        self.assertEqual((yield store.getAccount("alice")).lastUsedAt, 6.0)
        self.assertEqual((yield store.getToken("aaaaaaaaaaaa")).lastUsedAt, 6.0)
        yield store.touch("nobody", None, 7.0)  # gone meanwhile: nothing to record


class AccountWebFingerContract:
    """The L{IAccountWebFinger} contract; C{self.makeStore()} as for L{AccountStoreContract}."""

    def makeStore(self):
        raise NotImplementedError

    def test_providesWebFinger(self):
        self.assertTrue(verifyObject(IAccountWebFinger, self.makeStore()))

    @defer.inlineCallbacks
    def test_webfingerSetGetClear(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield store.createAccount("bob", "h", False)
        self.assertIsNone((yield store.getWebFinger("alice")))
        yield store.setWebFinger("alice", '{"links": [{"rel": "me"}]}')
        self.assertEqual((yield store.getWebFinger("alice")), '{"links": [{"rel": "me"}]}')
        self.assertIsNone((yield store.getWebFinger("bob")))
        yield store.setWebFinger("alice", None)
        self.assertIsNone((yield store.getWebFinger("alice")))

    @defer.inlineCallbacks
    def test_webfingerRefusals(self):
        store = self.makeStore()
        yield self.assertFailure(store.getWebFinger("nobody"), NoSuchAccount)
        yield self.assertFailure(store.setWebFinger("nobody", "{}"), NoSuchAccount)
        yield store.createAccount("alice", "h", False)
        tooBig = '{"aliases": ["' + "é" * (MAX_WEBFINGER_BYTES // 2) + '"]}'
        yield self.assertFailure(store.setWebFinger("alice", tooBig), AccountError)
        self.assertIsNone((yield store.getWebFinger("alice")))
        fits = " " * MAX_WEBFINGER_BYTES
        yield store.setWebFinger("alice", fits)
        self.assertEqual((yield store.getWebFinger("alice")), fits)

    @defer.inlineCallbacks
    def test_webfingerGoesWithTheAccount(self):
        store = self.makeStore()
        yield store.createAccount("alice", "h", False)
        yield store.setWebFinger("alice", "{}")
        yield store.deleteAccount("alice")
        yield store.createAccount("alice", "h", False)
        self.assertIsNone((yield store.getWebFinger("alice")))
