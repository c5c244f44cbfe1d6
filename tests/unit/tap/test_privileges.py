"""finger.tap.privileges: whom twistd will switch to, and checks made as them."""

from __future__ import annotations

import os
import pwd

import pytest
from twisted.scripts.twistd import ServerOptions

from finger.errors import FingerConfigurationError
from finger.tap import Options
from finger.tap.privileges import errorAs, twistdUser

asRoot = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def test_twistdUserIsWhomTwistdWillSwitchTo():
    config = ServerOptions()
    config.parseOptions(["-u", "nobody", "finger", "--memory"])
    nobody = pwd.getpwnam("nobody")
    # Only root switches users; everyone else runs the service as themselves.
    expected = (nobody.pw_uid, nobody.pw_gid, False) if os.geteuid() == 0 else (None, None, False)
    assert twistdUser(config.subOptions) == expected
    config = ServerOptions()
    config.parseOptions(["finger", "--memory"])
    assert twistdUser(config.subOptions) == (None, None, False)
    assert twistdUser(Options()) == (None, None, False)  # not run by twistd


class Reported(FingerConfigurationError):
    pass


@asRoot
def test_errorAsRunsTheCheckAsThatUserAndGroup():
    nobody = pwd.getpwnam("nobody")

    def whoAmI() -> None:
        raise Reported(f"{os.geteuid()} {os.getegid()} {os.getuid()} {os.getgroups()}")

    error = errorAs(whoAmI, nobody.pw_uid, nobody.pw_gid)
    assert error is not None
    uid, gid, realUid, groups = error.split(" ", 3)
    assert (int(uid), int(gid), int(realUid)) == (nobody.pw_uid, nobody.pw_gid, nobody.pw_uid)
    assert "0" not in groups.strip("[]").split(", ")  # root's groups are gone
    assert os.geteuid() == 0  # only the child switched


@asRoot
def test_errorAsReportsHowTheCheckEnded():
    nobody = pwd.getpwnam("nobody")
    assert errorAs(lambda: None, nobody.pw_uid, nobody.pw_gid) is None
    assert errorAs(lambda: 1 / 0, nobody.pw_uid, nobody.pw_gid) == "ZeroDivisionError: division by zero"

    def failsPlainly() -> None:
        raise Reported("cannot create /x: Permission denied")

    assert errorAs(failsPlainly, nobody.pw_uid, nobody.pw_gid) == "cannot create /x: Permission denied"

    def exitsSilently() -> None:
        os._exit(3)

    assert errorAs(exitsSilently, nobody.pw_uid, nobody.pw_gid) == "the check ended with status 768"
