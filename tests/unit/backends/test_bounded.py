"""Unit tests for finger.backends.bounded and the backends that use it: cancellation and limits."""

from __future__ import annotations

from twisted.internet import defer, error
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from finger.backends.bounded import BoundedWork, TooBusy
from finger.backends.local import LocalFingerService
from finger.backends.proxy import ProxyFingerService
from finger.backends.webstatus import WebStatusService
from finger.interfaces import LookupFailed
from tests.unit.backends.test_local import ProcessReactor
from tests.unit.backends.test_webstatus import TEMPLATE, ScriptedAgent, ScriptedResponse


class BoundedWorkTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.work = BoundedWork(2, 1, "Error: busy")
        self.started: list[defer.Deferred] = []
        self.cancelled: list[int] = []

    def job(self, number: int) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred(lambda _: self.cancelled.append(number))
        self.started.append(d)
        return d

    def test_runsAtMostRunningAndQueuesAtMostQueued(self) -> None:
        results = [self.work.run(self.job, i) for i in range(3)]
        self.assertEqual(len(self.started), 2)
        self.assertEqual((self.work.running, self.work.waiting), (2, 1))
        refused = self.work.run(self.job, 3)
        failure = self.failureResultOf(refused, TooBusy)
        self.assertIsInstance(failure.value, LookupFailed)
        self.assertEqual(str(failure.value), "Error: busy")
        self.started[0].callback("done")
        self.assertEqual(self.successResultOf(results[0]), "done")
        self.assertEqual(len(self.started), 3)

    def test_cancellingARunningCallCancelsItAndFreesItsPlace(self) -> None:
        first = self.work.run(self.job, 0)
        self.work.run(self.job, 1)
        waiting = self.work.run(self.job, 2)
        first.cancel()
        self.assertEqual(self.cancelled, [0])
        self.failureResultOf(first, defer.CancelledError)
        self.assertEqual(len(self.started), 3, "the waiting call got the place")
        self.assertNoResult(waiting)

    def test_cancellingAWaitingCallLeavesTheQueue(self) -> None:
        self.work.run(self.job, 0)
        self.work.run(self.job, 1)
        waiting = self.work.run(self.job, 2)
        waiting.cancel()
        self.failureResultOf(waiting, defer.CancelledError)
        self.assertEqual(self.work.waiting, 0)
        self.assertEqual(len(self.started), 2, "a cancelled call never runs")


class LocalCancelTests(SynchronousTestCase):
    def test_cancelKillsTheProgram(self) -> None:
        clock = ProcessReactor()
        service = LocalFingerService("finger", timeout=5, reactor=clock)
        result = service.getUser("alice")
        process, = clock.processes
        result.cancel()
        self.assertEqual(process.signals, ["KILL"])
        self.failureResultOf(result, defer.CancelledError)
        process.protocol.processEnded(Failure(error.ProcessTerminated(signal=9)))
        self.assertEqual(clock.getDelayedCalls(), [], "the timeout is cancelled too")

    def test_tooManyWaitingFailsAtOnce(self) -> None:
        clock = ProcessReactor()
        service = LocalFingerService("finger", maxRunning=1, maxWaiting=1, reactor=clock)
        service.getUser("a")
        service.getUser("b")
        failure = self.failureResultOf(service.getUser("c"), TooBusy)
        self.assertIn("too many local finger lookups", str(failure.value))
        self.assertEqual(len(clock.processes), 1)


class WebStatusWaiterTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.agent = ScriptedAgent()
        self.service = WebStatusService(TEMPLATE, agent=self.agent, reactor=Clock())

    def test_requestCancelledWhenItsLastWaiterGoes(self) -> None:
        first = self.service.getUser("alice")
        second = self.service.getUser("alice")
        self.assertEqual(len(self.agent.requests), 1)
        first.cancel()
        self.failureResultOf(first, defer.CancelledError)
        self.assertEqual(self.agent.cancelled, [], "another waiter still wants it")
        second.cancel()
        self.assertEqual(len(self.agent.cancelled), 1)
        self.failureResultOf(second, defer.CancelledError)
        # A new query makes a new request.
        third = self.service.getUser("alice")
        self.assertEqual(len(self.agent.requests), 2)
        response = ScriptedResponse(200)
        self.agent.requests[1][1].callback(response)
        response.send(b"Happy\n")
        self.assertEqual(self.successResultOf(third), "Happy")

    def test_remainingWaiterGetsTheAnswer(self) -> None:
        first = self.service.getUser("alice")
        second = self.service.getUser("alice")
        first.cancel()
        response = ScriptedResponse(200)
        self.agent.requests[0][1].callback(response)
        response.send(b"Happy\n")
        self.assertEqual(self.successResultOf(second), "Happy")
        self.failureResultOf(first, defer.CancelledError)

    def test_tooManyRequestsFailAtOnce(self) -> None:
        from finger.backends import webstatus

        results = [
            self.service.getUser(f"user{i}")
            for i in range(webstatus.MAX_FETCHES + webstatus.MAX_WAITING_FETCHES + 1)
        ]
        self.assertEqual(len(self.agent.requests), webstatus.MAX_FETCHES)
        failure = self.failureResultOf(results[-1], LookupFailed)
        self.assertIn("too many requests to status server", str(failure.value))


class ProxyLimitTests(SynchronousTestCase):
    def test_tooManyForwardsFailAtOnce(self) -> None:
        from twisted.internet.testing import MemoryReactorClock

        reactor = MemoryReactorClock()
        proxy = ProxyFingerService(["*:*"], reactor=reactor, maxForwards=1, maxWaiting=0)
        first = proxy.getUser("alice@192.0.2.1")
        failure = self.failureResultOf(proxy.getUser("bob@192.0.2.1"), LookupFailed)
        self.assertIn("too many forwarded queries", str(failure.value))
        first.cancel()
        # Twisted 22.4's HostnameEndpoint reports a cancel during name
        # resolution as an unknown host; newer ones as a cancellation.
        self.failureResultOf(first, defer.CancelledError, LookupFailed)
        self.assertNoResult(proxy.getUser("carol@192.0.2.1"))  # its place is free again
