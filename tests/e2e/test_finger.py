"""
End to end: a real C{twistd -n finger} process, real sockets.

These show the foundation's promises: the users file is served, edits are
picked up without a restart, the setter's statuses are answered, and bad
clients get clear errors without disturbing anyone else.
"""

import os
import socket
import subprocess
import time

import pytest

from tests.helpers.support import (
    LOOPBACK0,
    REPO,
    TWISTD,
    finger,
    query,
    runTwistd,
    serviceEnvironment,
    setStatus,
)

SAMPLE = (REPO / "etc" / "users").read_text()


def writeAtomically(path, text: str) -> None:
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    os.replace(temporary, path)


def waitUntil(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users"
    path.write_text(SAMPLE)
    return path


@pytest.fixture
def fileService(startFinger, users):
    return startFinger("--file", str(users), "--finger", LOOPBACK0, "--refresh", "0.2")


def test_userQueries(fileService):
    port = fileService.port()
    assert finger(port, "alice") == "Happy and well\r\n"
    assert finger(port, "bob") == "Feeling sad: lost his keys\r\n"
    assert finger(port, "/W alice") == "Happy and well\r\n"
    assert finger(port, "nobody") == "No such user: nobody\r\n"


def test_emptyQueryListsEveryone(fileService):
    assert finger(fileService.port(), "") == (
        "alice: Happy and well\r\n"
        "bob: Feeling sad: lost his keys\r\n"
        "carol: At the conference until Friday\r\n"
    )


def test_noList(startFinger, users):
    service = startFinger("--file", str(users), "--finger", LOOPBACK0, "--no-list")
    assert finger(service.port(), "") == "Finger online user list denied\r\n"
    assert finger(service.port(), "alice") == "Happy and well\r\n"


def test_forwardingIsRefused(fileService):
    assert finger(fileService.port(), "alice@example.org") == "Finger forwarding service denied\r\n"


def test_queriesAreLogged(fileService):
    finger(fileService.port(), "alice")
    fileService.waitForLog(r"finger query 'alice' from 127\.0\.0\.1:\d+: found")


def test_editedFileIsPickedUpWithoutRestart(fileService, users):
    writeAtomically(users, SAMPLE + "dave: Just arrived\n")
    waitUntil(lambda: finger(fileService.port(), "dave") == "Just arrived\r\n", what="the edit")
    # Edited in place (not renamed) works too.
    with open(users, "a") as f:
        f.write("erin: Also here\n")
    waitUntil(lambda: finger(fileService.port(), "erin") == "Also here\r\n", what="the append")


def test_deletedOrGarbageFileKeepsTheLastGoodTable(fileService, users):
    users.unlink()
    fileService.waitForLog(r"cannot read .*users: No such file or directory; keeping the last good table \(3 users\)")
    assert finger(fileService.port(), "alice") == "Happy and well\r\n"
    users.write_bytes(b"\xff\xfe garbage \x00\x01")
    fileService.waitForLog(r"not valid UTF-8.*keeping the last good table")
    assert finger(fileService.port(), "carol") == "At the conference until Friday\r\n"
    assert "Traceback" not in fileService.log


def test_malformedLinesAreLoggedAndSkipped(startFinger, tmp_path):
    path = tmp_path / "users"
    path.write_text("alice: fine\nnot a user line\n")
    service = startFinger("--file", str(path), "--finger", LOOPBACK0)
    service.waitForLog(rf"{path}:2: no ':' between name and status; line skipped")
    assert finger(service.port(), "alice") == "fine\r\n"


def test_controlCharactersInTheFileNeverReachTheWire(startFinger, tmp_path):
    path = tmp_path / "users"
    path.write_bytes(b"mallory: \x1b[2J\x1b]0;owned\x07evil\x7f\x08 text\n")
    service = startFinger("--file", str(path), "--finger", LOOPBACK0)
    assert query(service.port(), b"mallory\r\n") == b"[2J]0;ownedevil text\r\n"


def test_setterStatusIsAnsweredByTheNextQuery(startFinger):
    service = startFinger(
        "--memory", "--user", "alice=Happy", "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=("finger", "setter"),
    )
    setter = service.port("setter")
    assert setStatus(setter, "alice", "Gone fishing") == "OK\r\n"
    assert finger(service.port(), "alice") == "Gone fishing\r\n"
    assert setStatus(setter, "new user", "x") == "ERROR invalid user name: the name contains ' '\r\n"
    # The classic client sends two lines and closes; a status without a final
    # newline is taken when the client half-closes.
    with socket.create_connection(("127.0.0.1", setter), timeout=10) as s:
        s.sendall(b"bob\nNo newline here")
        s.shutdown(socket.SHUT_WR)
        assert s.recv(100) == b"OK\r\n"
    assert finger(service.port(), "bob") == "No newline here\r\n"


@pytest.mark.parametrize("frontend", ["finger", "setter"])
def test_overlongLineGetsAnErrorAndOthersAreServed(startFinger, frontend):
    service = startFinger(
        "--memory", "--user", "alice=Happy", "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=("finger", "setter"),
    )
    reply = query(service.port(frontend), b"x" * (10 * 1024 * 1024), timeout=30)
    expected = {
        "finger": b"Query too long (limit 1024 bytes)\r\n",
        "setter": b"ERROR line too long (limit 1024 bytes)\r\n",
    }[frontend]
    assert reply == expected
    assert finger(service.port(), "alice") == "Happy\r\n"


def test_invalidUtf8GetsAnError(fileService):
    assert query(fileService.port(), b"\xc3\x28\r\n") == b"Query is not valid UTF-8\r\n"
    assert "Traceback" not in fileService.log


def test_idleClientIsDisconnectedWhileOthersAreServed(startFinger, users):
    service = startFinger("--file", str(users), "--finger", LOOPBACK0, "--timeout", "2")
    idle = socket.create_connection(("127.0.0.1", service.port()), timeout=30)
    try:
        idle.sendall(b"ali")  # half a query, then nothing
        # The idle client holds its connection, yet others are answered.
        assert finger(service.port(), "alice") == "Happy and well\r\n"
        idle.setblocking(False)
        with pytest.raises(BlockingIOError):
            idle.recv(1)  # still open: nothing to read yet
        idle.setblocking(True)
        # Then the idle timeout closes it (reset or EOF, never an answer).
        try:
            assert idle.recv(1) == b""
        except ConnectionResetError:
            pass
    finally:
        idle.close()
    service.waitForLog(r"finger query '' from 127\.0\.0\.1:\d+: idle timeout")


def test_largeFileReloadDoesNotFreezeTheReactor(startFinger, tmp_path):
    """
    A 1,000,000-line file is parsed off the reactor thread: while it loads,
    queries are still answered, from the old table, and then from the new.
    """
    path = tmp_path / "users"
    path.write_text("alice: old\n")
    service = startFinger("--file", str(path), "--finger", LOOPBACK0, "--refresh", "0.2")
    big = tmp_path / "big"
    with open(big, "w") as f:
        f.write("alice: new\n")
        for number in range(1_000_000):
            f.write(f"user{number}: status number {number}\n")
    os.replace(big, path)
    service.waitForLog(r"users changed; reloading it")
    # Had the parse blocked the reactor, every query from here on would wait
    # for it and see the new table: no "old" answer at all.
    replies = []
    while not replies or replies[-1] != "new\r\n":
        replies.append(finger(service.port(), "alice", timeout=60))
    assert replies[0] == "old\r\n"
    assert set(replies[:-1]) == {"old\r\n"}
    service.waitForLog(r"Loaded 1000001 users")
    assert finger(service.port(), "user999999") == "status number 999999\r\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--file", "/nonexistent/users"], "finger: cannot read /nonexistent/users: No such file or directory"),
        (["--memory", "--finger", "bogus:79"], "finger: bad finger endpoint 'bogus:79'"),
        (["--file", "{users}", "--setter", "tcp:0"], "finger: --setter needs a settable backend"),
    ],
)
def test_startupErrorsAreOneLineWithoutTraceback(tmp_path, users, args, message):
    args = [a.format(users=users) for a in args]
    result = runTwistd([*args, "--finger", LOOPBACK0] if "--finger" not in args else args, tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output


def test_portInUseIsAClearStartupError(tmp_path, users):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runTwistd(["--file", str(users), "--finger", f"tcp:{port}:interface=127.0.0.1"], tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode != 0
    assert f"cannot listen for finger on 'tcp:{port}:interface=127.0.0.1': Address already in use" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "finger: choose a backend: --file PATH, --memory, --pwd, --local, --store PATH, "
             "--postgres DSN, --proxy or --web-status URL (see: twistd finger --help)"),
        (["--memory", "--timeout", "-1"], "must be a positive number of seconds, not '-1'"),
        (["--user", "alice"], "--user wants NAME=STATUS, not 'alice'"),
    ],
)
def test_usageErrorsAreOneLineAndFail(tmp_path, args, message):
    result = runTwistd(args, tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 1
    assert message in output
    assert "Traceback" not in output


def test_startupErrorInDaemonModeEndsTheParentToo(tmp_path, users):
    """
    Daemonized (no -n), the error happens in the child; twistd's parent must
    hear of it and exit non-zero rather than wait forever.
    """
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                *TWISTD, f"--pidfile={tmp_path / 'finger.pid'}", f"--logfile={tmp_path / 'finger.log'}",
                "finger", "--file", str(users), "--finger", f"tcp:{port}:interface=127.0.0.1",
                "--web", "none", "--pb", "none",
            ],
            cwd=tmp_path, env=serviceEnvironment(), capture_output=True, timeout=60,
        )
    assert result.returncode == 1
    assert b"cannot listen for finger" in result.stdout + result.stderr
