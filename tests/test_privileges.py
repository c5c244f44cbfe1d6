"""
Running without systemd: started as root, C{twistd -u USER -g GROUP} binds
port 79 first, then gives up root for good.
"""

import os
import pwd
import grp
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from finger.tap import Options
from support import REPO, port79Lock
from systemdunits import procStatus, withoutDefaultListeners

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
