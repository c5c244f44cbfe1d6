"""The example application file etc/finger.tac runs under twistd -ny."""

import shutil
import subprocess

from tests.helpers.support import LOOPBACK0, REPO, TWISTD, finger, serviceEnvironment

TAC = REPO / "etc" / "finger.tac"


def test_tacServesPublicAndAdminFinger(startFinger, tmp_path, monkeypatch):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)
    monkeypatch.setenv("FINGER_USERS", str(users))
    monkeypatch.setenv("FINGER_ENDPOINT", LOOPBACK0)
    monkeypatch.setenv("FINGER_ADMIN_ENDPOINT", LOOPBACK0)
    service = startFinger(
        command=[*TWISTD, "-ny", str(TAC), "--pidfile="], expect=("finger", "finger-admin")
    )
    public, admin = service.port("finger"), service.port("finger-admin")
    assert finger(public, "alice") == "Happy and well\r\n"
    assert finger(public, "") == "Finger online user list denied\r\n"
    assert finger(admin, "").splitlines() == [
        "alice: Happy and well",
        "bob: Feeling sad: lost his keys",
        "carol: At the conference until Friday",
    ]
    # Each query is logged once, by the frontend, with the querying peer.
    service.waitForLog(r"finger query '' from 127\.0\.0\.1:\d+: list denied")
    assert service.log.count("finger query 'alice' from 127.0.0.1:") == 1


def test_tacAdminListenerCanBeTurnedOff(startFinger, tmp_path, monkeypatch):
    users = tmp_path / "users"
    shutil.copy(REPO / "etc" / "users", users)
    monkeypatch.setenv("FINGER_USERS", str(users))
    monkeypatch.setenv("FINGER_ENDPOINT", LOOPBACK0)
    monkeypatch.setenv("FINGER_ADMIN_ENDPOINT", "none")
    service = startFinger(command=[*TWISTD, "-ny", str(TAC), "--pidfile="])
    assert finger(service.port(), "bob") == "Feeling sad: lost his keys\r\n"
    assert "finger-admin" not in service.ports


def test_tacMissingUsersFileIsAOneLineError(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-file"
    result = subprocess.run(
        [*TWISTD, "-ny", str(TAC), "--pidfile="],
        cwd=tmp_path,
        env=serviceEnvironment(FINGER_USERS=str(missing), FINGER_ENDPOINT=LOOPBACK0),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"finger: cannot read {missing}: No such file or directory"
    assert b"Traceback" not in result.stdout + result.stderr
