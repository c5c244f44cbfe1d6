"""
End to end: a real C{twistd -n finger} with the system backends (--pwd,
--local, --store and chains of them), real accounts and real clients.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading

from tests.helpers.support import (
    LOOPBACK0,
    TWISTD,
    finger,
    runTwistd,
    serviceEnvironment,
    setStatus,
)

SETTER = ("finger", "setter")


def test_pwdServesPlansSafely(startFinger, makeAccount):
    planned = makeAccount("Alice Liddell")
    planned.write(".project", "Finding the rabbit\n")
    planned.write(".plan", "Down the hole.\n")
    shadowy = makeAccount("Mallory")
    os.symlink("/etc/shadow", shadowy.home / ".plan")
    fifo = makeAccount("Fifo Person")
    os.mkfifo(fifo.home / ".plan")
    os.chown(fifo.home / ".plan", fifo.uid, fifo.gid)
    hidden = makeAccount("Hidden Person")
    hidden.write(".plan", "You cannot see me")
    hidden.write(".nofinger", "")
    huge = makeAccount("Huge Plan")
    huge.write(".plan", b"y" * (10 * 1024 * 1024))

    service = startFinger("--pwd", "--finger", LOOPBACK0)
    port = service.port()
    assert finger(port, planned.name) == (
        "Alice Liddell\r\nProject: Finding the rabbit\r\nPlan:\r\nDown the hole.\r\n"
    )
    assert finger(port, shadowy.name) == "Mallory\r\nNo Plan.\r\n"
    assert finger(port, shadowy.name) == "Mallory\r\nNo Plan.\r\n"
    assert finger(port, fifo.name, timeout=30) == "Fifo Person\r\nNo Plan.\r\n"
    assert finger(port, hidden.name) == f"No such user: {hidden.name}\r\n"
    reply = finger(port, huge.name)
    assert reply == "Huge Plan\r\nPlan:\r\n" + "y" * 65536 + "\r\n"
    assert finger(port, "root") == "No such user: root\r\n"
    assert finger(port, f"/W {planned.name}").startswith("Alice Liddell\r\nProject:")
    assert "Directory:" not in finger(port, f"/W {planned.name}")

    listing = finger(port, "")
    assert f"{planned.name}: Alice Liddell\r\n" in listing
    assert f"{huge.name}: Huge Plan\r\n" in listing
    assert hidden.name not in listing
    assert "root:" not in listing

    service.waitForLog(rf"{fifo.home}/\.plan is not a regular file; ignored")
    symlinkProblem = f"{shadowy.home}/.plan is a symbolic link; ignored"
    service.waitForLog(symlinkProblem)
    assert service.log.count(symlinkProblem) == 1  # logged once for three reads


def test_pwdVerbose(startFinger, makeAccount):
    account = makeAccount("Verbose Person")
    service = startFinger("--pwd", "--pwd-verbose", "--finger", LOOPBACK0)
    assert finger(service.port(), f"/W {account.name}") == (
        f"Verbose Person\r\nDirectory: {account.home}    Shell: /bin/sh\r\nNo Plan.\r\n"
    )
    assert finger(service.port(), account.name) == "Verbose Person\r\nNo Plan.\r\n"


def test_localFingerProgram(startFinger, makeAccount, tmp_path):
    account = makeAccount("Local Person")
    account.write(".plan", "Reached through /usr/bin/finger.\n")
    calls = tmp_path / "calls"
    wrapper = tmp_path / "finger-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec /usr/bin/finger "$@"\n')
    wrapper.chmod(0o755)
    pwned = tmp_path / "pwned"

    service = startFinger("--local", "--local-program", str(wrapper), "--finger", LOOPBACK0)
    reply = finger(service.port(), account.name)
    assert f"Login: {account.name}" in reply
    assert "Name: Local Person" in reply
    assert "Reached through /usr/bin/finger." in reply
    evil = f"alice;touch {pwned}"
    assert finger(service.port(), evil) == f"No such user: {evil}\r\n"
    assert finger(service.port(), "nosuchuser-fgt") == "No such user: nosuchuser-fgt\r\n"
    assert not pwned.exists()
    assert calls.read_text() == f"-m {account.name}\n-m nosuchuser-fgt\n"


def test_storeSurvivesKill9(startFinger):
    args = ("--store", "status.db", "--finger", LOOPBACK0, "--setter", LOOPBACK0)
    service = startFinger(*args, expect=SETTER)
    statuses = {"alice": "Gone fishing", "bob": "Caf\u00e9, back at 3", "carol": "first"}
    for name, status in statuses.items():
        assert setStatus(service.port("setter"), name, status) == "OK\r\n"
    assert setStatus(service.port("setter"), "carol", "second") == "OK\r\n"
    statuses["carol"] = "second"
    service.kill()

    again = startFinger(*args, expect=SETTER)
    for name, status in statuses.items():
        assert finger(again.port(), name) == f"{status}\r\n"
    assert finger(again.port(), "") == (
        "alice: Gone fishing\r\nbob: Caf\u00e9, back at 3\r\ncarol: second\r\n"
    )


def test_concurrentSettersForOneUser(startFinger, tmp_path):
    service = startFinger(
        "--store", "status.db", "--finger", LOOPBACK0, "--setter", LOOPBACK0, expect=SETTER
    )
    for round in range(10):
        values = [f"round {round} from writer {writer}" for writer in range(2)]
        replies = []
        start = threading.Barrier(2)

        def write(value, start=start, replies=replies):
            start.wait()
            replies.append(setStatus(service.port("setter"), "dave", value))

        writers = [threading.Thread(target=write, args=(v,)) for v in values]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(60)
        assert replies == ["OK\r\n", "OK\r\n"]
        assert finger(service.port(), "dave") in {f"{v}\r\n" for v in values}
    service.stop()
    connection = sqlite3.connect(tmp_path / "status.db")
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert connection.execute("SELECT name FROM statuses").fetchall() == [("dave",)]
    connection.close()


def test_storeWriteFailureReachesTheSetter(startFinger, tmp_path):
    service = startFinger(
        "--store", "status.db", "--finger", LOOPBACK0, "--setter", LOOPBACK0, expect=SETTER
    )
    assert setStatus(service.port("setter"), "alice", "before") == "OK\r\n"
    connection = sqlite3.connect(tmp_path / "status.db")
    connection.execute(
        "CREATE TRIGGER fail BEFORE UPDATE ON statuses "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    connection.commit()
    connection.close()
    reply = setStatus(service.port("setter"), "alice", "after")
    assert reply == "ERROR could not store the status: disk on fire\r\n"
    assert finger(service.port(), "alice") == "before\r\n"
    service.waitForLog(r"Could not store the status of 'alice' in status\.db: disk on fire")


def test_corruptStoreStopsStartup(tmp_path):
    (tmp_path / "status.db").write_bytes(b"not a database\n" * 1000)
    result = runTwistd(["--store", "status.db", "--finger", LOOPBACK0], cwd=tmp_path)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 1, output
    assert "finger: --store: cannot use status.db: file is not a database" in output
    assert "Traceback" not in output


def test_unwritableStoreStopsStartup(tmp_path):
    database = tmp_path / "status.db"
    connection = sqlite3.connect(database)
    connection.close()
    database.chmod(0o444)
    # As root, drop CAP_DAC_OVERRIDE so that file permissions apply.
    result = subprocess.run(
        ["setpriv", "--bounding-set=-dac_override", *TWISTD, "-n", "--pidfile=", "finger",
         "--store", "status.db", "--finger", LOOPBACK0],
        cwd=tmp_path,
        env=serviceEnvironment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 1, output
    assert "finger: --store: cannot use status.db: attempt to write a readonly database" in output
    assert "Traceback" not in output


def test_storeAndPwdTogether(startFinger, makeAccount):
    account = makeAccount("Plan Person")
    account.write(".plan", "Writing plans.\n")
    other = makeAccount("Other Person")
    service = startFinger(
        "--store", "./status.db", "--pwd", "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        expect=SETTER,
    )
    port = service.port()
    assert finger(port, account.name) == "Plan Person\r\nPlan:\r\nWriting plans.\r\n"
    assert setStatus(service.port("setter"), "zoe-fgt", "Only in the store") == "OK\r\n"
    assert finger(port, "zoe-fgt") == "Only in the store\r\n"
    # The store comes first on the command line, so it answers first.
    assert setStatus(service.port("setter"), other.name, "Set over the network") == "OK\r\n"
    assert finger(port, other.name) == "Set over the network\r\n"
    listing = finger(port, "").splitlines()
    names = [line.split(":")[0] for line in listing if not line.startswith(" ")]
    assert names == sorted(set(names))
    assert {account.name, other.name, "zoe-fgt"} <= set(names)
    assert f"{other.name}: Set over the network" in listing


def test_clientThatHalfClosesGetsTheAnswer(startFinger):
    """
    Clients like C{nc -N} shut down their sending side after the query; the
    answer from a backend that answers later (in a thread) must still come.
    """
    service = startFinger(
        "--store", "status.db", "--finger", LOOPBACK0, "--setter", LOOPBACK0, expect=SETTER
    )
    assert setStatus(service.port("setter"), "alice", "Still here") == "OK\r\n"
    for query, answer in [
        (b"alice\r\n", b"Still here\r\n"),
        (b"alice", b"Still here\r\n"),  # the last line needs no line end
        (b"\r\n", b"alice: Still here\r\n"),
        (b"bob\r\n", b"No such user: bob\r\n"),
        (b"", b""),  # nothing asked, nothing answered, closed
    ]:
        with socket.create_connection(("127.0.0.1", service.port()), timeout=30) as s:
            s.sendall(query)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        assert reply == answer, query
