"""A first end-to-end check of the harness: a real twistd process answers."""

import shutil

from support import LOOPBACK0, REPO, finger, setStatus


def test_fileBackendAnswersFinger(startFinger, tmp_path):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)
    service = startFinger("--file", str(users), "--finger", LOOPBACK0)
    assert finger(service.port(), "alice") == "Happy and well\r\n"


def test_setterThenFinger(startFinger):
    service = startFinger(
        "--memory", "--finger", LOOPBACK0, "--setter", LOOPBACK0, expect=("finger", "setter")
    )
    assert setStatus(service.port("setter"), "dave", "Out to lunch") == "OK\r\n"
    assert finger(service.port(), "dave") == "Out to lunch\r\n"
