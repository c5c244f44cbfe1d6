"""
Unit tests of the reverse-proxy policy (finger.frontends.web.forwarded), on
its own and through a real FingerSite: only trusted peers' forwarding
headers count, and the chain is read from the right.
"""

from __future__ import annotations

import json

from twisted.trial.unittest import TestCase
from twisted.web.http_headers import Headers

from finger.errors import FingerConfigurationError
from finger.frontends.web.forwarded import BadTrustedProxy, TrustedProxies, parseAddress
from finger.frontends.web.site import STRICT_TRANSPORT_SECURITY
from tests.helpers.webclient import SiteClient

PROXIES = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "::1"])


def origin(peer, headers, secure=False, proxies=PROXIES):
    return proxies.origin(peer, secure, Headers({k: [v] for k, v in headers.items()}))


class AddressTests(TestCase):
    def test_forms(self):
        for text, expected in [
            ("192.0.2.1", "192.0.2.1"),
            ("192.0.2.1:4711", "192.0.2.1"),
            ('"[2001:db8::1]:4711"', "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
        ]:
            self.assertEqual(str(parseAddress(text)), expected, text)
        for text in ["unknown", "_hidden", "example.org", "[2001:db8::1", ""]:
            self.assertIsNone(parseAddress(text), text)

    def test_badProxy(self):
        with self.assertRaises(BadTrustedProxy) as caught:
            TrustedProxies(["proxy.lan"])
        self.assertIsInstance(caught.exception, FingerConfigurationError)
        self.assertIn("'proxy.lan'", str(caught.exception))
        self.assertTrue(TrustedProxies(["10.1.2.3/8"]).trusts("10.200.0.1"))  # host bits allowed


class OriginTests(TestCase):
    def test_untrustedPeerHeadersIgnored(self):
        headers = {b"X-Forwarded-For": b"203.0.113.9", b"X-Forwarded-Proto": b"https",
                   b"Forwarded": b"for=203.0.113.9;proto=https;host=evil.example",
                   b"X-Forwarded-Host": b"evil.example"}
        got = origin("192.0.2.50", headers)
        self.assertEqual((got.address, got.secure, got.host, got.proxy),
                         ("192.0.2.50", False, None, None))

    def test_noProxiesConfigured(self):
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"203.0.113.9"}, proxies=TrustedProxies())
        self.assertEqual(got.address, "127.0.0.1")

    def test_xForwardedFor(self):
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"203.0.113.9",
                                   b"X-Forwarded-Proto": b"https",
                                   b"X-Forwarded-Host": b"evil.example"})
        # X-Forwarded-Host is never read (see the module's docstring).
        self.assertEqual((got.address, got.secure, got.host, got.proxy),
                         ("203.0.113.9", True, None, "127.0.0.1"))

    def test_rightMostUntrustedWins(self):
        # The client forged the left-most entry; 10.0.0.7 is a trusted inner proxy.
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"1.1.1.1, 203.0.113.9, 10.0.0.7"})
        self.assertEqual((got.address, got.proxy), ("203.0.113.9", "10.0.0.7"))
        got = origin("127.0.0.1", {b"Forwarded": b'for=1.1.1.1, for=203.0.113.9;proto=https, '
                                                 b'for="10.0.0.7:4711";proto=https'})
        self.assertEqual((got.address, got.secure), ("203.0.113.9", True))

    def test_allTrustedTakesTheLeftMost(self):
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"10.0.0.8, 10.0.0.7"})
        self.assertEqual(got.address, "10.0.0.8")

    def test_forwardedWinsOverXForwarded(self):
        got = origin("::1", {b"Forwarded": b'For="[2001:db8::5]:1";Proto=HTTPS;host="a.example"',
                             b"X-Forwarded-For": b"203.0.113.9"})
        self.assertEqual((got.address, got.secure, got.host), ("2001:db8::5", True, "a.example"))

    def test_unknownStopsAtTheProxy(self):
        got = origin("127.0.0.1", {b"Forwarded": b"for=unknown;proto=https"})
        self.assertEqual((got.address, got.secure), ("127.0.0.1", True))
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"garbage"})
        self.assertEqual(got.address, "127.0.0.1")

    def test_protoHttpFromTheProxy(self):
        got = origin("127.0.0.1", {b"X-Forwarded-For": b"203.0.113.9",
                                   b"X-Forwarded-Proto": b"http"}, secure=True)
        self.assertFalse(got.secure)

    def test_quotedCommasAndSemicolons(self):
        got = origin("127.0.0.1", {b"Forwarded": b'for=203.0.113.9;host="a,b;c", for=10.0.0.1'})
        self.assertEqual(got.address, "203.0.113.9")


class SiteTests(TestCase):
    """Through a real FingerSite: the query log, HSTS, WebFinger."""

    HEADERS = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}

    def setUp(self):
        self.client = SiteClient({"alice": "Happy"}, trustedProxies=TrustedProxies(["127.0.0.1"]))

    def test_fromTrustedProxy(self):
        response = self.client.get("/.well-known/webfinger?resource=acct:alice@example.org",
                                   host="example.org", headers=self.HEADERS)
        self.assertEqual(response.code, 200, response.body)
        self.assertEqual(response.header("Strict-Transport-Security"),
                         STRICT_TRANSPORT_SECURITY.decode())
        self.assertEqual(json.loads(response.body)["aliases"], ["https://example.org/alice"])
        peer = self.client.queryLog.records[-1][1]
        self.assertRegex(peer, r"^203\.0\.113\.9 via 127\.0\.0\.1:\d+$")

    def test_forgedHeadersFromAnyoneElseChangeNothing(self):
        response = self.client.get("/.well-known/webfinger?resource=acct:alice@example.org",
                                   host="example.org", headers=self.HEADERS, peer="192.0.2.50")
        self.assertEqual(response.code, 404)
        self.assertIsNone(response.header("Strict-Transport-Security"))
        self.assertRegex(self.client.queryLog.records[-1][1], r"^192\.0\.2\.50:\d+$")
        page = self.client.get("/alice", headers=self.HEADERS, peer="192.0.2.50")
        self.assertEqual(page.code, 200)
        self.assertIsNone(page.header("Strict-Transport-Security"))

    def test_plainHTTPViaProxyStaysPlain(self):
        response = self.client.get("/.well-known/webfinger?resource=acct:alice@127.0.0.1",
                                   headers={"X-Forwarded-For": "203.0.113.9",
                                            "X-Forwarded-Proto": "http"})
        self.assertEqual(response.code, 404)
