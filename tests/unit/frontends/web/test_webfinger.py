"""
Unit tests of WebFinger (finger.frontends.web.webfinger), through a real FingerSite.
"""

from __future__ import annotations

import json

from twisted.trial.unittest import TestCase

from finger.frontends.web import webfinger
from tests.helpers.webclient import SiteClient


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
