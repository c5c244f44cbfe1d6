"""
C{--postgres DSN}: the PostgreSQL store (L{finger.backends.postgres}), and
its pool size.

The database is reached and its schema created or checked when the service
is built, so that an unreachable server, a wrong password or a missing
database is a one-line start-up error (naming the host, never the password)
before twistd detaches.  psycopg is imported only when C{--postgres} is
given: it is an optional dependency (C{pip install 'twisted-finger[postgres]'};
Debian: C{python3-psycopg}).
"""

from __future__ import annotations

from typing import Any

from twisted.python import usage

from finger.tap.backends import BackendChoice
from finger.tap.errors import StartupError

# As finger.backends.pgconn.DEFAULT_POOL_SIZE (not imported: psycopg is optional).
DEFAULT_POOL_SIZE = 4
MISSING_DRIVER = (
    "--postgres needs psycopg 3 (pip install 'twisted-finger[postgres]'; "
    "on Debian: apt-get install python3-psycopg)"
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be at least 1, not {value!r}")
    return number


class PostgresOptions(BackendChoice):
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["postgres-pool", None, DEFAULT_POOL_SIZE,
         "Most PostgreSQL connections (and query threads) per process, besides the "
         "one that listens for changes.", _positive],
    ]

    def opt_postgres(self, dsn: str) -> None:
        """Keep statuses and accounts in PostgreSQL, shared by every node on the
        same database: a libpq DSN or URL, e.g. 'host=db dbname=finger user=finger'
        (the password from ~/.pgpass or PGPASSFILE)."""
        try:
            from finger.backends.pgconn import Dsn, PostgresConfigurationError
        except ImportError:
            raise usage.UsageError(MISSING_DRIVER) from None
        try:
            Dsn(dsn)
        except PostgresConfigurationError as e:
            raise usage.UsageError(f"--postgres: {e}") from None
        self.addBackend("postgres", dsn)


def postgresBackend(dsn: str, options: Any) -> Any:
    """C{--postgres DSN}: reached, and its schema made or checked, now."""
    from finger.backends.pgconn import PostgresConfigurationError
    from finger.backends.postgres import PostgresFingerService

    backend = PostgresFingerService(dsn, poolSize=options["postgres-pool"])
    try:
        backend.check()
    except PostgresConfigurationError as e:
        raise StartupError(f"--postgres: {e}") from None
    return backend
