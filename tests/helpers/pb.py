"""Runs the classic PB client (tests/helpers/pbclient.py) in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable

from tests.helpers.support import REPO, serviceEnvironment

NO_SUCH_USER = "finger.frontends.pb.NoSuchUser"
BAD_CALL = "finger.frontends.pb.BadCall"
PB_CLIENT = REPO / "tests" / "helpers" / "pbclient.py"


LOGIN_REFUSED = "finger.frontends.pblogin.LoginRefused"
WRITE_REFUSED = "finger.frontends.pblogin.WriteRefused"


def pbClient(port: int | str, *steps) -> list[dict]:
    """Run tests/pbclient.py with C{steps}; return its JSON lines."""
    done = subprocess.run(
        [sys.executable, str(PB_CLIENT), str(port), json.dumps(steps)],
        env=serviceEnvironment(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def pbClientPausing(port: int | str, steps: list, atPauses: Iterable[Callable[[], object]]) -> list[dict]:
    """
    Like L{pbClient} on one connection, calling the next of C{atPauses} at
    each C{["pause"]} step; the C{{"paused": true}} lines are left out.
    """
    actions = iter(atPauses)
    process = subprocess.Popen(
        [sys.executable, str(PB_CLIENT), str(port), json.dumps(steps)],
        env=serviceEnvironment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    answers = []
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            answer = json.loads(line)
            if answer == {"paused": True}:
                next(actions)()
                process.stdin.write("\n")
                process.stdin.flush()
            else:
                answers.append(answer)
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return answers
