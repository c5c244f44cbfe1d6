"""
Unit tests of the HTML pages (finger.frontends.web.pages): a real FingerSite,
HTTP spoken over Twisted's StringTransport (no sockets), a memory backend.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from finger.interfaces import IFingerService
from tests.helpers.webclient import SCRIPT, Links, SiteClient, userLinks


@implementer(IFingerService)
class CountingService:
    """A backend of many users that counts status look-ups."""

    def __init__(self, count: int) -> None:
        self.names = tuple(f"user{i:07d}" for i in range(count))
        self.lookups = 0

    def getUser(self, name):
        self.lookups += 1
        return defer.succeed(f"status of {name}")

    def getUsers(self):
        return defer.succeed(self.names)


class PageTests(TestCase):
    def test_listSortedWithStatusesAndLinks(self):
        client = SiteClient({"carol": "Out", "alice": "Happy", "bob": "Busy"})
        response = client.get("/")
        self.assertEqual(response.code, 200)
        self.assertTrue(response.body.startswith(b"<!DOCTYPE html>"))
        self.assertEqual(
            userLinks(response.text), [("/alice", "alice"), ("/bob", "bob"), ("/carol", "carol")]
        )
        self.assertLess(response.text.index("Happy"), response.text.index("Busy"))

    def test_pagination(self):
        client = SiteClient({f"u{i:03d}": f"s{i}" for i in range(120)})
        first = client.get("/")
        self.assertEqual(len(userLinks(first.text)), 50)
        self.assertEqual(userLinks(first.text)[0], ("/u000", "u000"))
        hrefs = dict((text, href) for href, text in Links(first.text).anchors)
        self.assertEqual(hrefs.get("Next →"), "/?page=2")
        self.assertNotIn("← Previous", hrefs)
        third = client.get("/?page=3")
        self.assertEqual(
            [name for _, name in userLinks(third.text)], [f"u{i:03d}" for i in range(100, 120)]
        )
        hrefs = dict((text, href) for href, text in Links(third.text).anchors)
        self.assertEqual(hrefs.get("← Previous"), "/?page=2")
        self.assertNotIn("Next →", hrefs)
        self.assertIn("Page 3 of 3", third.text)

    def test_badPageNumbersAre400(self):
        client = SiteClient({"alice": "x"})
        for query in [
            "page=x",
            "page=0",
            "page=-1",
            "page=1.5",
            "page=",
            "page=1&page=2",
            "page=99999999999",
        ]:
            response = client.get(f"/?{query}")
            self.assertEqual(response.code, 400, query)
            self.assertIn("Bad request", response.text)

    def test_pageBeyondTheLastIs404(self):
        response = SiteClient({"alice": "x"}).get("/?page=2")
        self.assertEqual(response.code, 404)
        self.assertIn("There is no page 2; the last page is 1.", response.text)

    def test_emptyList(self):
        response = SiteClient({}).get("/")
        self.assertEqual(response.code, 200)
        self.assertIn("No one is here yet.", response.text)
        self.assertNotIn('<ul class="users"', response.text)

    def test_millionUsersFetchOnlyOnePageOfStatuses(self):
        service = CountingService(1_000_000)
        client = SiteClient(service=service)
        response = client.get("/?page=20000")
        self.assertEqual(response.code, 200)
        self.assertEqual(service.lookups, 50)
        self.assertEqual(userLinks(response.text)[-1], ("/user0999999", "user0999999"))
        self.assertIn("1,000,000 users", response.text)

    def test_userPage(self):
        response = SiteClient({"alice": "Happy and well"}).get("/alice")
        self.assertEqual(response.code, 200)
        self.assertIn('<h1 class="name">alice</h1>', response.text)
        self.assertIn('<p class="status">Happy and well</p>', response.text)
        self.assertIn("<title>alice · finger</title>", response.text)

    def test_unknownUserIsA404PageInTheLayout(self):
        response = SiteClient({"alice": "x"}).get("/nobody")
        self.assertEqual(response.code, 404)
        self.assertIn("There is no user called nobody.", response.text)
        self.assertIn('<link rel="stylesheet" href="/static/finger.css" />', response.text)

    def test_pathsBelowAUserAre404(self):
        client = SiteClient({"alice": "x"})
        for path in [
            "/alice/",
            "/alice/more",
            "//alice",
            "/static/",
            "/static",
            "/static/nope.css",
            "/.well-known/",
        ]:
            self.assertEqual(client.get(path).code, 404, path)

    def test_statusIsEscaped(self):
        client = SiteClient({"mallory": SCRIPT, 'eve"<&': "x"})
        for path in ["/", "/mallory"]:
            response = client.get(path)
            self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", response.text)
            # Only the shipped live-update script, from /static/: nothing inline.
            self.assertEqual(Links(response.text).scripts, ["/static/live.js"])
        listing = client.get("/").text
        self.assertIn('<a class="name" href="/eve%22%3C%26">eve"&lt;&amp;</a>', listing)
        self.assertEqual(client.get("/eve%22%3C%26").code, 200)

    def test_controlCharactersAreDropped(self):
        response = SiteClient({"alice": "bell\x07 and \x1b[31mred\r\nsecond line"}).get("/alice")
        self.assertIn('<p class="status">bell and [31mred\nsecond line</p>', response.text)

    def test_nonAsciiNames(self):
        client = SiteClient({"zoë": "Ça va"})
        self.assertIn('href="/zo%C3%AB"', client.get("/").text)
        self.assertIn("Ça va", client.get("/zo%C3%AB").text)
        self.assertEqual(client.get("/%ff").code, 404)

    def test_headAnswersWithoutBody(self):
        response = SiteClient({"alice": "x"}).get("/alice", method="HEAD")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"")

    def test_otherMethodsAreRefused(self):
        client = SiteClient({"alice": "x"})
        self.assertEqual(client.get("/alice", method="POST").code, 405)
        self.assertEqual(client.get("/alice", method="DELETE").code, 501)
