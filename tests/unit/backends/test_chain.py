"""Chaining backends: order, union, setter, optional interfaces, services."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.application import service
from twisted.internet import defer
from twisted.trial import unittest
from zope.interface import implementer

from finger.backends.chain import ChainFingerService, sortedUnion
from finger.backends.memory import MemoryFingerService
from finger.interfaces import (
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    IFingerVerboseService,
    UserNotFound,
)


@implementer(IFingerService)
class ReadOnly:
    """A plain, non-settable backend (not a service)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.asked: list[str] = []

    def getUser(self, name):
        self.asked.append(name)
        if name in self.users:
            return defer.succeed(self.users[name])
        return defer.fail(UserNotFound(name))

    def getUsers(self):
        return defer.succeed(tuple(sorted(self.users)))


@implementer(IFingerVerboseService)
class Verbose(ReadOnly):
    def getUserVerbose(self, name):
        return self.getUser(name).addCallback(lambda status: status + "\nverbose")


@implementer(IFingerDetails)
class Detailed(MemoryFingerService):
    def getUserDetails(self, name):
        return self.getUser(name).addCallback(lambda s: {"status": s, "setAt": 42.0})


class Broken(ReadOnly):
    def getUser(self, name):
        return defer.fail(RuntimeError("backend on fire"))

    def getUsers(self):
        return defer.fail(RuntimeError("backend on fire"))


class ChainTests(unittest.TestCase):
    def test_firstThatKnowsAnswers(self):
        first = ReadOnly({"alice": "from first"})
        second = ReadOnly({"alice": "from second", "bob": "from second"})
        chain = ChainFingerService([first, second])
        self.assertEqual(self.successResultOf(chain.getUser("alice")), "from first")
        self.assertEqual(second.asked, [])
        self.assertEqual(self.successResultOf(chain.getUser("bob")), "from second")
        self.failureResultOf(chain.getUser("carol"), UserNotFound)
        self.assertEqual(first.asked, ["alice", "bob", "carol"])
        self.assertEqual(second.asked, ["bob", "carol"])

    def test_orderMatters(self):
        first = ReadOnly({"alice": "from first"})
        second = ReadOnly({"alice": "from second"})
        chain = ChainFingerService([second, first])
        self.assertEqual(self.successResultOf(chain.getUser("alice")), "from second")

    def test_errorsAreNotHidden(self):
        chain = ChainFingerService([Broken({}), ReadOnly({"alice": "here"})])
        failure = self.failureResultOf(chain.getUser("alice"), RuntimeError)
        self.assertEqual(str(failure.value), "backend on fire")
        self.failureResultOf(chain.getUsers(), RuntimeError)

    def test_usersAreSortedUnionWithoutDuplicates(self):
        chain = ChainFingerService(
            [
                ReadOnly({"carol": "", "alice": ""}),
                MemoryFingerService({"bob": "", "alice": "", "zed": ""}),
                ReadOnly({}),
                ReadOnly({"aaron": "", "zed": ""}),
            ]
        )
        self.assertEqual(
            self.successResultOf(chain.getUsers()), ("aaron", "alice", "bob", "carol", "zed")
        )

    def test_unionIsReusedWhileBackendsAreUnchanged(self):
        memory = MemoryFingerService({"bob": "", "alice": ""})
        other = MemoryFingerService({"carol": ""})
        chain = ChainFingerService([memory, other])
        names = self.successResultOf(chain.getUsers())
        self.assertIs(self.successResultOf(chain.getUsers()), names)
        self.successResultOf(memory.setUser("aaron", "new"))
        self.assertEqual(
            self.successResultOf(chain.getUsers()), ("aaron", "alice", "bob", "carol")
        )
        self.assertEqual(names, ("alice", "bob", "carol"))

    def test_setGoesToFirstSettable(self):
        readOnly = ReadOnly({"alice": "read only"})
        first = MemoryFingerService()
        second = MemoryFingerService()
        chain = ChainFingerService([readOnly, first, second])
        self.assertTrue(IFingerSetterService.providedBy(chain))
        self.successResultOf(chain.setUser("bob", "set"))
        self.assertEqual(self.successResultOf(first.getUser("bob")), "set")
        self.failureResultOf(second.getUser("bob"), UserNotFound)
        self.assertEqual(self.successResultOf(chain.getUser("bob")), "set")
        # An earlier backend still answers first for a name it knows.
        self.successResultOf(chain.setUser("alice", "shadowed"))
        self.assertEqual(self.successResultOf(chain.getUser("alice")), "read only")

    def test_settableOnlyIfABackendIs(self):
        chain = ChainFingerService([ReadOnly({}), ReadOnly({})])
        self.assertTrue(IFingerService.providedBy(chain))
        self.assertFalse(IFingerSetterService.providedBy(chain))
        self.assertFalse(IFingerVerboseService.providedBy(chain))
        self.assertFalse(IFingerDetails.providedBy(chain))
        # The provision is per chain, not per class.
        settable = ChainFingerService([ReadOnly({}), MemoryFingerService()])
        self.assertTrue(IFingerSetterService.providedBy(settable))
        self.assertFalse(IFingerSetterService.providedBy(chain))

    def test_verboseUsesBackendsThatHaveIt(self):
        chain = ChainFingerService(
            [ReadOnly({"alice": "plain"}), Verbose({"bob": "bob's"})]
        )
        self.assertTrue(IFingerVerboseService.providedBy(chain))
        self.assertEqual(self.successResultOf(chain.getUserVerbose("alice")), "plain")
        self.assertEqual(self.successResultOf(chain.getUserVerbose("bob")), "bob's\nverbose")
        self.assertEqual(self.successResultOf(chain.getUser("bob")), "bob's")
        self.failureResultOf(chain.getUserVerbose("carol"), UserNotFound)

    def test_detailsFromBackendsThatHaveThem(self):
        chain = ChainFingerService(
            [ReadOnly({"alice": "plain"}), Detailed({"bob": "detailed"})]
        )
        self.assertTrue(IFingerDetails.providedBy(chain))
        self.assertEqual(
            self.successResultOf(chain.getUserDetails("alice")),
            {"status": "plain", "setAt": None},
        )
        self.assertEqual(
            self.successResultOf(chain.getUserDetails("bob")),
            {"status": "detailed", "setAt": 42.0},
        )
        self.failureResultOf(chain.getUserDetails("carol"), UserNotFound)

    def test_startsAndStopsBackendServices(self):
        first, second = MemoryFingerService(), MemoryFingerService()
        chain = ChainFingerService([first, ReadOnly({}), second])
        self.assertIsInstance(chain, service.MultiService)
        self.assertEqual(list(chain), [first, second])
        chain.startService()
        self.assertTrue(first.running and second.running)
        chain.stopService()
        self.assertFalse(first.running or second.running)

    def test_needsABackend(self):
        self.assertRaises(ValueError, ChainFingerService, [])


names = st.text(alphabet="abcdez\u00e9\u4e2d", max_size=4)


@given(st.lists(st.lists(names).map(lambda n: tuple(sorted(set(n)))), max_size=5))
def test_sortedUnionIsTheSortedSetUnion(lists):
    assert sortedUnion(lists) == tuple(sorted(set().union(*lists)))


def test_sortedUnionReusesABigListThatHasEveryName():
    big = tuple(f"user{i:04d}" for i in range(1000))
    assert sortedUnion([("user0001", "user0999"), big, ()]) is big
    assert sortedUnion([("aaron", "user0001"), big])[:3] == ("aaron", "user0000", "user0001")


class ChainClearTests(unittest.TestCase):
    def test_clearsInTheSettableBackend(self):
        from finger.interfaces import IFingerClearService

        store = MemoryFingerService({"alice": "a"})
        other = MemoryFingerService({"alice": "kept"})
        chain = ChainFingerService([store, other])
        self.assertTrue(IFingerClearService.providedBy(chain))
        self.successResultOf(chain.clearUser("alice"))
        self.failureResultOf(store.getUser("alice"), UserNotFound)
        self.assertEqual(self.successResultOf(other.getUser("alice")), "kept")


class ChainChangeFeedTests(unittest.TestCase):
    """A chain publishes its members' changes as its readers see them."""

    def setUp(self):
        from finger.backends.chain import ChainFingerService

        self.first = MemoryFingerService({"alice": "first's"}, clock=lambda: 1.0)
        self.middle = ReadOnly({"bob": "plan"})
        self.last = MemoryFingerService({"bob": "last's"}, clock=lambda: 2.0)
        self.chain = ChainFingerService([self.first, self.middle, self.last])
        self.seen = []
        self.chain.subscribe(self.seen.append)

    def test_providedOnlyWhenAMemberPublishes(self):
        from finger.interfaces import IFingerChangeFeed

        self.assertTrue(IFingerChangeFeed.providedBy(self.chain))
        self.assertFalse(IFingerChangeFeed.providedBy(ChainFingerService([ReadOnly({})])))

    def test_aVisibleChangeIsPublished(self):
        from finger.feed import StatusChange

        self.successResultOf(self.first.setUser("alice", "new"))
        self.successResultOf(self.last.setUser("carol", "c"))
        self.assertEqual(self.seen, [StatusChange("alice", "new", 1.0), StatusChange("carol", "c", 2.0)])

    def test_aShadowedChangeIsNotPublished(self):
        self.successResultOf(self.last.setUser("bob", "hidden by the plan"))
        self.successResultOf(self.last.setUser("alice", "hidden by first"))
        self.assertEqual(self.seen, [])

    def test_aRemovalThatUncoversALaterStatusPublishesIt(self):
        from finger.feed import StatusChange

        self.chain._memberChanged(1, StatusChange("bob", None, 3.0))
        self.chain._memberChanged(0, StatusChange("zed", None, 4.0))
        self.assertEqual(
            self.seen, [StatusChange("bob", "last's", 3.0), StatusChange("zed", None, 4.0)]
        )

    def test_slowLookupsKeepTheOrder(self):
        from finger.feed import StatusChange

        slow = defer.Deferred()

        @implementer(IFingerService)
        class Slow(ReadOnly):
            def getUser(self, name):
                return slow if name == "a" else defer.fail(UserNotFound(name))

        last = MemoryFingerService(clock=lambda: 5.0)
        chain = ChainFingerService([Slow({}), last])
        seen = []
        chain.subscribe(seen.append)
        self.successResultOf(last.setUser("a", "1"))
        self.successResultOf(last.setUser("b", "2"))
        self.assertEqual(seen, [])
        slow.errback(UserNotFound("a"))
        self.assertEqual(seen, [StatusChange("a", "1", 5.0), StatusChange("b", "2", 5.0)])

    def test_aFailingLookupCountsAsNotKnowing(self):
        @implementer(IFingerService)
        class Broken(ReadOnly):
            def getUser(self, name):
                return defer.fail(RuntimeError("down"))

        last = MemoryFingerService(clock=lambda: 5.0)
        chain = ChainFingerService([Broken({}), last])
        seen = []
        chain.subscribe(seen.append)
        self.successResultOf(last.setUser("a", "1"))
        self.assertEqual([c.name for c in seen], ["a"])
