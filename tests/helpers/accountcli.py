"""The account tools as the end-to-end tests run them: finger-admin (a subprocess) and curl."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.support import serviceEnvironment

TIMEOUT = 30
ADMIN = [sys.executable, "-m", "finger.accounts.admin"]


def admin(
    store: Path, *args: str, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run finger-admin (as a separate process) on C{store}."""
    return subprocess.run(
        [*ADMIN, "--store", str(store), *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, env=serviceEnvironment(),
    )


def adminOutput(store: Path, *args: str, stdin: str = "", timeout: float = 60) -> str:
    """Run finger-admin on C{store}, which must succeed; what it printed, stripped."""
    done = admin(store, *args, stdin=stdin, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def curl(url: str, *extra: str, cafile: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """curl C{url}; the status code, the headers (lower-case names) and the body."""
    tls = ["--cacert", cafile] if cafile else []
    result = subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", str(TIMEOUT), *tls,
         "--dump-header", "/dev/stderr", "--write-out", "\n%{http_code}", *extra, url],
        capture_output=True, timeout=TIMEOUT + 5,
    )
    assert result.returncode == 0, result.stderr.decode()
    body, _, code = result.stdout.rpartition(b"\n")
    headers = {}
    for line in result.stderr.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon and not name.startswith("HTTP/"):
            headers[name.strip().lower()] = value.strip()
    return int(code), headers, body
