"""Debian's own finger client (netkit) against a real twistd process on port 79."""

import shutil
import subprocess

import pytest

from tests.helpers.support import REPO, port79Lock


@pytest.fixture
def servedOnPort79(startFinger, tmp_path):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)
    with port79Lock():
        yield startFinger("--file", str(users), "--finger", "tcp:79:interface=127.0.0.1")


def runFinger(*args: str) -> str:
    assert shutil.which("finger"), "Debian's finger client is missing (tests/run.sh installs it)"
    result = subprocess.run(["finger", *args], capture_output=True, timeout=30, check=True)
    return result.stdout.decode()


def test_fingerUserAtHost(servedOnPort79):
    assert runFinger("alice@127.0.0.1").splitlines() == ["Happy and well"]


def test_fingerLongFormUnknownUserAndList(servedOnPort79):
    assert runFinger("-l", "bob@127.0.0.1").splitlines() == ["Feeling sad: lost his keys"]
    assert runFinger("zed@127.0.0.1").splitlines() == ["No such user: zed"]
    assert runFinger("@127.0.0.1").splitlines() == [
        "alice: Happy and well",
        "bob: Feeling sad: lost his keys",
        "carol: At the conference until Friday",
    ]
    servedOnPort79.waitForLog(r"finger query '/W bob' from 127\.0\.0\.1")
