"""
Unit tests of the web frontend: a real FingerSite, HTTP spoken over
Twisted's StringTransport (no sockets), a memory backend.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import xmlrpc.client
from html.parser import HTMLParser

from OpenSSL import SSL
from twisted.internet import defer
from twisted.trial.unittest import TestCase
from twisted.web.resource import IResource
from zope.interface import implementer

from finger.frontends.web import tls, webfinger
from finger.frontends.web.root import FingerWebRoot
from finger.frontends.web.site import MAX_BODY
from finger.frontends.web.templates import TEMPLATE_NAMES, Templates, packagedTemplates
from finger.frontends.web.xmlrpc import FAULT_BAD_ARGUMENTS, FAULT_NO_SUCH_USER
from finger.interfaces import IFingerService
from finger.listen import StartupError
from tests.helpers.webclient import SiteClient, parseResponses

SCRIPT = "<script>alert(1)</script>"


def temporaryDirectory(test: TestCase) -> str:
    """A fresh directory, removed after the test."""
    directory = tempfile.mkdtemp(prefix="finger-web-test-")
    test.addCleanup(shutil.rmtree, directory, True)
    return directory


class Links(HTMLParser):
    """Collects the elements of a page: anchors (href, text) and element text by class."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.anchors: list[tuple[str | None, str]] = []
        self.scripts = 0
        self._anchor: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        if tag == "a":
            self._anchor = [dict(attrs).get("href"), ""]

    def handle_data(self, data):
        if self._anchor is not None:
            self._anchor[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor is not None:
            self.anchors.append(tuple(self._anchor))
            self._anchor = None


def userLinks(html: str) -> list[tuple[str | None, str]]:
    """The anchors of the user list (those with class 'name')."""
    return re.findall(r'<a class="name"(?: href="([^"]*)")?>([^<]*)</a>', html)


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


class AdapterTests(TestCase):
    def test_adaptsServiceToResource(self):
        from finger.backends.memory import MemoryFingerService

        root = IResource(MemoryFingerService({"alice": "x"}))
        self.assertIsInstance(root, FingerWebRoot)


class HeaderTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def assertSecurityHeaders(self, response):
        self.assertEqual(response.header("X-Content-Type-Options"), "nosniff")
        policy = response.header("Content-Security-Policy")
        self.assertIn("default-src 'none'", policy)
        self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("script-src", policy)  # so scripts fall back to 'none'

    def test_everyKindOfResponseCarriesSecurityHeaders(self):
        for path in [
            "/",
            "/alice",
            "/nobody",
            "/api/users",
            "/api/nope",
            "/static/finger.css",
            "/RPC2",
        ]:
            response = self.client.get(path)
            self.assertSecurityHeaders(response)
            self.assertIsNone(response.header("Strict-Transport-Security"), path)

    def test_htmlHasCharset(self):
        for path in ["/", "/alice", "/nobody"]:
            self.assertEqual(
                self.client.get(path).header("Content-Type"), "text/html; charset=utf-8"
            )
        self.assertEqual(
            self.client.get("/static/finger.css").header("Content-Type"), "text/css; charset=utf-8"
        )

    def test_htstsOnSecureRequestsOnly(self):
        response = self.client.get("/alice", secure=True)
        self.assertEqual(response.header("Strict-Transport-Security"), "max-age=31536000")
        self.assertSecurityHeaders(response)


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
            self.assertEqual(Links(response.text).scripts, 0)
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

    def test_reservedPathsTakePrecedence(self):
        client = SiteClient(
            {
                name: f"status of {name}"
                for name in ["RPC2", "api", "static", ".well-known", "alice"]
            }
        )
        self.assertEqual(client.get("/RPC2").code, 405)  # the XML-RPC resource: POST only
        self.assertEqual(client.get("/api").header("Content-Type"), "application/json")
        self.assertEqual(client.get("/static").code, 404)
        self.assertEqual(client.get("/.well-known").code, 404)
        listing = client.get("/").text
        links = dict((name, href) for href, name in userLinks(listing))
        self.assertEqual(
            links, {"RPC2": "", "api": "", "static": "", ".well-known": "", "alice": "/alice"}
        )
        self.assertIn("status of api", listing)

    def test_headAnswersWithoutBody(self):
        response = SiteClient({"alice": "x"}).get("/alice", method="HEAD")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"")

    def test_otherMethodsAreRefused(self):
        client = SiteClient({"alice": "x"})
        self.assertEqual(client.get("/alice", method="POST").code, 405)
        self.assertEqual(client.get("/alice", method="DELETE").code, 501)


class TemplateTests(TestCase):
    def test_shippedTemplatesAreFound(self):
        for name in TEMPLATE_NAMES:
            self.assertTrue(packagedTemplates().joinpath(name).is_file(), name)
        self.assertIn("finger.css", Templates().static)

    def test_overrideIsLookedUpFirst(self):
        directory = temporaryDirectory(self)
        os.makedirs(os.path.join(directory, "static"))
        with open(os.path.join(directory, "user.html"), "w") as f:
            f.write(
                '<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" t:render="user">'
                'CUSTOM <t:slot name="name"/> says <t:slot name="status"/></div>'
            )
        with open(os.path.join(directory, "static", "extra.css"), "w") as f:
            f.write("body { color: red; }")
        client = SiteClient({"alice": SCRIPT}, templates=Templates(directory))
        page = client.get("/alice").text
        self.assertIn("CUSTOM alice says &lt;script&gt;", page)
        self.assertIn('<header class="site">', page)  # layout.html still the shipped one
        self.assertEqual(client.get("/static/extra.css").body, b"body { color: red; }")
        self.assertEqual(client.get("/static/finger.css").code, 200)

    def test_brokenTemplateIsAStartupErrorNamingTheFile(self):
        directory = temporaryDirectory(self)
        with open(os.path.join(directory, "users.html"), "w") as f:
            f.write("<section><p>unclosed</section>")
        error = self.assertRaises(StartupError, Templates, directory)
        self.assertIn(os.path.join(directory, "users.html"), str(error))
        self.assertIn("not well-formed", str(error))

    def test_missingDirectoryIsAStartupError(self):
        error = self.assertRaises(StartupError, Templates, "/nonexistent/templates")
        self.assertIn("/nonexistent/templates: not a directory", str(error))


class APITests(TestCase):
    def setUp(self):
        self.client = SiteClient({f"u{i}": f"s{i}" for i in range(5)} | {"mallory": SCRIPT})

    def json(self, path, code=200):
        response = self.client.get(path)
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header("Content-Type"), "application/json")
        return json.loads(response.body)

    def test_list(self):
        self.assertEqual(
            self.json("/api/users"),
            {"users": ["mallory", "u0", "u1", "u2", "u3", "u4"], "total": 6, "next": None},
        )
        page = self.json("/api/users?offset=1&limit=2")
        self.assertEqual(
            page, {"users": ["u0", "u1"], "total": 6, "next": "/api/users?offset=3&limit=2"}
        )
        self.assertEqual(self.json(page["next"])["users"], ["u2", "u3"])
        self.assertEqual(self.json("/api/users?offset=100")["users"], [])
        self.assertEqual(self.json("/api/users/")["total"], 6)

    def test_user(self):
        self.assertEqual(self.json("/api/users/mallory"), {"name": "mallory", "status": SCRIPT})

    def test_notFound(self):
        for path in [
            "/api/users/nobody",
            "/api",
            "/api/",
            "/api/other",
            "/api/users/u1/more",
            "/api/users/%ff",
        ]:
            self.assertIn("error", self.json(path, 404), path)
        self.assertEqual(self.json("/api/users/nobody", 404), {"error": "no such user: nobody"})

    def test_badParameters(self):
        for query in [
            "offset=-1",
            "offset=x",
            "offset=",
            "offset=1.0",
            "limit=0",
            "limit=1001",
            "limit=ten",
            "limit=1&limit=2",
            "offset=%EF%BC%91",
        ]:
            error = self.json(f"/api/users?{query}", 400)["error"]
            self.assertRegex(error, r"^(offset|limit) ", query)


class XMLRPCTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy", "bob": "Busy", "carol": "Out"})

    def test_getUser(self):
        self.assertEqual(self.client.call("getUser", "alice"), "Happy")

    def test_unknownUserIsAFault(self):
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", "zed")
        self.assertEqual(
            (fault.faultCode, fault.faultString), (FAULT_NO_SUCH_USER, "no such user: zed")
        )

    def test_getUsers(self):
        self.assertEqual(self.client.call("getUsers"), ["alice", "bob", "carol"])
        self.assertEqual(self.client.call("getUsers", 1), ["bob", "carol"])
        self.assertEqual(self.client.call("getUsers", 1, 1), ["bob"])

    def test_badArgumentsAreClearFaults(self):
        for method, args, message in [
            ("getUser", (), "getUser: missing a required argument: 'name'"),
            ("getUser", ("a", "b"), "getUser: too many positional arguments"),
            ("getUser", (7,), "getUser: the name must be a string"),
            ("getUsers", (-1,), "getUsers: offset must be an integer from 0 up, not -1"),
            ("getUsers", (True,), "getUsers: offset must be an integer from 0 up, not True"),
            ("getUsers", (0, 0), "getUsers: limit must be an integer from 1 to 1000, not 0"),
            ("getUsers", (0, "x"), "getUsers: limit must be an integer from 1 to 1000, not 'x'"),
        ]:
            fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, method, *args)
            self.assertEqual((fault.faultCode, fault.faultString), (FAULT_BAD_ARGUMENTS, message))

    def test_unknownMethodAndGarbage(self):
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "dropTables")
        self.assertIn("dropTables", fault.faultString)
        response = self.client.post("/RPC2", b"<not xml")
        self.assertEqual(response.code, 200)
        self.assertRaises(xmlrpc.client.Fault, xmlrpc.client.loads, response.body)

    def test_bodyUnderTheLimitIsAccepted(self):
        name = "x" * (MAX_BODY - 500)
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", name)
        self.assertEqual(fault.faultCode, FAULT_NO_SUCH_USER)


class BodyLimitTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def test_contentLengthOverTheLimitIsRefusedBeforeTheBody(self):
        channel, transport = self.client.connect()
        channel.dataReceived(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (100 * MAX_BODY,)
        )
        (response,) = parseResponses(transport.value())
        self.assertEqual(response.code, 413)
        self.assertEqual(response.text, f"Request body too large (limit {MAX_BODY} bytes)\n")
        self.assertEqual(response.header("Connection"), "close")
        # What follows is dropped unread, even a complete second request.
        transport.clear()
        channel.dataReceived(b"x" * 65536 + b"GET /alice HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(transport.value(), b"")
        self.assertEqual(
            [r[2:] for r in self.client.queryLog.records], [("POST /RPC2", "413 body too large")]
        )

    def test_chunkedBodyOverTheLimitIsRefusedAsItGrows(self):
        channel, transport = self.client.connect()
        channel.dataReceived(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
        for _ in range(MAX_BODY // 65536):
            channel.dataReceived(chunk)
        self.assertEqual(transport.value(), b"")  # exactly at the limit: still reading
        channel.dataReceived(chunk + b"0\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))
        self.assertEqual(transport.value().count(b"HTTP/1.1"), 1)

    def test_lingerThenClose(self):
        channel, transport = self.client.connect()
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
        self.assertFalse(transport.disconnecting)
        self.client.clock.advance(5)
        self.assertTrue(transport.disconnecting or transport.disconnected)

    def test_idleConnectionsTimeOut(self):
        client = SiteClient({"alice": "Happy"}, timeout=7)
        channel, transport = client.connect()
        channel.dataReceived(b"GET /alice HTTP/1.1\r\n")
        client.clock.advance(6)
        self.assertFalse(transport.disconnecting)
        client.clock.advance(2)
        self.assertTrue(transport.disconnecting)


class QueryLogTests(TestCase):
    def test_eachRequestIsLoggedOnceWithItsFrontend(self):
        client = SiteClient({"alice": "Happy"})
        client.get("/alice")
        client.get("/nobody")
        client.get("/api/users/alice")
        client.call("getUser", "alice")
        client.get("/.well-known/webfinger?resource=acct:alice@127.0.0.1", secure=True)
        self.assertEqual(
            [(frontend, query, outcome) for frontend, _, query, outcome in client.queryLog.records],
            [
                ("web", "GET /alice", "200 found"),
                ("web", "GET /nobody", "404 no such user"),
                ("api", "GET /api/users/alice", "200 found"),
                ("xmlrpc", "getUser('alice')", "200 answered"),
                ("webfinger", "acct:alice@127.0.0.1", "200 found"),
            ],
        )
        self.assertTrue(all(peer == "127.0.0.1:40000" for _, peer, _, _ in client.queryLog.records))


class WebFingerTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy\x07 and well", "api": "reserved"})

    def finger(self, query: str, code: int = 200, host: str = "example.org"):
        response = self.client.get(f"/.well-known/webfinger?{query}", secure=True, host=host)
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        return response, json.loads(response.body)

    def test_account(self):
        response, document = self.finger("resource=acct:alice@example.org")
        self.assertEqual(response.header("Content-Type"), "application/jrd+json")
        self.assertEqual(
            document,
            {
                "subject": "acct:alice@example.org",
                "aliases": ["https://example.org/alice"],
                "properties": {webfinger.STATUS_PROPERTY: "Happy and well"},
                "links": [
                    {
                        "rel": webfinger.PROFILE_PAGE,
                        "type": "text/html",
                        "href": "https://example.org/alice",
                    }
                ],
            },
        )

    def test_hostWithPortAndPercentEncodedUser(self):
        _, document = self.finger(
            "resource=acct%3Aal%2569ce%40Example.ORG", host="example.org:8443"
        )
        self.assertEqual(document["subject"], "acct:alice@example.org")  # canonical
        self.assertEqual(document["aliases"], ["https://example.org:8443/alice"])
        _, document = self.finger("resource=acct:alice@example.org:8443", host="example.org:8443")
        self.assertEqual(document["subject"], "acct:alice@example.org:8443")

    def test_relFiltering(self):
        _, document = self.finger("resource=acct:alice@example.org&rel=http://example.com/other")
        self.assertEqual(document["links"], [])
        self.assertEqual(document["properties"], {webfinger.STATUS_PROPERTY: "Happy and well"})
        _, document = self.finger(
            f"resource=acct:alice@example.org&rel=other&rel={webfinger.PROFILE_PAGE}"
        )
        self.assertEqual([link["rel"] for link in document["links"]], [webfinger.PROFILE_PAGE])

    def test_userWithoutAPageHasNoProfileLink(self):
        _, document = self.finger("resource=acct:api@example.org")
        self.assertEqual(document["links"], [])
        self.assertNotIn("aliases", document)

    def test_badRequests(self):
        for query in [
            "",
            "resource=",
            "resource=alice",
            "resource=acct:alice",
            "resource=acct:@example.org",
            "resource=acct:alice@",
            "resource=acct:alice@bad/host",
            "resource=:x",
            "resource=acct:a@example.org&resource=acct:b@example.org",
            "resource=%ff",
            "resource=acct:%ff@example.org",
        ]:
            _, document = self.finger(query, 400)
            self.assertIn("error", document, query)

    def test_notFound(self):
        for query in [
            "resource=acct:nobody@example.org",
            "resource=acct:alice@elsewhere.example",
            "resource=mailto:alice@example.org",
            "resource=https://example.org/alice",
        ]:
            _, document = self.finger(query, 404)
            self.assertIn("error", document, query)

    def test_plainHTTPAnswers404(self):
        response = self.client.get("/.well-known/webfinger?resource=acct:alice@127.0.0.1")
        self.assertEqual(response.code, 404)
        self.assertIsNone(response.header("Access-Control-Allow-Origin"))

    def test_parseAccount(self):
        self.assertEqual(webfinger.parseAccount("acct:bob@Host.Example"), ("bob", "host.example"))
        self.assertEqual(webfinger.parseAccount("ACCT:b%C3%B6b@[::1]:8443"), ("böb", "[::1]:8443"))
        self.assertRaises(webfinger.BadResource, webfinger.parseAccount, "acct:bob")
        self.assertRaises(webfinger.UnknownResource, webfinger.parseAccount, "xmpp:bob@host")


@implementer(IFingerService)
class FailingService:
    def getUser(self, name):
        return defer.fail(RuntimeError("disk on fire"))

    def getUsers(self):
        return defer.fail(RuntimeError("disk on fire"))


class ErrorTests(TestCase):
    def test_backendFailuresAre500sWithoutDetails(self):
        client = SiteClient(service=FailingService())
        for path in ["/", "/alice", "/api/users", "/api/users/alice"]:
            response = client.get(path)
            self.assertEqual(response.code, 500, path)
            self.assertNotIn(b"disk on fire", response.body)
        response = client.get("/.well-known/webfinger?resource=acct:a@127.0.0.1:8000", secure=True)
        self.assertEqual(response.code, 500)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 5)


class TLSTests(TestCase):
    def setUp(self):
        from tests.helpers.tlsfiles import makeCertificates

        self.files = makeCertificates(temporaryDirectory(self))

    def test_onlyTLS12AndNewer(self):
        options = tls.certificateOptions(self.files.key, self.files.cert)
        flags = options.getContext().set_options(0)
        self.assertTrue(flags & SSL.OP_NO_TLSv1)
        self.assertTrue(flags & SSL.OP_NO_TLSv1_1)
        self.assertFalse(flags & SSL.OP_NO_TLSv1_2)

    def test_badFilesAreStartupErrorsNamingTheFile(self):
        cases = [
            (
                (self.files.dir + "/missing.pem", self.files.cert),
                "cannot read the HTTPS private key "
                + self.files.dir
                + "/missing.pem: No such file or directory",
            ),
            (
                (self.files.key, self.files.dir + "/missing.pem"),
                "cannot read the HTTPS certificate " + self.files.dir + "/missing.pem",
            ),
            (
                (self.files.otherKey, self.files.cert),
                f"the HTTPS private key {self.files.otherKey} does not match the certificate {self.files.cert}",
            ),
            (
                (self.files.cert, self.files.cert),
                f"the HTTPS private key {self.files.cert} is not a PEM private key",
            ),
            (
                (self.files.key, self.files.key),
                f"the HTTPS certificate {self.files.key} is not a PEM certificate",
            ),
        ]
        for args, message in cases:
            error = self.assertRaises(StartupError, tls.certificateOptions, *args)
            self.assertIn(message, str(error))

    def test_httpsDescription(self):
        self.assertEqual(
            tls.httpsDescription("ssl:8443:privateKey=k.pem"), "finger-https:8443:privateKey=k.pem"
        )
        error = self.assertRaises(StartupError, tls.httpsDescription, "tcp:8443")
        self.assertIn("--https wants an ssl: endpoint", str(error))

    def test_parserRefusesSSLMethodAndUnknownOptions(self):
        parser = tls.HTTPSServerParser()
        self.assertRaises(
            StartupError,
            parser.parseStreamServer,
            None,
            "0",
            self.files.key,
            sslmethod="TLSv1_METHOD",
        )
        error = self.assertRaises(
            StartupError, parser.parseStreamServer, None, "0", self.files.key, keyfile="x"
        )
        self.assertIn("keyfile", str(error))
