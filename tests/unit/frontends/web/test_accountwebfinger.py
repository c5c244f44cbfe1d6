"""
Users' own WebFinger links: the validator's bounds (parseUserEntry), the
merge with the operator's entry (mergeEntries), and the JSON API
C{/api/users/NAME/webfinger} through a real FingerSite over an in-memory
account store, with WebFinger reading what was set.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.trial.unittest import TestCase

from finger.accounts.gate import buildAuthenticator
from finger.accounts.hashing import PasswordHashing
from finger.accounts.memory import MemoryAccountStore
from finger.accounts.tokens import newToken
from finger.frontends.web import webfinger
from finger.frontends.web.webfingerfile import (
    MAX_USER_LINKS,
    WebFingerEntry,
    entryDocument,
    parseUserEntry,
    parseWebFinger,
)
from tests.helpers.webclient import SiteClient

REMOTE = IPv4Address("TCP", "192.0.2.7", 40000)
PASSWORDS = {"alice": "alice's long password", "bob": "bob's long password", "root": "root pw 123"}
ACTOR = "https://social.example/users/alice"
SELF = {"rel": "self", "type": "application/activity+json", "href": ACTOR}


class ValidationTests(TestCase):
    def test_goodEntryRoundTrips(self):
        raw = json.dumps({"aliases": ["https://social.example/@alice"], "links": [
            {**SELF, "titles": {"en": "Alice"}, "properties": {"urn:x": None}}]}).encode()
        entry = parseUserEntry(raw)
        self.assertEqual(entry.links[0]["href"], ACTOR)
        self.assertEqual(parseUserEntry(json.dumps(entryDocument(entry)).encode()), entry)

    def test_refusedWithAReason(self):
        for body, reason in [
            (b"{", "not valid JSON"),
            (b"\xff", "not valid UTF-8"),
            (b"[]", "must be a JSON object"),
            (b'{"link": []}', "unknown member 'link'"),
            (b'{"links": [{"href": "https://x.example/"}]}', 'needs a "rel"'),
            (b'{"links": [{"rel": "self", "href": "javascript alert"}]}', "absolute URI"),
            (b'{"aliases": "https://x.example/"}', "must be a list"),
            (json.dumps({"links": [{"rel": "me"}] * (MAX_USER_LINKS + 1)}).encode(),
             f"at most {MAX_USER_LINKS}"),
            (json.dumps({"aliases": ["https://x.example/"] * 33}).encode(), "at most 32"),
            (b'{"aliases": ["https://x.example/' + b"a" * 17000 + b'"]}', "larger than 16 KiB"),
        ]:
            with self.assertRaises(ValueError) as caught:
                parseUserEntry(body)
            self.assertIn(reason, str(caught.exception), body[:60])

    def test_theFileAndTheAPIShareTheValidator(self):
        """What the file refuses in an entry, the API refuses too, with the same words."""
        bad = {"links": [{"rel": "self", "hreff": ACTOR}]}
        with self.assertRaises(ValueError) as fromFile:
            parseWebFinger(json.dumps({"alice": bad}).encode())
        with self.assertRaises(ValueError) as fromAPI:
            parseUserEntry(json.dumps(bad).encode())
        self.assertIn("unknown member 'hreff'", str(fromFile.exception))
        self.assertIn("unknown member 'hreff'", str(fromAPI.exception))


class MergeTests(TestCase):
    def test_operatorWinsByRel(self):
        operator = WebFingerEntry(
            aliases=("https://op.example/alice",),
            links=({"rel": "self", "href": "https://op.example/actor"},),
            properties={"urn:p": "operator"},
        )
        own = WebFingerEntry(
            aliases=("https://op.example/alice", "https://mine.example/"),
            links=({"rel": "self", "href": ACTOR}, {"rel": "me", "href": "https://mine.example/"}),
            properties={"urn:p": "mine", "urn:q": "mine"},
        )
        merged = webfinger.mergeEntries(operator, own)
        self.assertEqual(merged.aliases, ("https://op.example/alice", "https://mine.example/"))
        self.assertEqual(
            [link["href"] for link in merged.links],
            ["https://op.example/actor", "https://mine.example/"],
        )
        self.assertEqual(merged.properties, {"urn:p": "operator", "urn:q": "mine"})

    def test_nothingOwn(self):
        operator = WebFingerEntry(links=({"rel": "self", "href": ACTOR},))
        self.assertIs(webfinger.mergeEntries(operator, None), operator)


def basic(name: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{PASSWORDS[name]}".encode()).decode()


class APITests(TestCase):
    def setUp(self):
        hashing = PasswordHashing(
            timeCost=1, memoryCost=8, parallelism=1,
            runInThread=lambda f, *args: defer.maybeDeferred(f, *args),
        )
        self.accounts = MemoryAccountStore()
        for name, password in PASSWORDS.items():
            self.accounts.createAccount(name, hashing.hashNow(password), name == "root")
        self.token = newToken()
        self.accounts.addToken("alice", self.token.id, self.token.tokenHash)
        fileData = parseWebFinger(json.dumps({"bob": {"links": [
            {"rel": "self", "type": "application/activity+json",
             "href": "https://op.example/users/bob"}]}}).encode())
        self.client = SiteClient(
            {"alice": "Happy", "bob": "Busy", "dave": "No account"},
            accounts=buildAuthenticator(self.accounts, hashing),
            webfinger=webfinger.WebFingerSettings(links=fileData, accounts=self.accounts),
        )

    def call(self, method, name, body=None, auth=None, secure=True, peer=REMOTE):
        head = [f"{method} /api/users/{name}/webfinger HTTP/1.1", "Host: example.org",
                "Connection: close"]
        if auth is not None:
            head.append(f"Authorization: {auth}")
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        head.append(f"Content-Length: {len(data)}")
        (response,) = self.client.exchange(
            ("\r\n".join(head) + "\r\n\r\n").encode() + data, secure, peer
        )
        return response.code, json.loads(response.body), response

    def jrd(self, name, code=200):
        response = self.client.get(
            f"/.well-known/webfinger?resource={quote(f'acct:{name}@example.org')}",
            secure=True, host="example.org",
        )
        self.assertEqual(response.code, code, response.body)
        return json.loads(response.body)

    def test_setWithATokenSeenByWebFingerAtOnce(self):
        code, document, _ = self.call("PUT", "alice", {"links": [SELF]}, f"Bearer {self.token.token}")
        self.assertEqual(code, 200, document)
        self.assertEqual(document["links"], [SELF])
        self.assertIn(SELF, self.jrd("alice")["links"])
        code, document, response = self.call("GET", "alice")
        self.assertEqual((code, document["links"]), (200, [SELF]))
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        self.assertIsNotNone(response.header("ETag"))
        self.assertIn(("alice", "alice"), self.client.queryLog.writers)
        code, document, _ = self.call("DELETE", "alice", auth=basic("alice"))
        self.assertEqual((code, document["links"]), (200, []))
        self.assertNotIn(SELF, self.jrd("alice")["links"])

    def test_anotherUsersLinksAreForbidden(self):
        code, document, _ = self.call("PUT", "bob", {"links": [SELF]}, basic("alice"))
        self.assertEqual(code, 403)
        self.assertEqual(document["error"], "alice may not write the WebFinger links of bob")
        self.assertEqual(self.call("GET", "bob")[1]["links"], [])
        code, _, _ = self.call("DELETE", "bob", auth=basic("alice"))
        self.assertEqual(code, 403)

    def test_adminMaySetAnyAccountsLinks(self):
        self.assertEqual(self.call("PUT", "bob", {"links": [SELF]}, basic("root"))[0], 200)

    def test_operatorsFileWinsOnTheSameRel(self):
        own = {"links": [SELF, {"rel": "me", "href": "https://bob.example/"}]}
        self.assertEqual(self.call("PUT", "bob", own, basic("bob"))[0], 200)
        links = self.jrd("bob")["links"]
        selfLinks = [link["href"] for link in links if link["rel"] == "self"]
        self.assertEqual(selfLinks, ["https://op.example/users/bob"])
        self.assertIn({"rel": "me", "href": "https://bob.example/"}, links)

    def test_badBodies(self):
        for body, reason in [
            (b"{not json", "not valid JSON"),
            ({"links": [{"rel": "me"}] * 33}, "at most 32"),
            (b'{"links": [], "x": "' + b"y" * 17000 + b'"}', "larger than 16 KiB"),
            ({"status": "Happy"}, "unknown member 'status'"),
        ]:
            code, document, _ = self.call("PUT", "alice", body, basic("alice"))
            self.assertEqual(code, 400, document)
            self.assertIn(reason, document["error"])
        self.assertEqual(self.call("GET", "alice")[1]["links"], [])

    def test_credentialsRules(self):
        code, document, response = self.call("PUT", "alice", {"links": []})
        self.assertEqual(code, 401)
        self.assertIn("Bearer", response.header("WWW-Authenticate"))
        code, _, _ = self.call("PUT", "alice", {"links": []}, "Bearer fngr_wrong_token")
        self.assertEqual(code, 401)
        code, document, _ = self.call("PUT", "alice", {"links": []}, basic("alice"), secure=False)
        self.assertEqual(code, 403)
        self.assertIn("only over HTTPS", document["error"])

    def test_unknownAccount(self):
        self.assertEqual(self.call("GET", "dave")[0], 404)  # a status, but no account
        code, document, _ = self.call("PUT", "dave", {"links": [SELF]}, basic("root"))
        self.assertEqual(code, 404, document)
        self.assertEqual(self.call("GET", "nobody")[0], 404)

    def test_onlyMethodsAllowed(self):
        code, _, response = self.call("POST", "alice", {"links": []}, basic("alice"))
        self.assertEqual(code, 405)
        self.assertEqual(response.header("Allow"), "GET, HEAD, PUT, DELETE")

    def test_accountWithOnlyOwnLinksIsFound(self):
        """root has an account and links but no status: WebFinger answers with the links."""
        self.jrd("root", 404)
        self.assertEqual(self.call("PUT", "root", {"links": [SELF]}, basic("root"))[0], 200)
        self.assertEqual(self.jrd("root")["links"], [SELF])
