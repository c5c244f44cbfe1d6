"""
A real PostgreSQL server for tests (Debian's C{postgresql} package): a
cluster made with C{initdb} in a temporary directory, started with
C{pg_ctl} on a free loopback port as an unprivileged user (C{nobody} when
the tests run as root), stopped at the end of the session.

Local (Unix socket) connections are trusted, for the fixture's own
administration; TCP connections need a password (SCRAM), so that tests can
give a wrong one.  Each test gets its own database and role password file
(L{PostgresServer.newDatabase}).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BINDIR = Path("/usr/lib/postgresql/15/bin")
ROLE = "finger"
ROLE_PASSWORD = "s3cret-for-tests"


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runAs() -> pwd.struct_passwd | None:
    """The user the server runs as: nobody when we are root, else ourselves."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Database:
    """A test's database: its DSN (no password in it) and the password file."""

    name: str
    dsn: str
    url: str
    passfile: Path

    def env(self) -> dict[str, str]:
        return {"PGPASSFILE": str(self.passfile)}


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="finger-pg-"))
        self.data = self.directory / "data"
        self.port = freePort()
        self.user = _runAs()
        if self.user is not None:
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self._run(str(BINDIR / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        self.admin(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE_PASSWORD}'")
        self._count = 0

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        def demote() -> None:
            if self.user is not None:
                os.setgroups([])
                os.setgid(self.user.pw_gid)
                os.setuid(self.user.pw_uid)

        return subprocess.run(command, preexec_fn=demote, cwd=self.directory, check=True,
                              capture_output=True, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})

    def start(self) -> None:
        self._run(str(BINDIR / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                  str(self.directory / "server.log"), "-o",
                  f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                  "-c fsync=on -c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(BINDIR / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def admin(self, sql: str, database: str = "postgres") -> str:
        """Run C{sql} as the superuser, over the Unix socket; its output."""
        result = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.directory),
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return result.stdout

    def newDatabase(self, where: Path) -> Database:
        """A new database owned by the C{finger} role, and a password file in C{where}."""
        self._count += 1
        name = f"t{self._count}_{int(time.time() * 1000) % 100000}"
        self.admin(f"CREATE DATABASE {name} OWNER {ROLE}")
        passfile = where / f"pgpass-{name}"
        passfile.write_text(f"127.0.0.1:{self.port}:*:{ROLE}:{ROLE_PASSWORD}\n")
        passfile.chmod(0o600)
        dsn = f"host=127.0.0.1 port={self.port} dbname={name} user={ROLE}"
        url = f"postgresql://{ROLE}@127.0.0.1:{self.port}/{name}"
        return Database(name, dsn, url, passfile)


def postgresServer() -> Iterator[PostgresServer]:
    """The session fixture's body (see tests/conftest.py)."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.destroy()
