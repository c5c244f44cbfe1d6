"""
Unit tests of the render cache (finger.frontends.web.rendercache) and of its
use by the user page and C{/api/users/NAME}: a status change shows at once,
and a page carrying a session's account bar or edit form (its CSRF token) is
never served to anyone else.
"""

from __future__ import annotations

import json
import re

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from finger.accounts.gate import buildAuthenticator
from finger.accounts.hashing import PasswordHashing
from finger.accounts.memory import MemoryAccountStore
from finger.accounts.throttle import LoginThrottle
from finger.frontends.web import pages
from finger.frontends.web.rendercache import RenderCache
from finger.frontends.web.sessions import SessionStore
from finger.interfaces import IFingerService, UserNotFound
from tests.helpers.webclient import SiteClient

REMOTE = IPv4Address("TCP", "192.0.2.7", 40000)
PASSWORDS = {"alice": "alice's long password", "bob": "bob's long password", "root": "root pw 123"}


def csrfTokens(html: str) -> list[str]:
    return re.findall(r'name="csrf" value="([^"]+)"', html)


class RenderCacheTests(TestCase):
    def test_onlyForTheSameStatus(self):
        cache: RenderCache[bytes] = RenderCache()
        self.assertIsNone(cache.get("alice", "Happy"))
        cache.put("alice", "Happy", b"page", 4)
        self.assertEqual(cache.get("alice", "Happy"), b"page")
        self.assertIsNone(cache.get("alice", "Sad"))
        self.assertIsNone(cache.get("bob", "Happy"))
        cache.put("alice", "Sad", b"other", 5)  # replaces: one entry per user
        self.assertEqual((len(cache), cache.size), (1, 5))
        self.assertIsNone(cache.get("alice", "Happy"))

    def test_boundedByEntriesLeastRecentlyUsedFirst(self):
        cache: RenderCache[bytes] = RenderCache(maxEntries=2)
        cache.put("a", "s", b"A", 1)
        cache.put("b", "s", b"B", 1)
        cache.get("a", "s")
        cache.put("c", "s", b"C", 1)
        self.assertEqual(len(cache), 2)
        self.assertIsNone(cache.get("b", "s"))
        self.assertEqual(cache.get("a", "s"), b"A")

    def test_boundedByBytes(self):
        cache: RenderCache[bytes] = RenderCache(maxBytes=10, maxAnswer=10)
        for name in "abcd":
            cache.put(name, "s", b"xxxx", 4)
        self.assertEqual((len(cache), cache.size), (2, 8))
        cache.put("big", "s", b"x" * 11, 11)  # over the largest answer kept
        self.assertIsNone(cache.get("big", "s"))
        self.assertEqual(cache.size, 8)
        cache.discard("d")
        self.assertEqual((len(cache), cache.size), (1, 4))


class CountingRender:
    """Counts the pages pages.py flattens (patched over its flattenString)."""

    def __init__(self, test: TestCase) -> None:
        self.count = 0
        original = pages.flattenString

        def counting(request, root):
            self.count += 1
            return original(request, root)

        test.patch(pages, "flattenString", counting)


class AnonymousPageTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy", "bob": "Busy"})
        self.renders = CountingRender(self)

    def test_renderedOncePerStatus(self):
        first = self.client.get("/alice")
        again = self.client.get("/alice")
        self.assertEqual((first.code, again.code), (200, 200))
        self.assertEqual(first.body, again.body)
        self.assertEqual(self.renders.count, 1)
        self.assertEqual(self.client.queryLog.records[-1][2:], ("GET /alice", "200 found"))
        head = self.client.get("/alice", method="HEAD")
        self.assertEqual((head.code, head.body), (200, b""))
        self.assertEqual(head.header("Content-Length"), str(len(first.body)))
        self.assertEqual(self.renders.count, 1)

    def test_statusChangeShowsAtOnce(self):
        self.assertIn("Happy", self.client.get("/alice").text)
        self.client.service.setUser("alice", "Gone <fishing>")
        changed = self.client.get("/alice").text
        self.assertIn("Gone &lt;fishing&gt;", changed)
        self.assertNotIn("Happy", changed)
        self.client.service.setUser("alice", "Happy")
        self.assertIn("Happy", self.client.get("/alice").text)
        self.assertEqual(self.renders.count, 3)
        self.assertIn("Busy", self.client.get("/bob").text)  # each user has their own page

    def test_unknownUserIsNotServedAPage(self):
        self.assertEqual(self.client.get("/carol").code, 404)
        self.client.service.setUser("carol", "New here")
        self.assertIn("New here", self.client.get("/carol").text)
        self.client.service.setUser("carol", "")  # cleared: a page without a status
        self.assertNotIn("New here", self.client.get("/carol").text)


@implementer(IFingerService)
class LaterService:
    """A backend whose answers arrive later (as a status server's would)."""

    def __init__(self) -> None:
        self.status = "Later"
        self.waiting: list[defer.Deferred[str]] = []

    def getUser(self, name):
        d: defer.Deferred[str] = defer.Deferred()
        self.waiting.append(d)
        return d

    def getUsers(self):
        return defer.succeed(("alice",))

    def answer(self):
        for d in self.waiting:
            d.callback(self.status)
        self.waiting.clear()


class SlowBackendTests(TestCase):
    def test_answersThatArriveLaterAreCachedByStatusToo(self):
        service = LaterService()
        client = SiteClient(service=service)
        renders = CountingRender(self)
        for expected in ("Later", "Later", "Much later"):
            service.status = expected
            channel, transport = client.connect()
            channel.dataReceived(b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(transport.value(), b"")
            service.answer()
            self.assertIn(expected.encode(), transport.value())
        self.assertEqual(renders.count, 2)

    def test_apiDocumentFromALaterAnswer(self):
        service = LaterService()
        client = SiteClient(service=service)
        channel, transport = client.connect()
        channel.dataReceived(b"GET /api/users/alice HTTP/1.1\r\nHost: x\r\n\r\n")
        service.answer()
        self.assertIn(b'"status": "Later"', transport.value())
        self.assertIn(b"ETag: ", transport.value())


def quickHashing() -> PasswordHashing:
    return PasswordHashing(
        timeCost=1, memoryCost=8, parallelism=1,
        runInThread=lambda f, *args: defer.maybeDeferred(f, *args),
    )


class SignedInPagesTests(TestCase):
    """The anonymous page is cached; a signed-in one never is, nor served to another."""

    def setUp(self):
        clock = Clock()
        clock.advance(1_000_000)
        accounts = MemoryAccountStore()
        hashing = quickHashing()
        for name, password in PASSWORDS.items():
            accounts.createAccount(name, hashing.hashNow(password), name == "root")
        throttle = LoginThrottle(maxFailures=3, window=600, clock=clock)
        authenticator = buildAuthenticator(accounts, hashing, throttle, clock=clock)
        self.sessions = SessionStore(clock=clock, idle=3600, lifetime=7200)
        self.client = SiteClient(
            {"alice": "Happy", "bob": "Busy"}, accounts=authenticator, sessions=self.sessions
        )

    def signedIn(self, name: str) -> str:
        """Sign in as a browser does (the form's cookie and token); the session's cookie."""
        form = self.client.request("GET", "/login", secure=True, peer=REMOTE)
        fields = {"name": name, "password": PASSWORDS[name]}
        tokens = csrfTokens(form.text)
        if tokens:
            fields["csrf"] = tokens[0]
        setCookie = form.header("set-cookie")
        response = self.client.request(
            "POST", "/login", fields, secure=True, peer=REMOTE,
            cookie=setCookie.split(";")[0] if setCookie else None,
        )
        self.assertEqual(response.code, 303, response.text)
        return response.header("set-cookie").split(";")[0]

    def page(self, path: str, cookie: str | None = None):
        response = self.client.request("GET", path, cookie=cookie, secure=True, peer=REMOTE)
        self.assertEqual(response.code, 200)
        return response.text

    def test_noSessionsFormReachesAnotherReader(self):
        alice, bob, root = self.signedIn("alice"), self.signedIn("bob"), self.signedIn("root")
        anonymous = self.page("/alice")
        self.assertEqual(csrfTokens(anonymous), [])
        self.assertIn("Sign in", anonymous)
        seen: dict[str, list[str]] = {}
        for who, cookie in [("alice", alice), ("bob", bob), ("root", root), ("alice", alice)]:
            text = self.page("/alice", cookie)
            tokens = csrfTokens(text)
            self.assertTrue(tokens, who)
            self.assertEqual(len(set(tokens)), 1, who)  # the account bar's and the form's
            seen.setdefault(who, []).append(tokens[0])
            self.assertIn(f"Signed in as <a class=\"me\" href=\"/{who}\">{who}</a>", text)
            self.assertEqual('class="edit"' in text, who in ("alice", "root"), who)
            # The anonymous page stays anonymous after every signed-in render.
            self.assertEqual(self.page("/alice"), anonymous)
        self.assertEqual(len(set(seen["alice"])), 1)  # the same session, the same token
        self.assertEqual(len({seen["alice"][0], seen["bob"][0], seen["root"][0]}), 3)

    def test_signedInReaderOfACachedPageGetsTheirForm(self):
        self.page("/alice")
        self.page("/alice")  # now served from the cache
        text = self.page("/alice", self.signedIn("alice"))
        self.assertIn('class="edit"', text)
        self.assertIn("Signed in as", text)

    def test_editShowsAtOnceToEveryone(self):
        alice = self.signedIn("alice")
        self.assertIn("Happy", self.page("/alice"))
        token = csrfTokens(self.page("/alice", alice))[0]
        response = self.client.request(
            "POST", "/alice", {"status": "Edited", "csrf": token},
            cookie=alice, secure=True, peer=REMOTE,
        )
        self.assertEqual(response.code, 303)
        self.assertIn("Edited", self.page("/alice"))
        self.assertNotIn("Happy", self.page("/alice"))


class APIDocumentTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def test_changeShowsAtOnceWithANewEntityTag(self):
        first = self.client.get("/api/users/alice")
        tag = first.header("ETag")
        self.assertEqual(
            self.client.get("/api/users/alice", headers={"If-None-Match": tag}).code, 304
        )
        self.client.service.setUser("alice", "Sad")
        changed = self.client.get("/api/users/alice", headers={"If-None-Match": tag})
        self.assertEqual(changed.code, 200)
        self.assertEqual(json.loads(changed.body), {"name": "alice", "status": "Sad"})
        self.assertNotEqual(changed.header("ETag"), tag)
        self.assertEqual(changed.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(changed.header("X-Content-Type-Options"), "nosniff")
        again = self.client.get("/api/users/alice")
        self.assertEqual((again.body, again.header("ETag")), (changed.body, changed.header("ETag")))
        self.assertEqual(self.client.get("/api/users/nobody").code, 404)

    def test_failedLookupIsNotCached(self):
        @implementer(IFingerService)
        class Flaky:
            def __init__(self):
                self.gone = True

            def getUser(self, name):
                if self.gone:
                    return defer.fail(UserNotFound(name))
                return defer.succeed("Back")

            def getUsers(self):
                return defer.succeed(())

        service = Flaky()
        client = SiteClient(service=service)
        self.assertEqual(client.get("/api/users/alice").code, 404)
        self.assertEqual(client.get("/alice").code, 404)
        service.gone = False
        self.assertIn(b"Back", client.get("/api/users/alice").body)
        self.assertIn(b"Back", client.get("/alice").body)
