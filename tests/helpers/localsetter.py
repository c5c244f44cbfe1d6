"""
Test support for the local setter: a directory every account can reach, and
clients run as a real account (C{setpriv}, as a login would switch).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.helpers.support import REPO, serviceEnvironment
from tests.helpers.systemusers import SystemAccount


def asAccount(account: SystemAccount | None, command: Sequence[str]) -> list[str]:
    """C{command} run as C{account} (its uid, gid and no other group); as root if C{None}."""
    if account is None:
        return list(command)
    return [
        "setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", "--clear-groups",
        "--", *command,
    ]


def run(
    account: SystemAccount | None,
    command: Sequence[str],
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run C{command} as C{account}; its output as text."""
    return subprocess.run(
        asAccount(account, command),
        input=stdin,
        capture_output=True,
        timeout=30,
        env=env or serviceEnvironment(),
        cwd="/",
    )


def rawSet(account: SystemAccount | None, path: Path, name: str, status: str) -> str:
    """The classic two lines over the UNIX socket with OpenBSD netcat, as C{account}."""
    result = run(account, ["nc", "-N", "-U", str(path)], f"{name}\r\n{status}\r\n".encode())
    return result.stdout.decode("utf-8", "replace")


def fingerSet(
    account: SystemAccount | None, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The C{finger-set} command (this checkout's), as C{account}."""
    import sys

    command = [sys.executable, "-c", "from finger.setclient import run; run()", *args]
    return run(account, command, stdin, env)


@pytest.fixture
def sharedDirectory() -> Iterator[Path]:
    """A fresh directory (mode 0755) that every account can reach."""
    path = Path(tempfile.mkdtemp(prefix="finger-setter-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


__all__ = ["REPO", "asAccount", "fingerSet", "rawSet", "run", "sharedDirectory"]
