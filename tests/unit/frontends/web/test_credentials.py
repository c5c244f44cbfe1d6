"""finger.frontends.web.credentials: the Authorization header and the client's address."""

from __future__ import annotations

from base64 import b64encode

from twisted.cred.credentials import IUsernamePassword
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.trial import unittest
from twisted.web.test.requesthelper import DummyRequest

from finger.accounts.cred import IBearerToken
from finger.accounts.gate import isLoopback
from finger.frontends.web.credentials import MalformedCredentials, clientAddress, credentialsFrom
from finger.frontends.web.forwarded import Origin


def request(authorization: bytes | None = None, origin: Origin | None = None) -> DummyRequest:
    made = DummyRequest([b""])
    if authorization is not None:
        made.requestHeaders.setRawHeaders(b"authorization", [authorization])
    made.origin = origin
    made.client = IPv4Address("TCP", "127.0.0.1", 4000)
    return made


class CredentialsTests(unittest.TestCase):
    def test_none(self):
        self.assertIsNone(credentialsFrom(request()))

    def test_bearer(self):
        credentials = credentialsFrom(request(b"Bearer fngr_abc"))
        self.assertTrue(IBearerToken.providedBy(credentials))
        self.assertEqual(credentials.token, "fngr_abc")
        self.assertEqual(credentialsFrom(request(b"bearer  x ")).token, "x")

    def test_basic(self):
        credentials = credentialsFrom(request(b"Basic " + b64encode(b"alice:pa:ss")))
        self.assertTrue(IUsernamePassword.providedBy(credentials))
        self.assertEqual((credentials.username, credentials.password), (b"alice", b"pa:ss"))

    def test_malformed(self):
        for header in [b"Basic !!!", b"Basic " + b64encode(b"no colon"), b"Digest x=y",
                       b"Bearer", b"Basic", b"Bearer " + b"x" * 5000, b"Basic \xff"]:
            self.assertRaises(MalformedCredentials, credentialsFrom, request(header))


class AddressTests(unittest.TestCase):
    def test_direct(self):
        self.assertEqual(clientAddress(request()), IPv4Address("TCP", "127.0.0.1", 4000))

    def test_throughATrustedProxy(self):
        """Behind a trusted proxy on loopback, the client it names is not loopback."""
        origin = Origin(address="203.0.113.9", secure=False, host=None, proxy="127.0.0.1")
        address = clientAddress(request(origin=origin))
        self.assertEqual(address.host, "203.0.113.9")
        self.assertFalse(isLoopback(address))
        origin6 = Origin(address="2001:db8::1", secure=True, host=None, proxy="127.0.0.1")
        self.assertIsInstance(clientAddress(request(origin=origin6)), IPv6Address)

    def test_untrustedOrigin(self):
        origin = Origin(address="127.0.0.1", secure=False, host=None, proxy=None)
        self.assertEqual(clientAddress(request(origin=origin)).host, "127.0.0.1")
