"""Runs the classic PB client (tests/helpers/pbclient.py) in its own process."""

from __future__ import annotations

import json
import subprocess
import sys

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
