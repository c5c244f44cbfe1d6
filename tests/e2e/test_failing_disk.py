"""
End to end: the SQLite store on a disk that fills up or fails.

A real twistd keeps its --store on (1) a 1 MiB tmpfs the test mounts (root
only) and fills, and (2) a directory where every write and fsync fails with
EIO while a switch file exists (an LD_PRELOAD shim, tests/helpers/failingio.c:
device-mapper's "error" target needs /dev/mapper, which these containers
lack, and a loop device cannot be made to fail on demand).  A write that
fails answers ERROR; the statuses acknowledged before stay; reads keep
working; once there is room again (the switch removed) writes succeed
without a restart.  The same holds for every frontend that writes (the JSON
API, XML-RPC, SOAP, PB, the web edit form), and logging in (a password, a
token) keeps working while the disk refuses to record its last use.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.accountcli import adminOutput
from tests.helpers.browser import startBrowser, submitAndWait
from tests.helpers.failingio import buildShim, shimEnvironment
from tests.helpers.pb import WRITE_REFUSED, pbClient
from tests.helpers.support import LOOPBACK0, finger, serviceEnvironment, setStatus

TIMEOUT = 30


def startStore(startFinger, path, **kwargs):
    return startFinger(
        "--store", str(path), "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=("finger", "setter"), **kwargs,
    )


def checkFailingAndRecovering(service, breakDisk, repairDisk) -> None:
    assert setStatus(service.port("setter"), "alice", "before the fault") == "OK\r\n"
    breakDisk()
    answer = setStatus(service.port("setter"), "bob", "x" * 1000)
    assert answer.startswith("ERROR could not store the status: "), answer
    again = setStatus(service.port("setter"), "alice", "lost")
    assert again.startswith("ERROR "), again
    # Reads keep working, and the acknowledged status is still there.
    assert finger(service.port(), "alice") == "before the fault\r\n"
    assert "alice: before the fault" in finger(service.port(), "")
    repairDisk()
    assert setStatus(service.port("setter"), "bob", "after the fault") == "OK\r\n"
    assert finger(service.port(), "bob") == "after the fault\r\n"
    assert finger(service.port(), "alice") == "before the fault\r\n"
    assert "Traceback" not in service.log


@pytest.fixture
def smallDisk(tmp_path):
    mountPoint = tmp_path / "disk"
    mountPoint.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountPoint)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mountPoint
    subprocess.run(["umount", "-l", str(mountPoint)], check=False)


def fillAndFree(disk: Path):
    """The (break, repair) pair for C{disk}: fill it with one file, then remove it."""
    filler = disk / "filler"

    def fill() -> None:
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    return fill, filler.unlink


def failingDisk(tmp_path: Path, calls: str | None = None) -> tuple[Path, dict[str, str], Path]:
    """
    A directory whose writes fail (with C{calls}: only those calls) while the
    switch file exists: the directory, the service's environment, the switch.
    """
    shim = buildShim(tmp_path)
    if shim is None:
        pytest.skip("no C compiler to build the failing-disk shim")
    disk = tmp_path / "disk"
    disk.mkdir()
    switch = tmp_path / "fail-now"
    extra = {"FAILING_IO_CALLS": calls} if calls else {}
    return disk, serviceEnvironment(**shimEnvironment(shim, switch, disk), **extra), switch


def test_fullDisk(startFinger, smallDisk):
    service = startStore(startFinger, smallDisk / "statuses.db")
    checkFailingAndRecovering(service, *fillAndFree(smallDisk))
    service.waitForLog(r"Could not store the status of 'bob' .*(full|disk)")


def test_failingDisk(startFinger, tmp_path):
    disk, env, switch = failingDisk(tmp_path)
    service = startStore(startFinger, disk / "statuses.db", env=env)
    checkFailingAndRecovering(service, switch.touch, switch.unlink)
    service.waitForLog(r"Could not store the status of 'bob' .*disk I/O error")


def test_failingFsync(startFinger, tmp_path):
    """Only fsync fails (the data reached the page cache, not the disk)."""
    disk, env, switch = failingDisk(tmp_path, "fsync,fdatasync")
    service = startStore(startFinger, disk / "statuses.db", env=env)
    checkFailingAndRecovering(service, switch.touch, switch.unlink)


# Every frontend that writes, on each kind of fault (issue 18).  Each account
# writes its own status through one frontend: alice the JSON API (a Bearer
# token), bob XML-RPC (a token over Basic), carol SOAP (zeep, a password
# over Basic), dave PB (login with a password), erin the web edit form
# (headless Chromium, signed in with a password), and frank the setter.
# The logins happen while the disk fails, so a token or password check that
# cannot record its last use must still let the account in.

ACCOUNTS = {
    "alice": "alice's long secret", "bob": "bob's long secret", "carol": "carol's long secret",
    "dave": "dave's long secret", "erin": "erin's long secret",
}


def fingerAdmin(store: Path, *args: str, stdin: str = "") -> str:
    """The real finger-admin, as its own process (without the shim)."""
    return adminOutput(store, *args, stdin=stdin, timeout=120)




class Writers:
    """One write through each frontend, each answered as (stored, what the client saw)."""

    def __init__(self, service, tokens: dict[str, str], browser) -> None:
        self.service = service
        self.tokens = tokens
        self.browser = browser
        self.web = f"http://127.0.0.1:{service.port('web')}"

    def api(self, status: str | None) -> tuple[bool, str]:
        method = "PUT" if status is not None else "DELETE"
        request = urllib.request.Request(
            f"{self.web}/api/users/alice/status", method=method,
            data=json.dumps({"status": status}).encode() if status is not None else None,
            headers={"Authorization": f"Bearer {self.tokens['alice']}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return True, response.read().decode()
        except urllib.error.HTTPError as e:
            with e:
                body = e.read().decode()
            assert e.code == 503, (e.code, body)
            assert e.headers["Content-Type"] == "application/json", e.headers
            return False, json.loads(body)["error"]

    def xmlrpc(self, status: str) -> tuple[bool, str]:
        proxy = xmlrpc.client.ServerProxy(f"http://bob:{self.tokens['bob']}@127.0.0.1:{self.service.port('web')}/RPC2")
        try:
            assert proxy.setUser("bob", status) is True
        except xmlrpc.client.Fault as fault:
            assert fault.faultCode == 9, fault  # FAULT_NOT_STORED
            return False, fault.faultString
        return True, "set"

    def soap(self, status: str) -> tuple[bool, str]:
        zeep = pytest.importorskip("zeep")
        requests = pytest.importorskip("requests")
        session = requests.Session()
        session.auth = ("carol", ACCOUNTS["carol"])
        transport = zeep.transports.Transport(session=session, timeout=TIMEOUT)
        client = zeep.Client(f"{self.web}/soap?wsdl", transport=transport)
        try:
            result = client.service.setStatus(name="carol", status=status)
        except zeep.exceptions.Fault as fault:
            assert fault.code.endswith("Server"), fault.code
            return False, fault.message
        assert (result.name, result.status) == ("carol", status)
        return True, "set"

    def pb(self, status: str) -> tuple[bool, str]:
        login, answer = pbClient(
            self.service.port("pb"),
            ["login", "dave", ACCOUNTS["dave"]],
            ["account", "setStatus", status],
        )
        assert login == {"ok": "logged in"}, login
        if "ok" in answer:
            assert answer["ok"]["status"] == status, answer
            return True, "set"
        assert answer["remote"] == WRITE_REFUSED, answer
        return False, answer["message"]

    def webForm(self, status: str) -> tuple[bool, str]:
        browser = self.browser
        browser.delete_all_cookies()
        browser.get(self.web + "/login")
        WebDriverWait(browser, TIMEOUT).until(
            expected_conditions.presence_of_element_located((By.NAME, "password"))
        )
        browser.find_element(By.NAME, "name").send_keys("erin")
        browser.find_element(By.NAME, "password").send_keys(ACCOUNTS["erin"])
        submitAndWait(browser, "form.login button", TIMEOUT)
        assert browser.current_url == self.web + "/erin"  # signed in, whatever the disk
        field = browser.find_element(By.NAME, "status")
        field.clear()
        field.send_keys(status)
        submitAndWait(browser, "form.edit button", TIMEOUT)
        if browser.current_url == self.web + "/erin" and browser.find_elements(By.CSS_SELECTOR, "p.status"):
            assert browser.find_element(By.CSS_SELECTOR, "p.status").text == status
            return True, "set"
        page = browser.find_element(By.TAG_NAME, "body").text
        assert "Internal error" not in page and "Traceback" not in page, page
        assert browser.find_element(By.CSS_SELECTOR, "section.error h1").text == "Not saved"
        return False, browser.find_element(By.CSS_SELECTOR, "section.error p.message").text

    def setter(self, status: str) -> tuple[bool, str]:
        answer = setStatus(self.service.port("setter"), "frank", status)
        return answer == "OK\r\n", answer

    def all(self) -> dict[str, object]:
        return {
            "alice": self.api, "bob": self.xmlrpc, "carol": self.soap, "dave": self.pb,
            "erin": self.webForm, "frank": self.setter,
        }


def readStatus(service, name: str) -> str:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{service.port('web')}/api/users/{name}", timeout=TIMEOUT
    ) as response:
        return json.loads(response.read())["status"]


def checkEveryFrontend(service, tokens, browser, breakDisk, repairDisk) -> None:
    writers = Writers(service, tokens, browser)
    for name, write in writers.all().items():
        stored, message = write(f"{name} before the fault")
        assert stored, (name, message)
    breakDisk()
    for name, write in writers.all().items():
        stored, message = write(f"{name} during the fault " + "x" * 900)
        assert not stored, (name, message)
        assert "could not store the status: " in message, (name, message)
        assert "Traceback" not in message
    stored, message = writers.api(None)  # a DELETE that cannot be stored
    assert not stored and "could not store the status: " in message, message
    # Nothing acknowledged was lost, and every read still works.
    listing = finger(service.port(), "")
    for name in writers.all():
        assert finger(service.port(), name) == f"{name} before the fault\r\n"
        assert readStatus(service, name) == f"{name} before the fault"
        assert f"{name}: {name} before the fault" in listing
    repairDisk()
    for name, write in writers.all().items():
        stored, message = write(f"{name} after the fault")
        assert stored, (name, message)
        assert finger(service.port(), name) == f"{name} after the fault\r\n"
    service.waitForLog(r"web write 'POST /erin' of 'erin' by erin .*: 503 not stored")
    service.waitForLog(r"api write 'PUT /api/users/alice/status' of 'alice' by alice .*: 503 not stored")
    log = service.log
    assert "Traceback" not in log, log
    for secret in [*ACCOUNTS.values(), *tokens.values()]:
        assert secret not in log


@pytest.fixture
def everyFrontend(startFinger, tmp_path):
    """Start the service on C{store} with every writing frontend (accounts made first)."""
    browsers = []

    def start(store: Path, env: dict[str, str] | None = None):
        for name, password in ACCOUNTS.items():
            fingerAdmin(store, "adduser", name, stdin=password + "\n")
        tokens = {name: fingerAdmin(store, "token", name) for name in ("alice", "bob")}
        service = startFinger(
            "--store", str(store), "--finger", LOOPBACK0, "--setter", LOOPBACK0,
            "--web", LOOPBACK0, "--pb", LOOPBACK0,
            expect=("finger", "setter", "web", "pb"), env=env,
        )
        browsers.append(startBrowser(tmp_path / "chromium-profile"))
        return service, tokens, browsers[-1]

    yield start
    for browser in browsers:
        browser.quit()


def test_everyFrontendOnAFullDisk(everyFrontend, smallDisk):
    service, tokens, browser = everyFrontend(smallDisk / "statuses.db")
    checkEveryFrontend(service, tokens, browser, *fillAndFree(smallDisk))


@pytest.mark.parametrize("calls", [None, "fsync,fdatasync"], ids=["write", "fsync"])
def test_everyFrontendOnAFailingDisk(everyFrontend, tmp_path, calls):
    disk, env, switch = failingDisk(tmp_path, calls)
    service, tokens, browser = everyFrontend(disk / "statuses.db", env=env)
    checkEveryFrontend(service, tokens, browser, switch.touch, switch.unlink)
