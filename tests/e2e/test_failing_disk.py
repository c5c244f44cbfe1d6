"""
End to end: the SQLite store on a disk that fills up or fails.

A real twistd keeps its --store on (1) a 1 MiB tmpfs the test mounts (root
only) and fills, and (2) a directory where every write and fsync fails with
EIO while a switch file exists (an LD_PRELOAD shim, tests/helpers/failingio.c:
device-mapper's "error" target needs /dev/mapper, which these containers
lack, and a loop device cannot be made to fail on demand).  A write that
fails answers ERROR; the statuses acknowledged before stay; reads keep
working; once there is room again (the switch removed) writes succeed
without a restart.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.failingio import buildShim, shimEnvironment
from tests.helpers.support import LOOPBACK0, finger, serviceEnvironment, setStatus


def startStore(startFinger, path, **kwargs):
    return startFinger(
        "--store", str(path), "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=("finger", "setter"), **kwargs,
    )


def checkFailingAndRecovering(service, breakDisk, repairDisk) -> None:
    assert setStatus(service.port("setter"), "alice", "before the fault") == "OK\r\n"
    breakDisk()
    answer = setStatus(service.port("setter"), "bob", "x" * 1000)
    assert answer.startswith("ERROR could not store the status: "), answer
    again = setStatus(service.port("setter"), "alice", "lost")
    assert again.startswith("ERROR "), again
    # Reads keep working, and the acknowledged status is still there.
    assert finger(service.port(), "alice") == "before the fault\r\n"
    assert "alice: before the fault" in finger(service.port(), "")
    repairDisk()
    assert setStatus(service.port("setter"), "bob", "after the fault") == "OK\r\n"
    assert finger(service.port(), "bob") == "after the fault\r\n"
    assert finger(service.port(), "alice") == "before the fault\r\n"
    assert "Traceback" not in service.log


@pytest.fixture
def smallDisk(tmp_path):
    mountPoint = tmp_path / "disk"
    mountPoint.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountPoint)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mountPoint
    subprocess.run(["umount", "-l", str(mountPoint)], check=False)


def test_fullDisk(startFinger, smallDisk):
    service = startStore(startFinger, smallDisk / "statuses.db")
    filler = smallDisk / "filler"

    def fill() -> None:
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    checkFailingAndRecovering(service, fill, filler.unlink)
    service.waitForLog(r"Could not store the status of 'bob' .*(full|disk)")


def test_failingDisk(startFinger, tmp_path):
    shim = buildShim(tmp_path)
    if shim is None:
        pytest.skip("no C compiler to build the failing-disk shim")
    disk = tmp_path / "disk"
    disk.mkdir()
    switch = tmp_path / "fail-now"
    env = serviceEnvironment(**shimEnvironment(shim, switch, disk))
    service = startStore(startFinger, disk / "statuses.db", env=env)
    checkFailingAndRecovering(service, switch.touch, switch.unlink)
    service.waitForLog(r"Could not store the status of 'bob' .*disk I/O error")


def test_failingFsync(startFinger, tmp_path):
    """Only fsync fails (the data reached the page cache, not the disk)."""
    shim = buildShim(tmp_path)
    if shim is None:
        pytest.skip("no C compiler to build the failing-disk shim")
    disk = tmp_path / "disk"
    disk.mkdir()
    switch = tmp_path / "fail-now"
    env = serviceEnvironment(
        **shimEnvironment(shim, switch, disk), FAILING_IO_CALLS="fsync,fdatasync"
    )
    service = startStore(startFinger, disk / "statuses.db", env=env)
    checkFailingAndRecovering(service, switch.touch, switch.unlink)
