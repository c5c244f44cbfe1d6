"""
Hostile data in the users table, end to end: statuses with C0 and C1
controls, ANSI/OSC escapes, HTML and script, XML-forbidden characters and
undecodable bytes reach no client raw, and every frontend's output stays
well-formed (HTML, JSON, XML-RPC, PB).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
import xmlrpc.client

import pytest

from tests.helpers.pb import PB_CLIENT
from tests.helpers.support import LOOPBACK0, runTwistd, serviceEnvironment

TIMEOUT = 30
# name -> raw status line (UTF-8 bytes) in the users file.
HOSTILE = {
    "ansi": b"clear\x1b[2Jscreen \x1b]0;pwned title\x07 osc end",
    "c1": b"csi\xc2\x9b31m red \xc2\x9d osc nul\x00 bell\x07 bs\x08 del\x7f end",
    "html": b"<script>alert('x')</script> & <b>\"bold\"</b>",
    "nonchar": b"a\xef\xbf\xbe b \xef\xbf\xbf c",  # U+FFFE, U+FFFF: valid UTF-8, not XML
    "plain": b"Happy and well",
}
CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert response.status == 200
        return response.read()


@pytest.fixture
def hostile(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_bytes(b"".join(name.encode() + b": " + status + b"\n" for name, status in HOSTILE.items()))
    service = startFinger(
        "--file", str(users),
        "--finger", "none", "--setter", "none",
        "--web", LOOPBACK0, "--pb", LOOPBACK0,
        expect=("web", "pb"),
    )
    service.base = f"http://127.0.0.1:{service.port('web')}"
    return service


def assertClean(text: str) -> None:
    assert not CONTROLS.search(text), repr(text)


def test_htmlPagesEscapeAndStripControls(hostile):
    for name in HOSTILE:
        page = fetch(f"{hostile.base}/{name}")
        assert b"\x1b" not in page and b"\x00" not in page and b"\x07" not in page
        assert b"\xc2\x9b" not in page and b"\xc2\x9d" not in page
        page.decode("utf-8")  # well-formed UTF-8
    page = fetch(f"{hostile.base}/html").decode("utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    listing = fetch(f"{hostile.base}/")
    assert b"<script>alert" not in listing and b"\x1b" not in listing


def test_jsonIsValidWithControlsStripped(hostile):
    for name in HOSTILE:
        document = json.loads(fetch(f"{hostile.base}/api/users/{name}"))
        assert document["name"] == name
        assertClean(document["status"])
    assert json.loads(fetch(f"{hostile.base}/api/users/ansi"))["status"] == (
        "clear[2Jscreen ]0;pwned title osc end"
    )
    assert json.loads(fetch(f"{hostile.base}/api/users/html"))["status"] == HOSTILE["html"].decode()


def test_xmlrpcResponsesParseWhateverTheStatus(hostile):
    """
    XML 1.0 cannot carry ESC, most C0 controls, U+FFFE or U+FFFF at all: one
    in a response would make it unparseable for every client.
    """
    proxy = xmlrpc.client.ServerProxy(f"{hostile.base}/RPC2")
    statuses = {name: proxy.getUser(name) for name in HOSTILE}
    for status in statuses.values():
        assertClean(status)
    assert statuses["ansi"] == "clear[2Jscreen ]0;pwned title osc end"
    assert statuses["nonchar"] == "a\ufffd b \ufffd c"
    assert statuses["html"] == HOSTILE["html"].decode()
    assert statuses["plain"] == "Happy and well"
    assert proxy.getUsers() == sorted(HOSTILE)


def test_pbStatusesCarryNoControls(hostile):
    steps = [["call", "getUser", name] for name in HOSTILE]
    done = subprocess.run(
        [sys.executable, str(PB_CLIENT), str(hostile.port("pb")), json.dumps(steps)],
        env=serviceEnvironment(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    results = dict(zip(HOSTILE, (json.loads(line) for line in done.stdout.decode().splitlines()), strict=True))
    for result in results.values():
        assertClean(result["ok"])
    assert results["c1"]["ok"] == "csi31m red  osc nul bell bs del end"
    assert "Traceback" not in hostile.log


def test_undecodableCommandLineStatusIsAClearStartupError(tmp_path):
    """
    A status given on a non-UTF-8 command line (Python carries the bad bytes
    as lone surrogates) is refused at start-up in one line, not served.
    """
    done = runTwistd(
        ["--memory", "--user", os.fsdecode(b"bad=caf\xe9 \xff end"), "--finger", LOOPBACK0],
        tmp_path,
    )
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode == 1, output
    assert "--user 'bad': not valid UTF-8" in output
    assert "Traceback" not in output


def test_nonUTF8UsersFileIsAClearStartupError(tmp_path):
    """The file backend refuses a file that is not UTF-8 as a whole: one clear line, exit 1."""
    users = tmp_path / "users"
    users.write_bytes(b"alice: caf\xe9 latin-1\n")
    done = runTwistd(["--file", str(users), "--finger", LOOPBACK0, "--setter", "none"], tmp_path)
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode == 1, output
    assert "UTF-8" in output and str(users) in output, output
    assert "Traceback" not in output
