"""
Running without systemd: started as root, C{twistd -u USER -g GROUP} binds
port 79 first, then gives up root for good.
"""

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from finger.tap import Options
from tests.helpers.support import LOOPBACK0, REPO, finger, port79Lock, serviceEnvironment, setStatus
from tests.helpers.systemdunits import procStatus, withoutDefaultListeners

DEBIAN_PYTHON = "/usr/bin/python3"  # with Debian's python3-twisted (22.4)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="binding port 79 needs root")


@pytest.fixture
def readableCheckout():
    """
    A copy of the code and a users file that an unprivileged user can read:
    after dropping privileges the process still reads the users file and may
    import modules (the checkout or a virtualenv under /root would not do).
    """
    directory = Path(tempfile.mkdtemp(prefix="finger-privileges-"))
    try:
        shutil.copytree(REPO / "finger", directory / "finger", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "twisted", directory / "twisted", ignore=shutil.ignore_patterns("__pycache__", "dropin.cache"))
        shutil.copy(REPO / "etc" / "users", directory / "users")
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield directory
    finally:
        shutil.rmtree(directory)


def test_rootBindsPort79ThenRunsAsNobody(startFinger, readableCheckout):
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup")
    users = readableCheckout / "users"
    # python -c puts the working directory first on sys.path: the readable copy.
    command = [DEBIAN_PYTHON, "-c", "from twisted.scripts.twistd import run; run()"]
    with port79Lock():
        arguments = ["--file", str(users), "--refresh", "0.2", "--finger", "tcp:79:interface=127.0.0.1"]
        service = startFinger(
            *withoutDefaultListeners(arguments, str(Options())),
            cwd=readableCheckout,
            command=[*command, "--nodaemon", "--pidfile=", "-u", "nobody", "-g", "nogroup", "finger"],
        )
        assert service.port() == 79
        service.waitForLog(rf"set uid/gid {nobody.pw_uid}/{nogroup.gr_gid}")

        status = procStatus(service.process.pid)
        assert status["Uid"] == [str(nobody.pw_uid)] * 4  # real, effective, saved, filesystem
        assert status["Gid"] == [str(nogroup.gr_gid)] * 4
        assert set(status["Groups"]) <= {str(nogroup.gr_gid)}  # root's groups are gone

        # The real client, on port 79, answered by the unprivileged process.
        answer = subprocess.run(["finger", "alice@127.0.0.1"], capture_output=True, timeout=30)
        assert answer.stdout.decode() == "Happy and well\n"

        # Still working after the drop: the users file is re-read as nobody.
        with open(users, "a") as f:
            f.write("dave: Reading as nobody\n")
        service.waitForLog(r"Loaded 4 users from ")
        answer = subprocess.run(["finger", "dave@127.0.0.1"], capture_output=True, timeout=30)
        assert answer.stdout.decode() == "Reading as nobody\n"
        service.stop()


TWISTD_DEBIAN = [DEBIAN_PYTHON, "-c", "from twisted.scripts.twistd import run; run()"]
AS_NOBODY = ["-u", "nobody", "-g", "nogroup"]


@pytest.fixture
def nobodysDirectory():
    """A fresh directory owned by nobody:nogroup (mode 0755)."""
    directory = Path(tempfile.mkdtemp(prefix="finger-nobody-"))
    directory.chmod(0o755)
    os.chown(directory, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def test_storeIsCreatedByTheUserTheServiceRunsAs(startFinger, readableCheckout, nobodysDirectory):
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    database = nobodysDirectory / "status.db"
    arguments = ["--store", str(database), "--finger", LOOPBACK0, "--setter", LOOPBACK0]

    def start():
        return startFinger(
            *arguments,
            cwd=readableCheckout,
            command=[*TWISTD_DEBIAN, "--nodaemon", "--pidfile=", *AS_NOBODY, "finger"],
            expect=("finger", "setter"),
        )

    service = start()
    service.waitForLog(rf"set uid/gid {nobody}/{nogroup}")
    assert setStatus(service.port("setter"), "alice", "Stored by nobody") == "OK\r\n"
    assert finger(service.port(), "alice") == "Stored by nobody\r\n"
    # The database (and SQLite's -wal and -shm files) belong to nobody.
    files = sorted(nobodysDirectory.iterdir())
    assert database in files
    assert {(f.name, f.stat().st_uid, f.stat().st_gid) for f in files} == {
        (f.name, nobody, nogroup) for f in files
    }
    service.stop()

    again = start()
    assert finger(again.port(), "alice") == "Stored by nobody\r\n"
    assert setStatus(again.port("setter"), "alice", "Still writable") == "OK\r\n"
    assert finger(again.port(), "alice") == "Still writable\r\n"


def runAsNobody(arguments, cwd, daemon=False) -> tuple[int, str]:
    """Run twistd -u nobody -g nogroup finger ARGS to completion: (status, output)."""
    if daemon:
        mode = ["--pidfile=", f"--logfile={cwd / 'twistd.log'}"]
    else:
        mode = ["--nodaemon", "--pidfile="]
    result = subprocess.run(
        [*TWISTD_DEBIAN, *mode, *AS_NOBODY, "finger", "--finger", LOOPBACK0,
         "--web", "none", "--pb", "none", *arguments],
        cwd=cwd,
        env=serviceEnvironment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    return result.returncode, (result.stdout + result.stderr).decode()


def test_storeNobodyCannotWriteStopsStartup(readableCheckout, nobodysDirectory):
    hint = "it must be able to write the database and the directory it is in"
    rootsDirectory = Path(tempfile.mkdtemp(prefix="finger-root-"))
    try:
        rootsDirectory.chmod(0o755)
        # A new database in a directory nobody cannot write to: the error
        # comes before twistd detaches, so even a daemon says it and exits.
        database = rootsDirectory / "status.db"
        for daemon in (False, True):
            status, output = runAsNobody(["--store", str(database)], readableCheckout, daemon)
            assert status == 1, output
            assert (
                f"finger: --store: cannot create {database}: Permission denied "
                f"(checked as user nobody, who will run the service: {hint})"
            ) in output
            assert "Traceback" not in output
        assert list(rootsDirectory.iterdir()) == []

        # root's database in nobody's directory: nobody cannot write it.
        database = nobodysDirectory / "status.db"
        database.write_bytes(b"")  # root's; an empty file is a database to SQLite
        status, output = runAsNobody(["--store", str(database)], readableCheckout)
        assert status == 1, output
        assert (
            f"finger: --store: cannot use {database}: attempt to write a readonly database "
            f"(checked as user nobody, who will run the service: {hint})"
        ) in output
        assert "Traceback" not in output
        assert sorted(p.name for p in nobodysDirectory.iterdir()) == ["status.db"]
    finally:
        shutil.rmtree(rootsDirectory)

