"""
End to end: the manhole of a real C{twistd -n finger}, spoken to by
OpenSSH's C{ssh} with throwaway keys (C{ssh-keygen}) and a known_hosts file
written from the service's host key, so that the host key check is real.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.support import LOOPBACK0, runTwistd

pytestmark = pytest.mark.skipif(
    not (shutil.which("ssh") and shutil.which("ssh-keygen")), reason="needs openssh-client"
)

ALIAS = "finger-manhole"
TIMEOUT = 30


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True, stdin=subprocess.DEVNULL,
    )
    return path


class Manhole:
    """Keys, files and a running service with a manhole."""

    def __init__(self, startFinger, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.startFinger = startFinger
        self.key = keygen(tmp_path / "admin")
        self.strangerKey = keygen(tmp_path / "stranger")
        self.authorized = tmp_path / "manhole_keys"
        self.authorized.write_text(
            "# the administrators\n\n" + (tmp_path / "admin.pub").read_text()
        )
        self.hostKey = tmp_path / "host_key"
        self.knownHosts = tmp_path / "known_hosts"
        self.start()

    def start(self) -> None:
        self.service = self.startFinger(
            "--memory", "--user", "alice=Happy and well", "--finger", "none", "--setter", "none",
            "--manhole", LOOPBACK0, "--manhole-keys", str(self.authorized),
            "--manhole-host-key", str(self.hostKey), expect=("manhole",),
        )
        self.port = self.service.port("manhole")

    def ssh(self, key: Path, *options: str) -> list[str]:
        return [
            "ssh", "-F", "/dev/null", "-p", str(self.port), "-i", str(key),
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", f"HostKeyAlias={ALIAS}", "-o", f"UserKnownHostsFile={self.knownHosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=20",
            *options, "127.0.0.1",
        ]

    def trustHostKey(self) -> str:
        """Write known_hosts from the host key file; return the public key line."""
        public = subprocess.run(
            ["ssh-keygen", "-y", "-f", str(self.hostKey)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        self.knownHosts.write_text(f"{ALIAS} {public}\n")
        return public


def console(command: list[str], line: str, expect: str) -> str:
    """Log in with C{ssh -tt}, type C{line}, wait for C{expect}, leave with ^D."""
    process = subprocess.Popen(
        [*command[:-1], "-tt", "-o", "BatchMode=yes", command[-1]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    output = bytearray()

    def read() -> None:
        for chunk in iter(lambda: process.stdout.read1(4096), b""):
            output.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        def waitFor(text: bytes) -> None:
            deadline = time.monotonic() + TIMEOUT
            while text not in output:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"no {text!r} in {bytes(output)!r}")
                time.sleep(0.05)

        waitFor(b">>> ")
        process.stdin.write(line.encode() + b"\r")
        process.stdin.flush()
        waitFor(expect.encode())
        process.stdin.write(b"\x04")
        process.stdin.flush()
        process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)
    return output.decode("utf-8", "replace")


@pytest.fixture
def manhole(startFinger, tmp_path):
    return Manhole(startFinger, tmp_path)


def test_consoleEvaluatesAgainstTheBackend(manhole):
    manhole.trustHostKey()
    assert stat.S_IMODE(os.stat(manhole.hostKey).st_mode) == 0o600
    output = console(manhole.ssh(manhole.key), 'service.getUser("alice")', "Happy and well")
    assert "current result: 'Happy and well'" in output
    output = console(
        manhole.ssh(manhole.key), "sorted({type(s).__name__ for s in top})", "ListeningService"
    )
    assert "MemoryFingerService" in output


def test_unknownKeyIsRefused(manhole):
    manhole.trustHostKey()
    result = subprocess.run(
        [*manhole.ssh(manhole.strangerKey, "-o", "BatchMode=yes"), "true"],
        capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_passwordsAreNeverOffered(manhole, tmp_path):
    manhole.trustHostKey()
    asked = tmp_path / "asked"
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\ntouch {asked}\necho hunter2\n")
    askpass.chmod(0o700)
    env = dict(os.environ, SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    result = subprocess.run(
        [*manhole.ssh(
            manhole.key, "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1",
            "-o", "PreferredAuthentications=password,keyboard-interactive",
            "-o", "PubkeyAuthentication=no",
        ), "true"],
        capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, env=env,
    )
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr
    assert not asked.exists()  # the server never offered a password prompt


def test_hostKeyIsKeptAcrossRestarts(manhole):
    public = manhole.trustHostKey()
    first = manhole.hostKey.read_bytes()
    manhole.service.stop()
    manhole.start()
    assert manhole.hostKey.read_bytes() == first
    scanned = subprocess.run(
        ["ssh-keyscan", "-t", "ed25519", "-p", str(manhole.port), "127.0.0.1"],
        capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout.split()
    assert " ".join(scanned[1:3]) == public
    # ... and ssh, checking it strictly against known_hosts, logs in.
    console(manhole.ssh(manhole.key), 'service.getUser("alice")', "Happy and well")


def test_manholeKeysAreRequired(tmp_path):
    result = runTwistd(["--memory", "--finger", "none", "--setter", "none",
                        "--manhole", LOOPBACK0], cwd=tmp_path)
    assert result.returncode == 1
    output = (result.stdout + result.stderr).decode()
    assert "--manhole needs --manhole-keys FILE" in output
    assert "Traceback" not in output
    assert not (tmp_path / "manhole_host_key").exists()
