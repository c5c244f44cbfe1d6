"""
Signing in and editing a status in a real browser: accounts made with
finger-admin (a subprocess), a real service over HTTPS (the throwaway CA
trusted by Chromium), headless Chromium through Selenium; the status set
is read back with the finger protocol.  Forged posts (a stolen cookie
without the CSRF token, a cookie replayed over plain HTTP) are sent with
urllib.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from tests.helpers.browser import startBrowser, submitAndWait, trustingHome
from tests.helpers.support import LOOPBACK0, finger, serviceEnvironment
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

PASSWORDS = {"alice": "correct horse battery", "bob": "bob's own password"}
TIMEOUT = 30


def fingerAdmin(store: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run finger-admin (the installed command's entry point) on C{store}."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from finger.accounts.admin import main; sys.exit(main())",
         "--store", store, *args],
        input=stdin, capture_output=True, text=True, env=serviceEnvironment(), timeout=120,
    )


@pytest.fixture
def signinSite(startFinger, tmp_path):
    """A store with alice and bob, served over HTTPS and plain HTTP; a browser trusting the CA."""
    store = str(tmp_path / "status.db")
    for name, password in PASSWORDS.items():
        made = fingerAdmin(store, "adduser", name, stdin=password + "\n")
        assert made.returncode == 0, made.stderr
    certificates = makeCertificates(str(tmp_path / "tls"))
    endpoint = (
        f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    )
    service = startFinger(
        "--store", store, "--finger", LOOPBACK0, "--setter", "none",
        "--https", endpoint, "--web", LOOPBACK0, expect=("finger", "https", "web"),
    )
    service.base = f"https://{HOSTNAME}:{service.port('https')}"
    service.plain = f"http://127.0.0.1:{service.port('web')}"
    service.tls = ssl.create_default_context(cafile=certificates.ca)
    browser = startBrowser(
        tmp_path / "profile", env=trustingHome(tmp_path / "home", certificates.ca)
    )
    yield service, browser
    browser.quit()


def submit(browser, selector: str) -> None:
    """Click the button C{selector} and wait for the next page (L{submitAndWait})."""
    submitAndWait(browser, selector, TIMEOUT)


def signIn(browser, base: str, name: str, password: str) -> None:
    browser.get(base + "/login")
    browser.find_element(By.NAME, "name").send_keys(name)
    browser.find_element(By.NAME, "password").send_keys(password)
    submit(browser, "form.login button")


def post(url: str, form: dict[str, str], cookie: str, context=None) -> tuple[int, str]:
    """POST a form with a Cookie header, not following redirects: (status, body)."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"Cookie": cookie}
    )
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), NoRedirect()
    )
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode()


def get(url: str, cookie: str, context=None) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
        return response.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_signInEditStatusSignOut(signinSite):
    service, browser = signinSite
    signIn(browser, service.base, "alice", PASSWORDS["alice"])
    assert browser.current_url == service.base + "/alice"
    assert "Signed in as alice" in browser.find_element(By.CSS_SELECTOR, "nav.account").text

    cookie = browser.get_cookie("__Host-finger-session")
    assert cookie is not None
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly

    status = browser.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("Gone fishing")
    submit(browser, "form.edit button")
    assert browser.current_url == service.base + "/alice"
    assert browser.find_element(By.CSS_SELECTOR, "p.status").text == "Gone fishing"
    assert "Gone fishing" in finger(service.port("finger"), "alice")
    service.waitForLog(r"web write 'POST /alice' of 'alice' by alice from 127\.0\.0\.1:\d+: 303 set")

    stolen = f"__Host-finger-session={cookie['value']}"
    # A forged post with the stolen cookie: no token, a made-up token.
    for form in [{"status": "forged"}, {"status": "forged", "csrf": "x" * 43}]:
        code, body = post(service.base + "/alice", form, stolen, service.tls)
        assert code == 403
        assert "did not come from this site" in body
    # The cookie replayed over plain HTTP names no session, under either name.
    for replayed in [stolen, f"finger-session={cookie['value']}"]:
        page = get(service.plain + "/alice", replayed)
        assert "Signed in as" not in page and 'name="csrf"' not in page
    assert "Gone fishing" in finger(service.port("finger"), "alice")

    submit(browser, "form.signout button")
    assert browser.current_url == service.base + "/"
    assert browser.find_element(By.CSS_SELECTOR, "a.signin").text == "Sign in"
    assert browser.get_cookie("__Host-finger-session") is None
    page = get(service.base + "/alice", stolen, service.tls)  # the session has ended
    assert "Signed in as" not in page

    log = service.log
    for secret in [*PASSWORDS.values(), cookie["value"]]:
        assert secret not in log


def test_wrongPasswordIsRefused(signinSite):
    service, browser = signinSite
    signIn(browser, service.base, "alice", "not the password")
    assert browser.current_url == service.base + "/login"
    message = browser.find_element(By.CSS_SELECTOR, "section.login .message").text
    assert message == "Wrong name or password."
    assert browser.get_cookie("__Host-finger-session") is None
    signIn(browser, service.base, "nobody", "not the password")
    assert browser.find_element(By.CSS_SELECTOR, "section.login .message").text == message
    service.waitForLog(r"web query 'POST /login' from 127\.0\.0\.1:\d+: 403 refused for 'alice'")
    assert "not the password" not in service.log


def test_aUserCannotEditAnothersPage(signinSite):
    service, browser = signinSite
    signIn(browser, service.base, "bob", PASSWORDS["bob"])
    browser.get(service.base + "/alice")
    assert browser.find_elements(By.CSS_SELECTOR, "form.edit") == []
    token = browser.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]")
    cookie = f"__Host-finger-session={browser.get_cookie('__Host-finger-session')['value']}"
    code, body = post(
        service.base + "/alice", {"status": "hijacked", "csrf": token.get_attribute("value")},
        cookie, service.tls,
    )
    assert code == 403 and "only your own status" in body
    assert "hijacked" not in finger(service.port("finger"), "alice")


def test_forgedLoginIsRefused(signinSite, tmp_path):
    """
    Login CSRF: another site's form signing the browser into the attacker's
    account (bob) is refused; so is urllib posting a login without the
    token of this site's form.  With the form's token and cookie it works.
    """
    service, browser = signinSite
    browser.get(service.base + "/login")  # the browser has a login cookie of its own
    attacker = tmp_path / "attacker.html"
    attacker.write_text(
        f'<form method="post" action="{service.base}/login">'
        f'<input name="name" value="bob"><input name="password" value="{PASSWORDS["bob"]}">'
        '<button type="submit">Win a prize</button></form>'
    )
    browser.get(attacker.as_uri())
    submit(browser, "button")
    assert browser.current_url == service.base + "/login"
    message = browser.find_element(By.CSS_SELECTOR, "section.login .message").text
    assert "was not sent from this site's sign-in form" in message
    assert browser.get_cookie("__Host-finger-session") is None
    service.waitForLog(r"web query 'POST /login' from 127\.0\.0\.1:\d+: 403 refused: no or wrong login token")

    form = {"name": "bob", "password": PASSWORDS["bob"]}
    code, body = post(service.base + "/login", form, "", service.tls)
    assert code == 403 and "was not sent from this site" in body
    # A client that fetches the form and sends its token and cookie back signs in.
    request = urllib.request.Request(service.base + "/login")
    with urllib.request.urlopen(request, timeout=TIMEOUT, context=service.tls) as response:
        loginCookie = response.headers["Set-Cookie"].split(";")[0]
        page = response.read().decode()
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    code, body = post(service.base + "/login", {**form, "csrf": token}, "", service.tls)
    assert code == 403  # the token alone, without the cookie
    code, body = post(service.base + "/login", {**form, "csrf": token}, loginCookie, service.tls)
    assert code == 303, body
    assert PASSWORDS["bob"] not in service.log and token not in service.log
