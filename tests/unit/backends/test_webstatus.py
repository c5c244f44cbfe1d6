"""
Unit tests of the web status backend: templates and names, the cache and the
coalescing of requests, the deadline and the capped body reader.  A scripted
agent stands in for the network (the end-to-end tests use real HTTPS).
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import ResponseDone
from twisted.web.iweb import UNKNOWN_LENGTH

from finger.backends import webstatus
from finger.backends.webstatus import WebStatusService, checkTemplate
from finger.interfaces import LookupFailed, UserNotFound

TEMPLATE = "https://status.example.org/users/{user}.txt"


class ScriptedTransport:
    def __init__(self) -> None:
        self.stopped = False

    def stopProducing(self) -> None:
        self.stopped = True

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


class ScriptedResponse:
    """An IResponse whose body the test feeds."""

    def __init__(self, code: int, phrase: bytes = b"OK", length=UNKNOWN_LENGTH) -> None:
        self.code = code
        self.phrase = phrase
        self.length = length
        self.transport = ScriptedTransport()
        self.protocol = None

    def deliverBody(self, protocol) -> None:
        self.protocol = protocol
        protocol.makeConnection(self.transport)

    def send(self, data: bytes, done: bool = True) -> None:
        self.protocol.dataReceived(data)
        if done:
            self.protocol.connectionLost(Failure(ResponseDone()))


class ScriptedAgent:
    """Records requests; each returns a Deferred the test fires."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, defer.Deferred]] = []
        self.cancelled: list[bytes] = []

    def request(self, method, uri, headers=None, bodyProducer=None):
        d = defer.Deferred(lambda d: self.cancelled.append(uri))
        self.requests.append((uri, d))
        return d


class TemplateAndNameTests(SynchronousTestCase):
    def test_templates(self):
        self.assertIsNone(checkTemplate(TEMPLATE))
        self.assertIsNone(checkTemplate("http://h:8080/s?u={user}"))
        for bad in [
            "https://status.example.org/users.txt",
            "ftp://h/{user}",
            "https:///{user}",
            "https://{user}.example.org/status",
            "https://h\u00e9/{user}",
        ]:
            self.assertIsNotNone(checkTemplate(bad), bad)
        with self.assertRaises(ValueError):
            WebStatusService("https://{user}.example.org/", agent=ScriptedAgent(), reactor=Clock())

    def test_namesAreQuoted(self):
        service = WebStatusService(TEMPLATE, agent=ScriptedAgent(), reactor=Clock())
        self.assertEqual(service.urlFor("a?b#c%"), b"https://status.example.org/users/a%3Fb%23c%25.txt")
        self.assertEqual(service.urlFor("\u00e9"), b"https://status.example.org/users/%C3%A9.txt")

    def test_namesChangingThePathAreRejected(self):
        agent = ScriptedAgent()
        service = WebStatusService(TEMPLATE, agent=agent, reactor=Clock())
        for bad in ["..", ".", "../admin", "a/b", "", "a b", "x" * 65]:
            failure = self.failureResultOf(service.getUser(bad), LookupFailed)
            self.assertIn("invalid user name", failure.getErrorMessage())
        self.assertEqual(agent.requests, [])


class FetchTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.agent = ScriptedAgent()
        self.service = WebStatusService(TEMPLATE, ttl=60, timeout=10, agent=self.agent, reactor=self.clock)

    def respond(self, index: int, code: int, body: bytes = b"", **kwargs) -> ScriptedResponse:
        response = ScriptedResponse(code, **kwargs)
        self.agent.requests[index][1].callback(response)
        if response.protocol is not None and not response.transport.stopped:
            response.send(body)
        return response

    def test_concurrentQueriesShareOneRequest(self):
        first, second = self.service.getUser("alice"), self.service.getUser("alice")
        self.assertEqual(len(self.agent.requests), 1)
        self.respond(0, 200, b"Happy\n")
        self.assertEqual(self.successResultOf(first), "Happy")
        self.assertEqual(self.successResultOf(second), "Happy")

    def test_cachedForTtl(self):
        self.service.getUser("alice")
        self.respond(0, 200, b"Happy\n")
        self.clock.advance(59)
        self.assertEqual(self.successResultOf(self.service.getUser("alice")), "Happy")
        self.assertEqual(len(self.agent.requests), 1)
        self.clock.advance(1)
        self.service.getUser("alice")
        self.assertEqual(len(self.agent.requests), 2)

    def test_notFoundIsCached(self):
        d = self.service.getUser("nobody")
        self.respond(0, 404, b"gone")
        self.failureResultOf(d, UserNotFound)
        self.failureResultOf(self.service.getUser("nobody"), UserNotFound)
        self.assertEqual(len(self.agent.requests), 1)

    def test_serverErrorIsNotCached(self):
        d = self.service.getUser("alice")
        self.respond(0, 503, b"busy", phrase=b"Service Unavailable")
        failure = self.failureResultOf(d, LookupFailed)
        self.assertEqual(
            failure.getErrorMessage(),
            "Error: status server status.example.org answered 503 Service Unavailable",
        )
        self.service.getUser("alice")
        self.assertEqual(len(self.agent.requests), 2)

    def test_timeoutCancelsTheRequest(self):
        d = self.service.getUser("alice")
        self.clock.advance(9.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        failure = self.failureResultOf(d, LookupFailed)
        self.assertEqual(
            failure.getErrorMessage(),
            "Error: status server status.example.org did not answer within 10 seconds",
        )
        self.assertEqual(self.agent.cancelled, [self.agent.requests[0][0]])
        self.flushLoggedErrors()

    def test_timeoutWhileReadingTheBodyStopsIt(self):
        d = self.service.getUser("alice")
        response = ScriptedResponse(200)
        self.agent.requests[0][1].callback(response)
        response.send(b"partial", done=False)
        self.clock.advance(10)
        self.assertTrue(response.transport.stopped)
        self.failureResultOf(d, LookupFailed)

    def test_bodyCappedWhileStreaming(self):
        d = self.service.getUser("alice")
        response = ScriptedResponse(200)
        self.agent.requests[0][1].callback(response)
        for _ in range(64):
            response.send(b"x" * 1024, done=False)
        self.assertFalse(response.transport.stopped)
        response.send(b"x", done=False)
        self.assertTrue(response.transport.stopped)
        failure = self.failureResultOf(d, LookupFailed)
        self.assertIn("larger than 64 KiB", failure.getErrorMessage())

    def test_announcedLargeBodyNotRead(self):
        d = self.service.getUser("alice")
        response = self.respond(0, 200, length=64 * 1024 + 1)
        self.assertTrue(response.transport.stopped)
        self.failureResultOf(d, LookupFailed)

    def test_cacheIsBounded(self):
        self.patch(webstatus, "MAX_CACHED", 3)
        for index, name in enumerate(["a", "b", "c", "d"]):
            self.service.getUser(name)
            self.respond(index, 200, name.encode())
        self.assertEqual(list(self.service._cache), ["b", "c", "d"])

    def test_noUserList(self):
        self.assertEqual(self.successResultOf(self.service.getUsers()), ())
