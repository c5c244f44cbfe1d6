"""The change feed: fan-out, unsubscribing, and subscribers that fail."""

from twisted.logger import Logger
from twisted.trial import unittest

from finger.feed import ChangeFeed, StatusChange
from finger.interfaces import IFingerChangeFeed, ISubscription


class ChangeFeedTests(unittest.TestCase):
    def setUp(self):
        self.feed = ChangeFeed()
        self.logged = []
        self.feed.log = Logger(observer=self.logged.append)

    def test_subscribersGetEveryChangeInOrder(self):
        first, second = [], []
        self.feed.subscribe(first.append)
        self.feed.subscribe(second.append)
        changes = [StatusChange("alice", "a", 1.0), StatusChange("bob", None, 2.0)]
        for change in changes:
            self.feed.publish(change)
        self.assertEqual(first, changes)
        self.assertEqual(second, changes)
        self.assertTrue(IFingerChangeFeed.providedBy(self.feed))

    def test_unsubscribeStopsDeliveryAndIsIdempotent(self):
        seen = []
        subscription = self.feed.subscribe(seen.append)
        self.assertTrue(ISubscription.providedBy(subscription))
        subscription.unsubscribe()
        subscription.cancel()
        self.feed.publish(StatusChange("alice", "a", 1.0))
        self.assertEqual(seen, [])
        self.assertEqual(len(self.feed), 0)

    def test_unsubscribingAnotherDuringDeliverySkipsIt(self):
        seen = []
        later = None

        def first(change):
            later.unsubscribe()

        self.feed.subscribe(first)
        later = self.feed.subscribe(seen.append)
        self.feed.publish(StatusChange("alice", "a", 1.0))
        self.assertEqual(seen, [])

    def test_aFailingSubscriberIsLoggedOnceAndOthersStillGetChanges(self):
        seen = []

        def broken(change):
            raise RuntimeError("boom")

        self.feed.subscribe(broken)
        self.feed.subscribe(seen.append)
        for n in range(3):
            self.feed.publish(StatusChange("alice", str(n), 1.0))
        self.assertEqual([c.status for c in seen], ["0", "1", "2"])
        failures = [e for e in self.logged if "log_failure" in e]
        self.assertEqual(len(failures), 1)
        self.assertIn("further failures are not logged", failures[0]["log_format"])
        self.flushLoggedErrors(RuntimeError)
