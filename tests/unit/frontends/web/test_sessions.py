"""Unit tests of the web session store (finger.frontends.web.sessions), on a task.Clock."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from finger.frontends.web.sessions import SessionStore, digestOf


def makeStore(**kwargs) -> tuple[Clock, SessionStore]:
    clock = Clock()
    clock.advance(1_000_000)
    return clock, SessionStore(clock=clock, **kwargs)


class SessionStoreTests(TestCase):
    def test_idsAreFreshLongAndKeptOnlyAsDigests(self):
        _, store = makeStore()
        ids = {store.begin("alice", False, True)[0] for _ in range(5)}
        self.assertEqual(len(ids), 5)
        for sessionId in ids:
            self.assertGreaterEqual(len(sessionId), 43)  # 32 random bytes
            self.assertIsNotNone(store.find(sessionId, True))
        kept = repr(store._sessions)
        for sessionId in ids:
            self.assertNotIn(sessionId, kept)

    def test_findsOnlyTheRightId(self):
        _, store = makeStore()
        sessionId, session = store.begin("alice", True, True)
        self.assertIs(store.find(sessionId, True), session)
        self.assertIsNone(store.find(sessionId[:-1] + ("A" if sessionId[-1] != "A" else "B"), True))
        self.assertIsNone(store.find("", True))
        self.assertIsNone(store.find("x" * 10_000, True))
        self.assertEqual(session.digest, digestOf(sessionId))

    def test_sessionFromHTTPSIsNotFoundOverHTTPAndTheReverse(self):
        _, store = makeStore()
        secureId, _ = store.begin("alice", False, secure=True)
        plainId, _ = store.begin("bob", False, secure=False)
        self.assertIsNone(store.find(secureId, secure=False))
        self.assertIsNone(store.find(plainId, secure=True))
        self.assertIsNotNone(store.find(secureId, secure=True))
        self.assertIsNotNone(store.find(plainId, secure=False))

    def test_idleSessionsEnd(self):
        clock, store = makeStore(idle=100, lifetime=1000)
        sessionId, _ = store.begin("alice", False, True)
        clock.advance(99)
        self.assertIsNotNone(store.find(sessionId, True))  # a use: the idle time restarts
        clock.advance(99)
        self.assertIsNotNone(store.find(sessionId, True))
        clock.advance(100)
        self.assertIsNone(store.find(sessionId, True))
        self.assertEqual(len(store), 0)

    def test_everySessionEndsAfterItsLifetime(self):
        clock, store = makeStore(idle=100, lifetime=250)
        sessionId, _ = store.begin("alice", False, True)
        for _ in range(4):
            clock.advance(60)
            self.assertIsNotNone(store.find(sessionId, True))
        clock.advance(10)  # 250 s since sign-in, though used 10 s ago
        self.assertIsNone(store.find(sessionId, True))

    def test_endEndsIt(self):
        _, store = makeStore()
        sessionId, session = store.begin("alice", False, True)
        store.end(session)
        store.end(session)
        self.assertIsNone(store.find(sessionId, True))

    def test_capacityEvictsTheLeastRecentlyUsed(self):
        clock, store = makeStore(capacity=3, perAccount=10)
        first, _ = store.begin("a", False, True)
        second, _ = store.begin("b", False, True)
        third, _ = store.begin("c", False, True)
        clock.advance(1)
        store.find(first, True)  # now the most recently used
        fourth, _ = store.begin("d", False, True)
        self.assertEqual(len(store), 3)
        self.assertIsNone(store.find(second, True))
        for sessionId in (first, third, fourth):
            self.assertIsNotNone(store.find(sessionId, True))

    def test_expiredSessionsGoFirstWhenFull(self):
        clock, store = makeStore(capacity=2, idle=10, lifetime=1000)
        old, _ = store.begin("a", False, True)
        clock.advance(5)
        recent, _ = store.begin("b", False, True)
        clock.advance(6)  # old has been idle 11 s, recent 6 s
        store.begin("c", False, True)
        self.assertIsNotNone(store.find(recent, True))

    def test_oneAccountCannotCrowdOthersOut(self):
        _, store = makeStore(capacity=100, perAccount=3)
        others = store.begin("bob", False, True)[0]
        mine = [store.begin("mallory", False, True)[0] for _ in range(50)]
        self.assertEqual(len(store), 4)
        self.assertIsNotNone(store.find(others, True))
        self.assertEqual([store.find(i, True) is not None for i in mine[-4:]], [False, True, True, True])

    def test_endAllFor(self):
        _, store = makeStore()
        a1, _ = store.begin("alice", False, True)
        a2, _ = store.begin("alice", False, False)
        b, _ = store.begin("bob", False, True)
        self.assertEqual(store.endAllFor("alice"), 2)
        self.assertIsNone(store.find(a1, True))
        self.assertIsNone(store.find(a2, False))
        self.assertIsNotNone(store.find(b, True))


class CSRFTokenTests(TestCase):
    def test_boundToItsSession(self):
        _, store = makeStore()
        _, mine = store.begin("alice", False, True)
        _, theirs = store.begin("bob", False, True)
        self.assertNotEqual(mine.csrf, theirs.csrf)
        self.assertGreaterEqual(len(mine.csrf), 43)
        self.assertTrue(mine.csrfMatches(mine.csrf))
        self.assertFalse(mine.csrfMatches(theirs.csrf))
        self.assertFalse(mine.csrfMatches(None))
        self.assertFalse(mine.csrfMatches(""))
        self.assertFalse(mine.csrfMatches(mine.csrf[:-1]))
        self.assertFalse(mine.csrfMatches("\udcff" + mine.csrf))

    def test_aNewSessionHasANewToken(self):
        _, store = makeStore()
        _, before = store.begin("alice", False, True)
        store.end(before)
        _, after = store.begin("alice", False, True)
        self.assertFalse(after.csrfMatches(before.csrf))
