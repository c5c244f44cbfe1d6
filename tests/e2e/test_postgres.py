"""
The PostgreSQL store end to end: real twistd nodes on a real PostgreSQL
(tests/helpers/postgres.py), read and written with real clients.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from tests.helpers.support import LOOPBACK0, finger, runTwistd, serviceEnvironment, setStatus


def node(startFinger, database, *extra: str, dsn: str | None = None, **kwargs):
    """A twistd node on C{database}: finger, setter and web on free ports."""
    return startFinger(
        "--postgres", dsn or database.dsn,
        "--finger", LOOPBACK0, "--setter", LOOPBACK0, "--web", LOOPBACK0, *extra,
        expect=("finger", "setter", "web"),
        env=serviceEnvironment(**database.env()),
        **kwargs,
    )


def web(port: int, path: str, timeout: float = 10.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def eventually(check, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_setThroughOneNodeReadThroughTheOther(startFinger, pgDatabase):
    a = node(startFinger, pgDatabase)
    b = node(startFinger, pgDatabase)
    assert "no such user" in finger(b.port(), "alice").lower()  # now cached on b as unknown
    started = time.monotonic()
    assert setStatus(a.port("setter"), "alice", "Gone fishing").strip() == "OK"
    eventually(lambda: "Gone fishing" in finger(b.port(), "alice"), what="b sees a's write")
    assert time.monotonic() - started < 1.0
    status, body = web(b.port("web"), "/api/users/alice")
    assert status == 200 and json.loads(body)["status"] == "Gone fishing"
    assert "alice" in finger(b.port(), "")
    assert setStatus(b.port("setter"), "alice", "Back").strip() == "OK"
    eventually(lambda: "Back" in finger(a.port(), "alice"), what="a sees b's write")


def test_eventStreamOfOneNodeShowsTheOthersWrite(startFinger, pgDatabase):
    a = node(startFinger, pgDatabase)
    b = node(startFinger, pgDatabase)
    seen: list[str] = []

    def read() -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{b.port('web')}/api/events", headers={"Accept": "text/event-stream"}
        )
        with urllib.request.urlopen(request, timeout=10) as stream:
            for raw in stream:
                seen.append(raw.decode())
                if "Tea time" in raw.decode():
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    assert setStatus(a.port("setter"), "bob", "Tea time").strip() == "OK"
    reader.join(5)
    assert any("Tea time" in line for line in seen), seen


def test_killedRightAfterAnAcknowledgedWrite(startFinger, pgDatabase):
    a = node(startFinger, pgDatabase)
    assert setStatus(a.port("setter"), "carol", "Durable").strip() == "OK"
    os.kill(a.process.pid, signal.SIGKILL)
    a.process.wait()
    b = node(startFinger, pgDatabase)
    assert "Durable" in finger(b.port(), "carol")


def test_urlDsnAndPasswordFileWork(startFinger, pgDatabase):
    a = node(startFinger, pgDatabase, dsn=pgDatabase.url)
    assert setStatus(a.port("setter"), "dave", "via URL").strip() == "OK"


def test_multiHostDsnWithTheFirstHostDown(startFinger, pgDatabase, postgres):
    from tests.helpers.postgres import freePort

    dead = freePort()
    dsn = (f"host=127.0.0.1,127.0.0.1 port={dead},{postgres.port} dbname={pgDatabase.name} "
           "user=finger target_session_attrs=read-write")
    a = node(startFinger, pgDatabase, dsn=dsn)
    assert setStatus(a.port("setter"), "erin", "second host").strip() == "OK"
    assert "second host" in finger(a.port(), "erin")


def test_wrongPasswordAtStart(tmp_path, pgDatabase):
    passfile = tmp_path / "wrong"
    passfile.write_text("*:*:*:finger:not-the-password\n")
    passfile.chmod(0o600)
    dsn = pgDatabase.dsn + " password=hunter2-secret"
    result = runTwistd(["--postgres", dsn, "--finger", LOOPBACK0], cwd=tmp_path)
    err = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1, err
    assert "password authentication failed" in err
    assert "127.0.0.1" in err
    assert "hunter2-secret" not in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err


def test_missingDatabaseAtStart(tmp_path, pgDatabase, postgres):
    env = {"PGPASSFILE": str(pgDatabase.passfile)}
    dsn = f"host=127.0.0.1 port={postgres.port} dbname=nosuchdb user=finger"
    result = runTwistd(["--postgres", dsn, "--finger", LOOPBACK0], cwd=tmp_path, env=env)
    err = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1, err
    assert 'database "nosuchdb" does not exist' in err
    assert "Traceback" not in err


def test_unreachableAtStartNamesTheHost(tmp_path):
    from tests.helpers.postgres import freePort

    dsn = f"postgresql://finger:pw-in-url@127.0.0.1:{freePort()}/finger"
    result = runTwistd(["--postgres", dsn, "--finger", LOOPBACK0], cwd=tmp_path)
    err = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1, err
    assert "cannot connect to PostgreSQL at finger@127.0.0.1" in err
    assert "pw-in-url" not in err
    assert "Traceback" not in err


def test_newerSchemaIsAStartUpError(startFinger, tmp_path, pgDatabase, postgres):
    a = node(startFinger, pgDatabase)
    a.stop()
    postgres.admin("UPDATE finger_schema SET version = 99", database=pgDatabase.name)
    result = runTwistd(["--postgres", pgDatabase.dsn, "--finger", LOOPBACK0], cwd=tmp_path,
                       env=pgDatabase.env())
    err = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "schema version 99 is newer than this program's (2)" in err


def test_databaseStoppedAndStartedUnderLoad(startFinger, pgDatabase, postgres):
    a = node(startFinger, pgDatabase)
    b = node(startFinger, pgDatabase)
    assert setStatus(a.port("setter"), "frank", "Before").strip() == "OK"
    eventually(lambda: "Before" in finger(b.port(), "frank"))
    stop = threading.Event()
    answers: list[str] = []

    def load() -> None:
        while not stop.is_set():
            try:
                answers.append(finger(b.port(), "frank", timeout=5))
            except OSError as e:
                answers.append(f"socket error {e}")

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    postgres.stop("fast")
    try:
        a.waitForLog("lost the connection", timeout=10)
        a.waitForLog("lost the connection", timeout=10)
        answer = setStatus(a.port("setter"), "frank", "During").strip()
        assert answer == "ERROR status store unavailable"
        status, body = web(a.port("web"), "/api/users/frank")
        assert (status, json.loads(body)["status"]) == (200, "Before")  # from a's cache
        status, body = web(a.port("web"), "/api/users/nobody-cached")
        assert status == 502 and "status store unavailable" in body
        assert "Before" in finger(b.port(), "frank")  # from b's cache
        assert "Before" in finger(a.port(), "frank")
    finally:
        postgres.start()
    a.waitForLog("reconnected after", timeout=20)
    eventually(lambda: setStatus(a.port("setter"), "frank", "After").strip() == "OK",
               timeout=15, what="writes accepted again")
    eventually(lambda: "After" in finger(b.port(), "frank"), what="b sees the write after recovery")
    stop.set()
    loader.join(10)
    assert a.process.poll() is None and b.process.poll() is None
    assert all("Before" in x or "After" in x for x in answers), set(answers) - {""}
    assert "Traceback" not in a.log + b.log


def admin(database, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """C{finger-admin --postgres DSN ARGS} (the password from the password file)."""
    return subprocess.run(
        [sys.executable, "-m", "finger.accounts.admin", "--postgres", database.dsn, *args],
        input=stdin, capture_output=True, text=True, timeout=60,
        env=serviceEnvironment(**database.env()),
    )


def put(port: int, name: str, status: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/users/{name}/status", method="PUT",
        data=json.dumps({"status": status}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_accountsLiveInPostgresForEveryNode(startFinger, pgDatabase, postgres):
    created = admin(pgDatabase, "adduser", "alice", stdin="correct horse battery staple\n")
    assert created.returncode == 0, created.stderr
    issued = admin(pgDatabase, "token", "alice")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    listed = admin(pgDatabase, "list")
    assert listed.stdout.startswith("alice"), listed.stdout
    a = node(startFinger, pgDatabase)
    b = node(startFinger, pgDatabase)
    code, document = put(b.port("web"), "alice", "Written through B", token)
    assert (code, document["status"]) == (200, "Written through B"), document
    eventually(lambda: "Written through B" in finger(a.port(), "alice"))
    code, document = put(a.port("web"), "bob", "not hers", token)
    assert code == 403, document
    postgres.stop("fast")
    try:
        a.waitForLog("lost the connection", timeout=10)
        code, document = put(a.port("web"), "alice", "while the database is away", token)
        assert (code, document["error"]) == (503, "status store unavailable"), document
    finally:
        postgres.start()
    a.waitForLog("reconnected after", timeout=20)
    eventually(lambda: put(a.port("web"), "alice", "back", token)[0] == 200, timeout=15,
               what="authenticated writes again")
    assert "Traceback" not in a.log
    assert admin(pgDatabase, "revoke", "alice").returncode == 0
    code, document = put(a.port("web"), "alice", "after revoke", token)
    assert code == 401, document


def test_adminWithAnUnreachableDatabase(tmp_path):
    from tests.helpers.postgres import freePort

    result = subprocess.run(
        [sys.executable, "-m", "finger.accounts.admin", "--postgres",
         f"postgresql://finger:admin-secret@127.0.0.1:{freePort()}/finger", "list"],
        capture_output=True, text=True, timeout=60, env=serviceEnvironment(),
    )
    assert result.returncode == 1
    assert "cannot connect to PostgreSQL at finger@127.0.0.1" in result.stderr
    assert "admin-secret" not in result.stderr
    assert "Traceback" not in result.stderr
