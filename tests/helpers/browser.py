"""
Debian's headless Chromium, driven through Debian's chromedriver by
Selenium: started with its own profile (and, for HTTPS, a HOME whose NSS
database trusts the tests' throwaway CA), and a way to submit a form and
wait for the next page.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

PAGE_TIMEOUT = 30

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def trustingHome(directory: Path, ca: str) -> dict[str, str]:
    """An environment whose HOME has an NSS database trusting C{ca} for servers."""
    nssdb = directory / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    database = f"sql:{nssdb}"
    subprocess.run(["certutil", "-N", "-d", database, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", database, "-n", "finger tests CA", "-t", "C,,", "-i", ca],
        check=True,
    )
    return {**os.environ, "HOME": str(directory)}


def startBrowser(profile, phone: bool = False, env: dict[str, str] | None = None) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if phone:
        metrics = {"width": 360, "height": 740, "pixelRatio": 2}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    else:
        options.add_argument("--window-size=1280,900")
    service = Service(executable_path=CHROMEDRIVER, env=env)
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(60)
    return browser


def submitAndWait(browser: webdriver.Chrome, selector: str, timeout: float = PAGE_TIMEOUT) -> None:
    """
    Click the button C{selector} and wait until the next page has replaced
    this one and finished loading.  While the page is swapped, Chromium may
    answer "Node with given id does not belong to the document" (a
    WebDriverException, not a stale element): that too means the old page
    is going, so it is waited through.
    """
    button = browser.find_element(By.CSS_SELECTOR, selector)
    button.click()
    wait = WebDriverWait(browser, timeout, ignored_exceptions=[WebDriverException])
    wait.until(expected_conditions.staleness_of(button))
    wait.until(lambda b: b.execute_script("return document.readyState") == "complete")
