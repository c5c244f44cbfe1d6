"""
Unit tests of signing in on the web and the edit form
(finger.frontends.web.login, signin, pages): a real FingerSite over
StringTransport, the accounts core's authenticator over an in-memory account
store, and a task.Clock for the sessions and the throttle.
"""

from __future__ import annotations

import re

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from finger.accounts.gate import buildAuthenticator
from finger.accounts.hashing import PasswordHashing
from finger.accounts.memory import MemoryAccountStore
from finger.accounts.throttle import LoginThrottle
from finger.frontends.web.sessions import SessionStore
from tests.helpers.webclient import CLIENT, SiteClient

REMOTE = IPv4Address("TCP", "192.0.2.7", 40000)
PASSWORDS = {"alice": "alice's long password", "bob": "bob's long password", "root": "root pw 123"}


def quickHashing() -> PasswordHashing:
    """argon2id with small parameters, run at once (no threads)."""
    return PasswordHashing(
        timeCost=1, memoryCost=8, parallelism=1,
        runInThread=lambda f, *args: defer.maybeDeferred(f, *args),
    )


def csrfOf(html: str) -> str | None:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else None


class SignInTests(TestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.accounts = MemoryAccountStore()
        hashing = quickHashing()
        for name, password in PASSWORDS.items():
            self.accounts.createAccount(name, hashing.hashNow(password), name == "root")
        self.throttle = LoginThrottle(maxFailures=3, window=600, clock=self.clock)
        authenticator = buildAuthenticator(self.accounts, hashing, self.throttle, clock=self.clock)
        self.sessions = SessionStore(clock=self.clock, idle=3600, lifetime=7200)
        self.client = SiteClient(
            {"alice": "Happy", "bob": "Busy"},
            accounts=authenticator, sessions=self.sessions,
        )
        self.backend = self.client.service

    def login(self, name="alice", password=None, secure=True, peer=REMOTE, cookie=None):
        password = PASSWORDS[name] if password is None else password
        return self.client.request(
            "POST", "/login", {"name": name, "password": password},
            cookie=cookie, secure=secure, peer=peer,
        )

    def signedIn(self, name="alice", secure=True) -> str:
        """Sign in; return the Cookie header value to send back."""
        response = self.login(name, secure=secure, peer=REMOTE if secure else CLIENT)
        self.assertEqual(response.code, 303, response.text)
        return response.header("set-cookie").split(";")[0]

    def page(self, path, cookie, secure=True):
        return self.client.request("GET", path, cookie=cookie, secure=secure, peer=REMOTE)

    def edit(self, path, status, cookie, csrf, secure=True):
        form = {"status": status}
        if csrf is not None:
            form["csrf"] = csrf
        return self.client.request("POST", path, form, cookie=cookie, secure=secure, peer=REMOTE)

    def status(self, name):
        return self.successResultOf(self.backend.getUser(name))

    def assertNothingSecretLogged(self, *secrets):
        logged = repr(self.client.queryLog.records)
        for secret in (*PASSWORDS.values(), *secrets):
            self.assertNotIn(secret, logged)

    # The form, and where passwords are taken

    def test_formOverHTTPSAndFromLoopback(self):
        for secure, peer in [(True, REMOTE), (False, CLIENT)]:
            page = self.client.request("GET", "/login", secure=secure, peer=peer)
            self.assertEqual(page.code, 200)
            self.assertIn('name="name"', page.text)
            self.assertIn('name="password" type="password"', page.text)
            self.assertIn('action="/login"', page.text)

    def test_plainHTTPFromElsewhereExplainsAndRefuses(self):
        page = self.client.request("GET", "/login", secure=False, peer=REMOTE)
        self.assertEqual(page.code, 200)
        self.assertNotIn('name="password"', page.text)
        self.assertIn("Passwords are taken only over HTTPS", page.text)
        refused = self.login(secure=False, peer=REMOTE)
        self.assertEqual(refused.code, 403)
        self.assertIsNone(refused.header("set-cookie"))
        self.assertIn("Passwords are taken only over HTTPS", refused.text)
        self.assertNothingSecretLogged()

    # Cookies

    def test_httpsCookieAttributes(self):
        response = self.login()
        self.assertEqual((response.code, response.header("location")), (303, "/alice"))
        cookie = response.header("set-cookie")
        name, value = cookie.split(";")[0].split("=", 1)
        self.assertEqual(name, "__Host-finger-session")
        self.assertGreaterEqual(len(value), 43)
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        self.assertEqual(
            attributes, {"path=/", "max-age=7200", "secure", "httponly", "samesite=lax"}
        )
        self.assertNothingSecretLogged(value)

    def test_loopbackHTTPCookieAttributes(self):
        response = self.login(secure=False, peer=CLIENT)
        cookie = response.header("set-cookie")
        self.assertTrue(cookie.startswith("finger-session="), cookie)
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        self.assertEqual(attributes, {"path=/", "max-age=7200", "httponly", "samesite=lax"})

    def test_httpsSessionIsNotAcceptedOverHTTP(self):
        """A cookie stolen or leaked from HTTPS, replayed over plain HTTP, names no session."""
        cookie = self.signedIn(secure=True)
        value = cookie.split("=", 1)[1]
        csrf = csrfOf(self.page("/alice", cookie).text)
        self.assertIsNotNone(csrf)
        for replayed in [cookie, f"finger-session={value}"]:
            page = self.client.request("GET", "/alice", cookie=replayed, secure=False)
            self.assertNotIn("Signed in as", page.text)
            self.assertIsNone(csrfOf(page.text))
            forged = self.client.request(
                "POST", "/alice", {"status": "downgraded", "csrf": csrf},
                cookie=replayed, secure=False,
            )
            self.assertEqual(forged.code, 403)
        self.assertEqual(self.status("alice"), "Happy")

    def test_httpSessionIsNotAcceptedOverHTTPS(self):
        cookie = self.signedIn(secure=False)
        value = cookie.split("=", 1)[1]
        for replayed in [cookie, f"__Host-finger-session={value}"]:
            page = self.page("/alice", replayed, secure=True)
            self.assertNotIn("Signed in as", page.text)

    def test_noFixation(self):
        """An id the browser brings is never adopted; a session it had ends at sign-in."""
        chosen = "__Host-finger-session=attacker-chosen-id-0123456789abcdef0123456789"
        response = self.login(cookie=chosen)
        issued = response.header("set-cookie").split(";")[0]
        self.assertNotEqual(issued, chosen)
        self.assertIn("Signed in as", self.page("/alice", issued).text)
        self.assertNotIn("Signed in as", self.page("/alice", chosen).text)
        again = self.login(cookie=issued).header("set-cookie").split(";")[0]
        self.assertNotEqual(again, issued)
        self.assertNotIn("Signed in as", self.page("/alice", issued).text)
        self.assertIn("Signed in as", self.page("/alice", again).text)

    # Wrong passwords and throttling

    def test_wrongPasswordAndUnknownNameGetTheSameAnswer(self):
        wrong = self.login("alice", "not it")
        unknown = self.login("zed", "not it")
        self.assertEqual((wrong.code, unknown.code), (403, 403))
        for response in (wrong, unknown):
            self.assertIsNone(response.header("set-cookie"))
            self.assertIn("Wrong name or password.", response.text)
        self.assertEqual(wrong.text.replace("alice", "zed"), unknown.text)
        self.assertNothingSecretLogged("not it")

    def test_throttledAfterTooManyFailures(self):
        for name in ["alice", "alice", "zed"]:
            self.assertEqual(self.login(name, "wrong").code, 403)
        # The address is throttled now: the right password, any name, waits.
        for name in ["alice", "zed", "bob"]:
            refused = self.login(name, None if name != "zed" else "wrong")
            self.assertEqual(refused.code, 429, name)
            self.assertEqual(refused.header("retry-after"), "600")
            self.assertIn("Try again in 10 minutes.", refused.text)
            self.assertIsNone(refused.header("set-cookie"))
        self.clock.advance(601)
        self.assertEqual(self.login("alice").code, 303)

    # The edit form

    def test_ownPageHasTheEditFormOthersDoNot(self):
        cookie = self.signedIn()
        own = self.page("/alice", cookie)
        self.assertIn('<form class="edit" method="post" action="/alice">', own.text)
        self.assertIn("Signed in as", own.text)
        other = self.page("/bob", cookie)
        self.assertNotIn('class="edit"', other.text)
        anonymous = self.page("/alice", None)
        self.assertNotIn('class="edit"', anonymous.text)
        self.assertIn('href="/login"', anonymous.text)

    def test_editSetsTheStatusAndRedirectsBack(self):
        cookie = self.signedIn()
        csrf = csrfOf(self.page("/alice", cookie).text)
        response = self.edit("/alice", "Gone fishing\r\nback at 5", cookie, csrf)
        self.assertEqual((response.code, response.header("location")), (303, "/alice"))
        self.assertEqual(self.status("alice"), "Gone fishing\nback at 5")
        frontend, _, query, outcome = self.client.queryLog.records[-1]
        self.assertEqual((frontend, query, outcome), ("web", "POST /alice", "303 set"))
        self.assertEqual(self.client.queryLog.writers[-1], ("alice", "alice"))
        self.assertNothingSecretLogged(cookie.split("=", 1)[1], csrf)

    def test_missingForeignOrStaleCSRFTokenIsRefused(self):
        cookie = self.signedIn()
        bobs = csrfOf(self.page("/bob", self.signedIn("bob")).text)
        mine = csrfOf(self.page("/alice", cookie).text)
        for token in [None, "", bobs, mine[:-2]]:
            response = self.edit("/alice", "forged", cookie, token)
            self.assertEqual(response.code, 403, token)
            self.assertIn("This form is out of date or did not come from this site", response.text)
        # Stale: the token of a session that has ended.
        self.assertEqual(self.client.request(
            "POST", "/logout", {"csrf": mine}, cookie=cookie, secure=True, peer=REMOTE,
        ).code, 303)
        fresh = self.signedIn()
        self.assertEqual(self.edit("/alice", "forged", fresh, mine).code, 403)
        self.assertEqual(self.status("alice"), "Happy")

    def test_notSignedInIsRefused(self):
        response = self.edit("/alice", "forged", None, "anything")
        self.assertEqual(response.code, 403)
        self.assertIn("Sign in to change a status", response.text)
        self.assertEqual(self.status("alice"), "Happy")

    def test_onlyOwnStatusUnlessAdmin(self):
        cookie = self.signedIn("alice")
        csrf = csrfOf(self.page("/alice", cookie).text)
        refused = self.edit("/bob", "hijacked", cookie, csrf)
        self.assertEqual(refused.code, 403)
        self.assertIn("You may change only your own status.", refused.text)
        self.assertEqual(self.status("bob"), "Busy")
        admin = self.signedIn("root")
        page = self.page("/bob", admin)
        self.assertIn("Status of bob", page.text)
        self.assertEqual(self.edit("/bob", "Set by root", admin, csrfOf(page.text)).code, 303)
        self.assertEqual(self.status("bob"), "Set by root")

    def test_deletedAccountsSessionCannotWrite(self):
        cookie = self.signedIn("alice")
        csrf = csrfOf(self.page("/alice", cookie).text)
        self.accounts.deleteAccount("alice")
        self.assertEqual(self.edit("/alice", "ghost", cookie, csrf).code, 403)
        self.assertEqual(self.status("alice"), "Happy")

    def test_tooLongStatusIsRefused(self):
        cookie = self.signedIn()
        csrf = csrfOf(self.page("/alice", cookie).text)
        response = self.edit("/alice", "x" * (64 * 1024 + 1), cookie, csrf)
        self.assertEqual(response.code, 400)
        self.assertEqual(self.status("alice"), "Happy")

    # Signing out

    def test_logoutNeedsTheTokenAndEndsTheSession(self):
        cookie = self.signedIn()
        csrf = csrfOf(self.page("/alice", cookie).text)
        refused = self.client.request("POST", "/logout", {}, cookie=cookie, secure=True, peer=REMOTE)
        self.assertEqual(refused.code, 403)
        self.assertIn("Signed in as", self.page("/alice", cookie).text)
        done = self.client.request(
            "POST", "/logout", {"csrf": csrf}, cookie=cookie, secure=True, peer=REMOTE
        )
        self.assertEqual((done.code, done.header("location")), (303, "/"))
        self.assertIn("max-age=0", done.header("set-cookie").lower())
        self.assertNotIn("Signed in as", self.page("/alice", cookie).text)
        self.assertEqual(self.edit("/alice", "after logout", cookie, csrf).code, 403)
        self.assertEqual(len(self.sessions), 0)

    def test_sessionExpires(self):
        cookie = self.signedIn()
        self.clock.advance(3601)
        self.assertNotIn("Signed in as", self.page("/alice", cookie).text)


class NoAccountsTests(TestCase):
    def test_noSignInWithoutAccounts(self):
        client = SiteClient({"alice": "Happy"})
        page = client.request("GET", "/login")
        self.assertEqual(page.code, 404)
        self.assertIn("This service has no accounts", page.text)
        self.assertNotIn('href="/login"', client.get("/alice").text)
        refused = client.request("POST", "/alice", {"status": "x"})
        self.assertEqual(refused.code, 405)
        self.assertIn("this service has no accounts", refused.text)
        self.assertEqual(client.service._users["alice"], "Happy")
