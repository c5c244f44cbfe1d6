"""
Faults end to end: the users file deleted, truncated and rewritten (in place,
with pauses half-way) while ten clients query in a loop.
"""

from __future__ import annotations

import os
import re
import threading
import time

from tests.helpers.abuse import assertNoErrors
from tests.helpers.support import LOOPBACK0, finger

USERS = 1000
LAST = f"user{USERS - 1:04d}"


def usersText(version: int) -> str:
    return "".join(f"user{i:04d}: version {version}\n" for i in range(USERS))


class Clients:
    """Ten clients querying in a loop; every reply must be a complete, good one."""

    def __init__(self, port: int, count: int = 10) -> None:
        self.port = port
        self.failures: list[tuple[str, str]] = []
        self.queries = [0] * count
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(k,), daemon=True)
                        for k in range(count)]
        for t in self.threads:
            t.start()

    def run(self, k: int) -> None:
        i = 0
        while not self.stopping.is_set():
            i += 1
            try:
                if i % 10 == 0:
                    query = ""
                    lines = finger(self.port, "").split("\r\n")
                    ok = lines[-1] == "" and len(lines) == USERS + 1 and all(
                        re.fullmatch(r"user\d{4}: version \d+", line) for line in lines[:-1]
                    )
                    reply = f"{len(lines) - 1} lines, e.g. {lines[:2]}"
                else:
                    query = f"user{(k * 97 + i * 31) % USERS:04d}"
                    reply = finger(self.port, query)
                    ok = re.fullmatch(r"version \d+\r\n", reply) is not None
            except OSError as e:
                ok, reply = False, repr(e)
            if not ok:
                self.failures.append((query, reply))
            self.queries[k] += 1

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(30)


def rewriteInPlace(path, version: int, pause: float = 0.3) -> None:
    """Truncate, write half, pause, write the rest (a careless editor)."""
    text = usersText(version)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[: len(text) // 2])
        f.flush()
        time.sleep(pause)
        f.write(text[len(text) // 2 :])


def deleteThenRewrite(path, version: int) -> None:
    os.remove(path)
    time.sleep(0.3)
    rewriteInPlace(path, version)


def truncateThenRewrite(path, version: int) -> None:
    with open(path, "w"):
        pass
    time.sleep(0.3)
    path.write_text(usersText(version), encoding="utf-8")


def replaceAtomically(path, version: int) -> None:
    temporary = path.with_suffix(".new")
    temporary.write_text(usersText(version), encoding="utf-8")
    os.replace(temporary, path)


def test_usersFileRewrittenWhileQueried(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text(usersText(0), encoding="utf-8")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0, "--refresh", "0.1")
    port = service.port()
    clients = Clients(port)
    try:
        writers = [rewriteInPlace, deleteThenRewrite, truncateThenRewrite, replaceAtomically,
                   rewriteInPlace]
        for version, write in enumerate(writers, 1):
            write(users, version)
            # Not stale: the new version is served soon after.
            deadline = time.monotonic() + 30
            while finger(port, LAST) != f"version {version}\r\n":
                assert time.monotonic() < deadline, f"version {version} after {write.__name__}"
                time.sleep(0.1)
    finally:
        clients.stop()
    assert clients.failures == []
    assert min(clients.queries) > 10
    assertNoErrors(service, allowed=[r"cannot read \S+: No such file or directory"])
