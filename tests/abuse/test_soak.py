"""
A sustained mixed load (about two minutes; FINGER_SOAK_SECONDS to change it)
against finger and setter: normal queries, settings, listings, a users file
replaced every few seconds, and a steady trickle of abuse (idle connections,
over-long lines, garbage, bursts over the per-client limit).  Every answer
must be right, nothing may be logged as an error, and memory must stay flat.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time

import pytest

from tests.helpers.abuse import (
    SOURCES,
    assertNoErrors,
    connect,
    memoryKiB,
    openConnections,
    request,
)
from tests.helpers.support import LOOPBACK0, finger, setStatus

SECONDS = float(os.environ.get("FINGER_SOAK_SECONDS", "120"))
FILE_USERS = 20_000


def usersText(version: int) -> str:
    return "".join(f"user{i:05d}: version {version}\n" for i in range(FILE_USERS))


class Load:
    """Threads that run one kind of client each until told to stop."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.failures: list[str] = []
        self.counts: dict[str, int] = {}
        self.threads: list[threading.Thread] = []

    def add(self, name: str, step, pause: float) -> None:
        def run() -> None:
            rng = random.Random(name)
            while not self.stopping.is_set():
                try:
                    problem = step(rng)
                except OSError as e:
                    problem = f"{type(e).__name__}: {e}"
                if problem:
                    self.failures.append(f"{name}: {problem}")
                self.counts[name] = self.counts.get(name, 0) + 1
                self.stopping.wait(pause)

        self.threads.append(threading.Thread(target=run, name=name, daemon=True))

    def run(self, seconds: float, sample) -> list:
        samples = []
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            samples.append(sample())
            time.sleep(1.0)
        self.stopping.set()
        for t in self.threads:
            t.join(60)
        return samples


@pytest.mark.slow
def test_sustainedMixedLoad(startFinger, tmp_path):
    memory = startFinger(
        "--memory", "--user", "alice=Happy and well", "--finger", LOOPBACK0,
        "--setter", LOOPBACK0, "--timeout", "2", expect=("finger", "setter"),
    )
    users = tmp_path / "users"
    users.write_text(usersText(0), encoding="utf-8")
    filed = startFinger("--file", str(users), "--finger", LOOPBACK0, "--refresh", "0.5",
                        "--timeout", "2")
    fingerPort, setterPort, filePort = memory.port(), memory.port("setter"), filed.port()
    load = Load()

    def query(rng):
        reply = finger(fingerPort, "alice")
        return None if reply == "Happy and well\r\n" else repr(reply)

    def setThenRead(rng):
        name = f"setter{rng.randrange(100)}"
        status = f"status {rng.randrange(10**6)}"
        if setStatus(setterPort, name, status) != "OK\r\n":
            return "set failed"
        reply = finger(fingerPort, name)
        return None if reply.startswith("status ") else repr(reply)

    def listMemory(rng):
        reply = finger(fingerPort, "")
        return None if reply.startswith("alice: Happy and well\r\n") else repr(reply[:100])

    def queryFile(rng):
        reply = finger(filePort, f"user{rng.randrange(FILE_USERS):05d}")
        return None if reply.startswith("version ") else repr(reply)

    def listFile(rng):
        lines = finger(filePort, "").split("\r\n")
        return None if len(lines) == FILE_USERS + 1 else f"{len(lines) - 1} lines"

    versions = itertools.count(1)

    def rewriteFile(rng):
        temporary = users.with_suffix(".new")
        temporary.write_text(usersText(next(versions)), encoding="utf-8")
        os.replace(temporary, users)

    def idleThenTimedOut(rng):
        idle = openConnections(fingerPort, 10, SOURCES[5:10]) + openConnections(setterPort, 10, SOURCES[5:10])
        time.sleep(3)  # past --timeout 2: the server closes them
        closed = sum(1 for s in idle if _closed(s))
        for s in idle:
            s.close()
        return None if closed == len(idle) else f"only {closed} of {len(idle)} idle closed"

    def overlong(rng):
        port, reply = rng.choice([(fingerPort, b"Query too long"), (setterPort, b"ERROR line too long")])
        answer = request(port, b"x" * 100_000 + b"\r\n")
        return None if answer.startswith(reply) else repr(answer[:80])

    def garbage(rng):
        port = rng.choice([fingerPort, setterPort, filePort])
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        s = connect(port)
        try:
            s.sendall(data)
        except OSError:
            pass
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        s.close()

    def overTheLimit(rng):
        source = SOURCES[20]
        held = openConnections(fingerPort, 32, [source])
        refused = request(fingerPort, b"alice\r\n", source)
        for s in held:
            s.close()
        return None if refused == b"Too many connections, try again later\r\n" else repr(refused)

    for i in range(3):
        load.add(f"query{i}", query, 0.005)
        load.add(f"queryFile{i}", queryFile, 0.005)
    load.add("setThenRead", setThenRead, 0.005)
    load.add("listMemory", listMemory, 0.2)
    load.add("listFile", listFile, 1.0)
    load.add("rewriteFile", rewriteFile, 5.0)
    load.add("idle", idleThenTimedOut, 1.0)
    load.add("overlong", overlong, 0.5)
    load.add("garbage", garbage, 0.1)
    load.add("overTheLimit", overTheLimit, 2.0)

    samples = load.run(SECONDS, lambda: (memoryKiB(memory.process.pid), memoryKiB(filed.process.pid)))

    assert load.failures == [], load.failures[:20]
    assert min(load.counts.values()) >= 3, load.counts
    third = len(samples) // 3
    for name, column in (("memory backend", 0), ("file backend", 1)):
        first = max(s[column] for s in samples[:third])
        last = max(s[column] for s in samples[-third:])
        assert last <= first * 1.1 + 5 * 1024, (
            f"{name}: RSS grew from {first} KiB to {last} KiB; samples "
            f"{[s[column] for s in samples]}"
        )
    assertNoErrors(memory)
    assertNoErrors(filed)
    assert memory.log.count("finger query 'alice'") > 100
    assert filed.log.count("Loaded 20000 users") >= SECONDS // 10


def _closed(s) -> bool:
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False
