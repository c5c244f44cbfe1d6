"""
Unit tests of signing in on the web and the edit form
(finger.frontends.web.login, signin, pages): a real FingerSite over
StringTransport, the accounts core's authenticator over an in-memory account
store, and a task.Clock for the sessions and the throttle.
"""

from __future__ import annotations

import re
import urllib.parse

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from finger.accounts.gate import buildAuthenticator
from finger.accounts.hashing import PasswordHashing
from finger.accounts.memory import MemoryAccountStore
from finger.accounts.throttle import LoginThrottle
from finger.frontends.web.forwarded import TrustedProxies
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


class SignInBase(TestCase):
    """A site with accounts, sessions and a throttle on a task.Clock; helpers."""

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.accounts = MemoryAccountStore()
        hashing = quickHashing()
        for name, password in PASSWORDS.items():
            self.accounts.createAccount(name, hashing.hashNow(password), name == "root")
        self.throttle = LoginThrottle(maxFailures=3, window=600, clock=self.clock)
        self.authenticator = authenticator = buildAuthenticator(
            self.accounts, hashing, self.throttle, clock=self.clock
        )
        self.sessions = SessionStore(clock=self.clock, idle=3600, lifetime=7200)
        self.client = SiteClient(
            {"alice": "Happy", "bob": "Busy"},
            accounts=authenticator, sessions=self.sessions,
        )
        self.backend = self.client.service

    def loginForm(self, secure=True, peer=REMOTE):
        """GET /login: (the login cookie to send back, the form's token), or Nones."""
        page = self.client.request("GET", "/login", secure=secure, peer=peer)
        setCookie = page.header("set-cookie")
        if setCookie is None:
            return None, None
        return setCookie.split(";")[0], csrfOf(page.text)

    def login(self, name="alice", password=None, secure=True, peer=REMOTE, cookie=None):
        """POST /login from the form just fetched (as a browser would)."""
        password = PASSWORDS[name] if password is None else password
        loginCookie, token = self.loginForm(secure, peer)
        form = {"name": name, "password": password}
        if token is not None:
            form["csrf"] = token
        cookies = "; ".join(c for c in [cookie, loginCookie] if c is not None) or None
        return self.client.request("POST", "/login", form, cookie=cookies, secure=secure, peer=peer)

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


class SignInTests(SignInBase):
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
            self.assertNotIn("finger-session", response.header("set-cookie") or "")
            self.assertIn("Wrong name or password.", response.text)
        token = re.compile(r'name="csrf" value="[^"]+"')  # each form has its own login token
        self.assertEqual(token.sub("", wrong.text.replace("alice", "zed")), token.sub("", unknown.text))
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
            self.assertNotIn("finger-session", refused.header("set-cookie") or "")
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


class LoginCSRFTests(SignInBase):
    """Login CSRF: a sign-in must come from this site's own form (finger.frontends.web.logincsrf)."""

    def forged(self, form, cookie=None, secure=True):
        response = self.client.request(
            "POST", "/login", form, cookie=cookie, secure=secure,
            peer=REMOTE if secure else CLIENT,
        )
        self.assertEqual(response.code, 403, response.text)
        self.assertIn("was not sent from this site", response.text)
        self.assertNotIn("finger-session", response.header("set-cookie") or "")
        # A fresh form comes with the refusal, so the user can sign in from it.
        self.assertIsNotNone(csrfOf(response.text))
        return response

    def test_formCarriesTokenAndCookie(self):
        for secure, peer, name in [(True, REMOTE, "__Host-finger-login"), (False, CLIENT, "finger-login")]:
            cookie, token = self.loginForm(secure, peer)
            self.assertEqual(cookie, f"{name}={token}")
            self.assertEqual(len(token), 43)
        page = self.client.request("GET", "/login", secure=True, peer=REMOTE)
        attributes = {a.strip().lower() for a in page.header("set-cookie").split(";")[1:]}
        self.assertEqual(
            attributes, {"path=/", "max-age=3600", "secure", "httponly", "samesite=strict"}
        )
        self.assertEqual(page.header("cache-control"), "no-store")

    def test_forgedLoginsAreRefusedUnchecked(self):
        good = {"name": "alice", "password": PASSWORDS["alice"]}
        cookie, token = self.loginForm()
        other, otherToken = self.loginForm()
        self.assertNotEqual(token, otherToken)
        self.forged(good)  # no token, no cookie: another site's form
        self.forged({**good, "csrf": token})  # the field without the cookie
        self.forged(good, cookie=cookie)  # the cookie without the field
        self.forged({**good, "csrf": otherToken}, cookie=cookie)  # a token not this browser's
        self.forged({**good, "csrf": ""}, cookie=cookie)
        plainCookie, plainToken = self.loginForm(secure=False, peer=CLIENT)
        # A plain-HTTP login cookie does not count over HTTPS.
        self.forged({**good, "csrf": plainToken}, cookie=plainCookie)
        # None of these was checked: not a failure for the throttle.
        for _ in range(5):
            self.forged({"name": "alice", "password": "wrong"})
        self.assertEqual(self.login().code, 303)
        self.assertNothingSecretLogged(token)

    def test_successClearsTheLoginCookie(self):
        cookie, token = self.loginForm()
        body = urllib.parse.urlencode(
            {"name": "alice", "password": PASSWORDS["alice"], "csrf": token}
        ).encode("ascii")
        channel, transport = self.client.connect(secure=True, peer=REMOTE)
        channel.dataReceived(
            (
                "POST /login HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nConnection: close\r\n"
                f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode("ascii") + body
        )
        head = transport.value().split(b"\r\n\r\n")[0].decode()
        self.assertIn("303", head.splitlines()[0])
        self.assertIn("Set-Cookie: __Host-finger-login=; Path=/; Max-Age=0", head)
        self.assertIn("Set-Cookie: __Host-finger-session=", head)


class BehindTrustedProxyTests(SignInBase):
    """
    Behind --trusted-proxy, the HTTPS-or-loopback rule, the cookies' Secure
    flag and the throttle use the client's scheme and address as the proxy
    gives them, not the proxy's own (loopback, plain HTTP) connection.
    """

    PROXY = CLIENT  # 127.0.0.1: the proxy is on this host

    def setUp(self):
        super().setUp()
        self.client = SiteClient(
            {"alice": "Happy"}, accounts=self.authenticator, sessions=self.sessions, trustedProxies=TrustedProxies(["127.0.0.1"]),
        )

    def via(self, method, path, scheme, client="203.0.113.9", form=None, cookie=None):
        headers = {"X-Forwarded-For": client, "X-Forwarded-Proto": scheme}
        return self.client.request(
            method, path, form, cookie=cookie, secure=False, peer=self.PROXY, headers=headers
        )

    def test_plainHTTPClientBehindTheProxyMayNotSendAPassword(self):
        page = self.via("GET", "/login", "http")
        self.assertNotIn('name="password"', page.text)
        self.assertIn("Passwords are taken only over HTTPS", page.text)
        form = {"name": "alice", "password": PASSWORDS["alice"]}
        refused = self.via("POST", "/login", "http", form=form)
        self.assertEqual(refused.code, 403)
        self.assertIn("Passwords are taken only over HTTPS", refused.text)

    def test_httpsClientBehindTheProxyGetsSecureCookies(self):
        page = self.via("GET", "/login", "https")
        self.assertIn('name="password"', page.text)
        loginCookie = page.header("set-cookie")
        self.assertTrue(loginCookie.startswith("__Host-finger-login="), loginCookie)
        self.assertIn("Secure", loginCookie)
        form = {"name": "alice", "password": PASSWORDS["alice"], "csrf": csrfOf(page.text)}
        response = self.via("POST", "/login", "https", form=form, cookie=loginCookie.split(";")[0])
        self.assertEqual(response.code, 303, response.text)
        session = response.header("set-cookie")
        self.assertTrue(session.startswith("__Host-finger-session="), session)
        self.assertIn("Secure", session)

    def test_throttleCountsTheClientNotTheProxy(self):
        for _ in range(3):
            page = self.via("GET", "/login", "https", client="203.0.113.9")
            form = {"name": "zed", "password": "wrong", "csrf": csrfOf(page.text)}
            cookie = page.header("set-cookie").split(";")[0]
            self.assertEqual(self.via("POST", "/login", "https", "203.0.113.9", form, cookie).code, 403)
        page = self.via("GET", "/login", "https", client="203.0.113.10")
        form = {"name": "alice", "password": PASSWORDS["alice"], "csrf": csrfOf(page.text)}
        cookie = page.header("set-cookie").split(";")[0]
        self.assertEqual(self.via("POST", "/login", "https", "203.0.113.10", form, cookie).code, 303)
