"""
A real browser against a real service: Debian's headless Chromium, driven
through Debian's chromedriver by Selenium, over HTTP and over HTTPS with the
tests' throwaway CA trusted (added to the NSS database Chromium reads, in a
HOME of its own), so certificates and host names are really verified.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from twisted.web import http

from tests.helpers.browser import startBrowser, trustingHome
from tests.helpers.support import LOOPBACK0
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

# The script would change the title and leave a mark, if it ever ran.
ATTACK = "<script>document.title='pwned'; window.pwned = 1;</script>"


@pytest.fixture
def browser(tmp_path):
    browser = startBrowser(tmp_path / "chromium-profile")
    yield browser
    browser.quit()


@pytest.fixture
def site(startFinger):
    service = startFinger(
        "--memory",
        "--user",
        "alice=Happy and well",
        "--user",
        f"mallory={ATTACK}",
        "--user",
        "bob=Out to lunch",
        "--user",
        "walter=" + "unbroken" * 20,
        "--finger",
        "none",
        "--setter",
        "none",
        "--web",
        LOOPBACK0,
        expect=("web",),
    )
    return f"http://127.0.0.1:{service.port('web')}"


def statusText(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, "p.status").text


def test_browseFromTheListToAUser(browser, site):
    browser.get(site + "/")
    assert browser.title == "Everyone · finger"
    names = [link.text for link in browser.find_elements(By.CSS_SELECTOR, "a.name")]
    assert names == ["alice", "bob", "mallory", "walter"]
    browser.find_element(By.LINK_TEXT, "alice").click()
    assert browser.current_url == site + "/alice"
    assert browser.find_element(By.TAG_NAME, "h1").text == "alice"
    assert statusText(browser) == "Happy and well"
    # The stylesheet from /static/ applied (it sets the list as a card, the page width).
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"


def test_scriptInAStatusIsShownAsTextAndNeverRuns(browser, site):
    browser.get(site + "/")
    browser.find_element(By.LINK_TEXT, "mallory").click()
    assert statusText(browser) == ATTACK
    assert browser.title == "mallory · finger"
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "main script") == []
    browser.get(site + "/")
    assert ATTACK in [status.text for status in browser.find_elements(By.CSS_SELECTOR, "p.status")]
    assert browser.execute_script("return window.pwned === undefined")


def test_phoneWidthHasNoSidewaysScrolling(tmp_path, site):
    phone = startBrowser(tmp_path / "phone-profile", phone=True)
    try:
        for path in ["/", "/walter", "/nobody"]:
            phone.get(site + path)
            assert phone.execute_script("return document.documentElement.clientWidth") <= 400
            overflow = phone.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow == 0, path
    finally:
        phone.quit()


# HTTPS


@pytest.fixture
def secureSite(startFinger, tmp_path):
    """The service on HTTPS, and a browser trusting the CA that signed its certificate."""
    certificates = makeCertificates(str(tmp_path / "tls"))
    endpoint = (
        f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    )
    service = startFinger(
        "--memory", "--user", "alice=Happy and well", "--user", "bob=Out to lunch",
        "--finger", "none", "--setter", "none", "--https", endpoint, expect=("https",),
    )
    home = tmp_path / "home"
    browser = startBrowser(tmp_path / "tls-profile", env=trustingHome(home, certificates.ca))
    yield browser, service.port("https")
    browser.quit()


def test_browserOverHTTPSReadsAStatus(secureSite):
    """
    Chromium offers h2 and http/1.1 in ALPN (issue 19: such handshakes were
    aborted); it gets h2 when Twisted speaks HTTP/2, else HTTP/1.1.
    """
    browser, port = secureSite
    site = f"https://{HOSTNAME}:{port}"
    browser.get(site + "/")
    browser.find_element(By.LINK_TEXT, "alice").click()
    assert browser.current_url == site + "/alice"
    assert statusText(browser) == "Happy and well"
    protocol = browser.execute_script(
        "return performance.getEntriesByType('navigation')[0].nextHopProtocol"
    )
    assert protocol == ("h2" if http.H2_ENABLED else "http/1.1")
    assert browser.execute_script("return window.isSecureContext")
    # The stylesheet came over HTTPS too (Content-Security-Policy: 'self').
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"


def test_browserVerifiesTheHostName(secureSite):
    """The same trusted CA, a name the certificate is not for: Chromium refuses."""
    browser, port = secureSite
    browser.get(f"https://127.0.0.1:{port}/alice")
    assert browser.find_elements(By.CSS_SELECTOR, "p.status") == []
    assert "Happy and well" not in browser.page_source


def test_pagesUpdateInPlaceWhenAStatusIsSet(tmp_path, browser, startFinger):
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.helpers.support import setStatus

    service = startFinger(
        "--memory", "--user", "alice=Happy and well", "--user", "bob=Out to lunch",
        "--finger", "none", "--setter", LOOPBACK0, "--web", LOOPBACK0,
        expect=("web", "setter"),
    )
    site = f"http://127.0.0.1:{service.port('web')}"
    second = startBrowser(tmp_path / "second-profile")
    try:
        browser.get(site + "/alice")
        second.get(site + "/")
        for page in (browser, second):  # each page's event stream is open
            WebDriverWait(page, 10).until(
                lambda b: b.execute_script("return document.documentElement.dataset.live") == "open"
            )
        browser.execute_script("window.notReloaded = true")
        status = "<b>Gone</b> fishing"  # shown as text, never as HTML
        assert setStatus(service.port("setter"), "alice", status) == "OK\r\n"
        WebDriverWait(browser, 2).until(lambda b: statusText(b) == status)
        WebDriverWait(second, 2).until(
            lambda b: b.find_element(By.CSS_SELECTOR, 'li[data-user="alice"] p.status').text == status
        )
        assert browser.execute_script("return window.notReloaded") is True
        assert browser.find_elements(By.CSS_SELECTOR, "p.status b") == []
        assert second.find_element(By.CSS_SELECTOR, 'li[data-user="bob"] p.status').text == "Out to lunch"
    finally:
        second.quit()
