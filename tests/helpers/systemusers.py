"""
Real system accounts for the pwd and local backend tests: created with
C{useradd}, removed with C{userdel -r}.  Needs root (CI runs as root).
"""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import time
from pathlib import Path

import pytest

# useradd exits with 10 when another useradd holds the lock on /etc/passwd.
_LOCKED = 10


def requireRoot() -> None:
    if os.geteuid() != 0:
        pytest.skip("creating system accounts needs root (CI runs as root)")


def _run(command: list[str], retries: int = 50) -> None:
    for _ in range(retries):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != _LOCKED:
            break
        time.sleep(0.1)
    if result.returncode not in (0, 12):  # userdel: 12 = could not remove the home
        raise RuntimeError(f"{command} failed ({result.returncode}): {result.stderr}")


class SystemAccount:
    """A real account with a home directory; files written are owned by it."""

    def __init__(self, fullName: str = "") -> None:
        self.name = f"fgt{os.getpid() % 100000}{secrets.token_hex(3)}"
        _run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment", fullName, self.name])
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.home = Path(entry.pw_dir)

    def write(self, filename: str, data: bytes | str, owner: int | None = None) -> Path:
        """Write a file in the home directory, owned by the account (or C{owner})."""
        path = self.home / filename
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.chown(path, self.uid if owner is None else owner, self.gid)
        return path

    def delete(self) -> None:
        _run(["userdel", "--remove", "--force", self.name])


@pytest.fixture
def makeAccount():
    """Create accounts (C{makeAccount("Full Name")}); all are deleted afterwards."""
    requireRoot()
    made: list[SystemAccount] = []

    def make(fullName: str = "") -> SystemAccount:
        account = SystemAccount(fullName)
        made.append(account)
        return account

    yield make
    for account in made:
        account.delete()
