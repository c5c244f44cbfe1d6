"""The memory backend."""

from twisted.trial import unittest

from finger.backends.memory import MemoryFingerService
from finger.interfaces import IFingerService, IFingerSetterService, StoreError, UserNotFound


class MemoryBackendTests(unittest.TestCase):
    def test_providesBothInterfaces(self):
        service = MemoryFingerService()
        self.assertTrue(IFingerService.providedBy(service))
        self.assertTrue(IFingerSetterService.providedBy(service))

    def test_seededUsersAreServedSorted(self):
        service = MemoryFingerService({"bob": "b", "alice": "a"})
        self.assertEqual(self.successResultOf(service.getUser("alice")), "a")
        self.assertEqual(list(self.successResultOf(service.getUsers())), ["alice", "bob"])

    def test_unknownUserFails(self):
        failure = self.failureResultOf(MemoryFingerService().getUser("zed"), UserNotFound)
        self.assertEqual(str(failure.value), "no such user: zed")

    def test_setUserAddsAndReplaces(self):
        service = MemoryFingerService({"bob": "b"})
        self.successResultOf(service.setUser("alice", "new"))
        self.successResultOf(service.setUser("bob", "changed"))
        self.assertEqual(list(self.successResultOf(service.getUsers())), ["alice", "bob"])
        self.assertEqual(self.successResultOf(service.getUser("bob")), "changed")

    def test_invalidNameIsRefused(self):
        service = MemoryFingerService()
        self.failureResultOf(service.setUser("a@b", "x"), StoreError)
        self.assertEqual(list(self.successResultOf(service.getUsers())), [])


class MemoryClearTests(unittest.TestCase):
    def test_clear(self):
        from finger.interfaces import IFingerClearService

        service = MemoryFingerService({"alice": "x", "bob": "y"})
        self.assertTrue(IFingerClearService.providedBy(service))
        self.assertEqual(list(self.successResultOf(service.getUsers())), ["alice", "bob"])
        self.successResultOf(service.clearUser("alice"))
        self.failureResultOf(service.getUser("alice"), UserNotFound)
        self.assertEqual(list(self.successResultOf(service.getUsers())), ["bob"])
        self.successResultOf(service.clearUser("alice"))


class MemoryChangeFeedTests(unittest.TestCase):
    def test_everySetIsPublishedWithItsTime(self):
        from finger.feed import StatusChange
        from finger.interfaces import IFingerChangeFeed

        service = MemoryFingerService({"bob": "b"}, clock=lambda: 42.0)
        self.assertTrue(IFingerChangeFeed.providedBy(service))
        seen = []
        subscription = service.subscribe(seen.append)
        self.successResultOf(service.setUser("alice", "new"))
        self.successResultOf(service.setUser("bob", "b"))
        self.assertEqual(seen, [StatusChange("alice", "new", 42.0), StatusChange("bob", "b", 42.0)])
        subscription.unsubscribe()
        self.successResultOf(service.setUser("bob", "again"))
        self.assertEqual(len(seen), 2)

    def test_invalidNameIsNotPublished(self):
        service = MemoryFingerService()
        seen = []
        service.subscribe(seen.append)
        self.failureResultOf(service.setUser("a b", "x"), StoreError)
        self.assertEqual(seen, [])

    def test_aBrokenSubscriberDoesNotBreakTheSetter(self):
        service = MemoryFingerService()

        def broken(change):
            raise ValueError("subscriber bug")

        service.subscribe(broken)
        self.assertIsNone(self.successResultOf(service.setUser("alice", "x")))
        self.assertEqual(self.successResultOf(service.getUser("alice")), "x")
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)


class MemoryClearFeedTests(unittest.TestCase):
    def test_clearPublishesARemoval(self):
        service = MemoryFingerService({"alice": "x"})
        changes = []
        service.subscribe(changes.append)
        snapshot = service.snapshot()
        service.clearUser("alice")
        service.clearUser("alice")
        self.assertEqual([(c.name, c.status) for c in changes], [("alice", None)])
        self.assertEqual(self.successResultOf(snapshot.getUser("alice")), "x")  # copy on write
