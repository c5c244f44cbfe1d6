"""
The whole new-user path with the real clients: an account made by
finger-admin, Chromium signs in over HTTPS and edits the status, and
Debian's own finger client (which speaks only to port 79) reads it back.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.test_web_signin import PASSWORDS, fingerAdmin, signIn, submit
from tests.helpers.browser import startBrowser, trustingHome
from tests.helpers.support import port79Lock
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates


@pytest.fixture
def signinOnPort79(startFinger, tmp_path):
    store = str(tmp_path / "status.db")
    made = fingerAdmin(store, "adduser", "alice", stdin=PASSWORDS["alice"] + "\n")
    assert made.returncode == 0, made.stderr
    certificates = makeCertificates(str(tmp_path / "tls"))
    endpoint = (
        f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    )
    browser = startBrowser(
        tmp_path / "profile", env=trustingHome(tmp_path / "home", certificates.ca)
    )
    try:
        with port79Lock():
            service = startFinger(
                "--store", store, "--finger", "tcp:79:interface=127.0.0.1", "--setter", "none",
                "--https", endpoint, expect=("finger", "https"),
            )
            service.base = f"https://{HOSTNAME}:{service.port('https')}"
            try:
                yield service, browser
            finally:
                service.stop()  # port 79 is free again before the lock is
    finally:
        browser.quit()


def debianFinger(query: str) -> str:
    assert shutil.which("finger"), "Debian's finger client is missing (tests/run.sh installs it)"
    done = subprocess.run(["finger", query], capture_output=True, timeout=30, check=True)
    return done.stdout.decode()


def test_signInEditAndReadBackWithDebianFinger(signinOnPort79):
    service, browser = signinOnPort79
    signIn(browser, service.base, "alice", PASSWORDS["alice"])
    assert browser.current_url == service.base + "/alice"
    status = browser.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("Edited in Chromium, read by finger")
    submit(browser, "form.edit button")
    assert browser.find_element(By.CSS_SELECTOR, "p.status").text == (
        "Edited in Chromium, read by finger"
    )
    assert debianFinger("alice@127.0.0.1").splitlines() == ["Edited in Chromium, read by finger"]
    service.waitForLog(r"finger query 'alice' from 127\.0\.0\.1")
