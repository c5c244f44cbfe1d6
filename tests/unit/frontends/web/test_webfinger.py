"""
Unit tests of WebFinger (finger.frontends.web.webfinger), through a real FingerSite.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from xml.etree import ElementTree

from twisted.trial.unittest import TestCase

from finger.frontends.web import webfinger
from finger.frontends.web.webfingerfile import parseWebFinger
from tests.helpers.webclient import SiteClient


class WebFingerTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy\x07 and well", "api": "reserved"})

    def finger(self, query: str, code: int = 200, host: str = "example.org"):
        response = self.client.get(f"/.well-known/webfinger?{query}", secure=True, host=host)
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        return response, json.loads(response.body)

    def assertRefused(self, code: int, queries: list[str]) -> None:
        """Each of C{queries} is answered C{code}, with a JSON error."""
        for query in queries:
            _, document = self.finger(query, code)
            self.assertIn("error", document, query)

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
        self.assertRefused(400, [
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
        ])

    def test_notFound(self):
        self.assertRefused(404, [
            "resource=acct:nobody@example.org",
            "resource=acct:alice@elsewhere.example",
            "resource=mailto:alice@example.org",
            "resource=https://elsewhere.example/alice",
            "resource=https://example.org/alice/more",
            "resource=https://example.org/api",
            "resource=https://example.org/",
        ])

    def test_plainHTTPAnswers404(self):
        for path in ["webfinger?resource=acct:alice@127.0.0.1", "host-meta", "host-meta.json"]:
            response = self.client.get(f"/.well-known/{path}")
            self.assertEqual(response.code, 404)
            self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
            self.assertIn("HTTPS only", json.loads(response.body)["error"])

    def test_resourceForms(self):
        """The ways real clients write an account all name alice, hosts in any case."""
        for resource in [
            "acct:alice@example.org",
            "ACCT:alice@EXAMPLE.org",
            "alice@example.org",
            "alice@Example.Org",
            "@alice@example.org",
            "https://example.org/alice",
            "https://EXAMPLE.ORG/alice",
            "http://example.org/alice",
        ]:
            _, document = self.finger(f"resource={quote(resource, safe='')}")
            self.assertEqual(document["subject"], "acct:alice@example.org", resource)
            self.assertEqual(document["aliases"], ["https://example.org/alice"], resource)

    def test_errorsAreNotCachedAndFoundIs(self):
        response, _ = self.finger("resource=acct:alice@example.org")
        self.assertEqual(response.header("Cache-Control"), f"max-age={webfinger.JRD_MAX_AGE}")
        response, _ = self.finger("resource=acct:nobody@example.org", 404)
        self.assertEqual(response.header("Cache-Control"), "no-store")

    def test_etagAndIfNoneMatch(self):
        response, _ = self.finger("resource=acct:alice@example.org")
        tag = response.header("ETag")
        self.assertRegex(tag, r'^"[0-9a-f]{32}"$')
        path = "/.well-known/webfinger?resource=acct:alice@example.org"
        for given in [tag, f"W/{tag}", f'"other", {tag}', "*"]:
            again = self.client.get(
                path, secure=True, host="example.org", headers={"If-None-Match": given}
            )
            self.assertEqual(again.code, 304, given)
            self.assertEqual(again.body, b"")
            self.assertEqual(again.header("ETag"), tag)
            self.assertEqual(again.header("Access-Control-Allow-Origin"), "*")
        changed = self.client.get(
            path, secure=True, host="example.org", headers={"If-None-Match": '"other"'}
        )
        self.assertEqual(changed.code, 200)
        self.client.service.setUser("alice", "Changed")
        stale = self.client.get(path, secure=True, host="example.org", headers={"If-None-Match": tag})
        self.assertEqual(stale.code, 200)
        self.assertNotEqual(stale.header("ETag"), tag)


ENTRIES = {
    "alice": {
        "aliases": ["https://social.example/@alice"],
        "links": [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://social.example/users/alice",
            },
            {"rel": "http://webfinger.net/rel/avatar", "href": "https://social.example/a.png",
             "titles": {"en": "Alice"}},
        ],
        "properties": {"http://schema.org/name": "Alice"},
    },
    "carol": {"links": [{"rel": "self", "type": "application/activity+json",
                          "href": "https://social.example/users/carol"}]},
}


class WebFingerDataTests(TestCase):
    """Per-user links from the WebFinger file, and --webfinger-domain."""

    def client(self, domains=()):
        data = parseWebFinger(json.dumps(ENTRIES).encode())
        settings = webfinger.WebFingerSettings(domains=tuple(domains), links=data)
        return SiteClient({"alice": "Happy", "bob": "Here"}, webfinger=settings)

    def finger(self, client, resource, code=200, host="example.org"):
        response = client.get(
            f"/.well-known/webfinger?resource={quote(resource, safe='')}", secure=True, host=host
        )
        self.assertEqual(response.code, code, response.body)
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        return json.loads(response.body)

    def test_entryAddsToTheJRD(self):
        document = self.finger(self.client(), "acct:alice@example.org")
        self.assertEqual(
            document["aliases"], ["https://example.org/alice", "https://social.example/@alice"]
        )
        self.assertEqual(
            [link["rel"] for link in document["links"]],
            [webfinger.PROFILE_PAGE, "self", "http://webfinger.net/rel/avatar"],
        )
        self.assertEqual(document["links"][1]["href"], "https://social.example/users/alice")
        self.assertEqual(document["links"][2]["titles"], {"en": "Alice"})
        self.assertEqual(
            document["properties"],
            {webfinger.STATUS_PROPERTY: "Happy", "http://schema.org/name": "Alice"},
        )
        response = self.client().get(
            "/.well-known/webfinger?resource=acct:alice@example.org&rel=self",
            secure=True, host="example.org",
        )
        selfOnly = json.loads(response.body)
        self.assertEqual([link["rel"] for link in selfOnly["links"]], ["self"])

    def test_userOnlyInTheFile(self):
        document = self.finger(self.client(), "acct:carol@example.org")
        self.assertEqual(document["subject"], "acct:carol@example.org")
        self.assertEqual([link["href"] for link in document["links"]],
                         ["https://social.example/users/carol"])
        self.assertNotIn("properties", document)
        self.assertNotIn("aliases", document)

    def test_aliasAsResource(self):
        document = self.finger(self.client(), "https://social.example/@alice")
        self.assertEqual(document["subject"], "acct:alice@example.org")

    def test_userWithoutEntry(self):
        document = self.finger(self.client(), "bob@example.org")
        self.assertEqual([link["rel"] for link in document["links"]], [webfinger.PROFILE_PAGE])
        self.finger(self.client(), "acct:nobody@example.org", 404)

    def test_domains(self):
        client = self.client(domains=["example.org", "example.net"])
        for resource, subject in [
            ("acct:alice@example.org", "acct:alice@example.org"),
            ("alice@EXAMPLE.NET", "acct:alice@example.net"),
            ("@alice@example.net", "acct:alice@example.net"),
        ]:
            document = self.finger(client, resource, host="finger.example.org")
            self.assertEqual(document["subject"], subject)
            self.assertEqual(document["aliases"][0], "https://finger.example.org/alice")
        # The request's own host is not one of the domains, nor is a foreign one.
        self.finger(client, "acct:alice@finger.example.org", 404, host="finger.example.org")
        self.finger(client, "acct:alice@elsewhere.example", 404, host="finger.example.org")
        document = self.finger(client, "https://finger.example.org/alice", host="finger.example.org")
        self.assertEqual(document["subject"], "acct:alice@example.org")


class HostMetaTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def test_xrd(self):
        response = self.client.get("/.well-known/host-meta", secure=True, host="Example.org:8443")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header("Content-Type"), "application/xrd+xml; charset=utf-8")
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        link = ElementTree.fromstring(response.body).find(
            "{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link"
        )
        self.assertEqual(link.get("rel"), "lrdd")
        self.assertEqual(
            link.get("template"),
            "https://Example.org:8443/.well-known/webfinger?resource={uri}",
        )

    def test_json(self):
        response = self.client.get("/.well-known/host-meta.json", secure=True, host="example.org")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        self.assertIsNotNone(response.header("ETag"))
        self.assertEqual(
            json.loads(response.body)["links"],
            [{"rel": "lrdd", "type": "application/jrd+json",
              "template": "https://example.org/.well-known/webfinger?resource={uri}"}],
        )

    def test_badHost(self):
        response = self.client.get("/.well-known/host-meta", secure=True, host='x"><y')
        self.assertEqual(response.code, 400)

    def test_parseAccount(self):
        self.assertEqual(webfinger.parseAccount("acct:bob@Host.Example"), ("bob", "host.example"))
        self.assertEqual(webfinger.parseAccount("ACCT:b%C3%B6b@[::1]:8443"), ("böb", "[::1]:8443"))
        self.assertRaises(webfinger.BadResource, webfinger.parseAccount, "acct:bob")
        self.assertRaises(webfinger.UnknownResource, webfinger.parseAccount, "xmpp:bob@host")
