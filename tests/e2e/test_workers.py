"""
C{--workers N} end to end: real twistd parents and workers on one port.
"""

from __future__ import annotations

import os
import re
import signal
import time

from tests.helpers.support import LOOPBACK0, finger, runTwistd, serviceEnvironment, setStatus

WORKER_QUERY = re.compile(r"worker (\d+): finger query")
STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)")


def workersThatAnswered(process) -> set[str]:
    return set(WORKER_QUERY.findall(process.log))


def pids(process) -> dict[str, int]:
    """The latest pid of each worker, from the parent's log."""
    return {number: int(pid) for number, pid in STARTED.findall(process.log)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def untilBothAnswer(process, port: int, name: str = "alice", expect: str = "Happy") -> None:
    deadline = time.monotonic() + 20
    while len(workersThatAnswered(process)) < 2:
        assert expect in finger(port, name)
        assert time.monotonic() < deadline, process.log


def test_twoWorkersAnswerAndADeadOneIsRestarted(startFinger, tmp_path):
    (tmp_path / "users").write_text("alice: Happy\n")
    parent = startFinger("--file", "users", "--finger", LOOPBACK0, "--workers", "2")
    port = parent.port()
    parent.waitForLog(r"worker 2 started")
    untilBothAnswer(parent, port)
    assert workersThatAnswered(parent) == {"1", "2"}
    victim = pids(parent)["1"]
    os.kill(victim, signal.SIGKILL)
    parent.waitForLog(r"worker 1 was killed by signal 9; restarting it")
    for _ in range(20):  # the port stays served meanwhile
        assert "Happy" in finger(port, "alice")
    parent.waitFor(lambda: pids(parent)["1"] != victim, what="worker 1 restarted")
    workers = list(pids(parent).values())
    assert parent.stop() in (0, -signal.SIGTERM)  # twistd re-raises SIGTERM on itself
    for pid in workers:
        deadline = time.monotonic() + 10
        while alive(pid):
            assert time.monotonic() < deadline, f"worker {pid} outlived the parent"
            time.sleep(0.1)


def test_workersStopWhenTheParentIsKilled(startFinger, tmp_path):
    (tmp_path / "users").write_text("alice: Happy\n")
    parent = startFinger("--file", "users", "--finger", LOOPBACK0, "--workers", "2")
    parent.waitForLog(r"worker 2 started")
    parent.waitFor(lambda: parent.log.count("(adopt:fd=") == 2, what="both workers listening")
    workers = list(pids(parent).values())
    parent.kill()
    for pid in workers:
        deadline = time.monotonic() + 10
        while alive(pid):
            assert time.monotonic() < deadline, f"worker {pid} outlived a killed parent"
            time.sleep(0.1)


def test_workersRefuseABackendThatCannotShare(tmp_path):
    result = runTwistd(["--memory", "--finger", LOOPBACK0, "--workers", "2"], cwd=tmp_path)
    err = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "--workers cannot be used with --memory" in err
    assert "--postgres" in err
    assert "Traceback" not in err


def test_statusSetThroughOneWorkerReachesTheOther(startFinger, pgDatabase):
    parent = startFinger(
        "--postgres", pgDatabase.dsn, "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        "--workers", "2", expect=("finger", "setter"),
        env=serviceEnvironment(**pgDatabase.env()),
    )
    parent.waitFor(lambda: parent.log.count("(adopt:fd=") == 4, what="both workers listening")
    assert setStatus(parent.port("setter"), "alice", "Shared").strip() == "OK"
    time.sleep(0.5)
    untilBothAnswer(parent, parent.port(), "alice", "Shared")
