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
