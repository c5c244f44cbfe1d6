"""
The PostgreSQL store's schema and queries (L{finger.backends.postgres} runs
them in its pool's threads): tables C{statuses(name, status, set_at)}, the
accounts' (see L{finger.accounts.postgres}), and C{finger_schema(version)}.

The schema is created on first start (under an advisory lock, so nodes
starting together do not race) and versioned: an older one is migrated
(version 2 adds each account's own WebFinger entry); a newer version than
this code knows is a L{PostgresConfigurationError}.  A trigger on C{statuses} sends
C{NOTIFY finger_status} with every change, whoever made it (this service on
any node, C{psql}), delivered when the change commits.
"""

from __future__ import annotations

from typing import Any

import psycopg

from finger.accounts import postgres as accountpg
from finger.backends.pgconn import Dsn, PostgresConfigurationError

SCHEMA_VERSION = 2
CHANNEL = "finger_status"
# Advisory lock key for creating the schema ("fngr").
SCHEMA_LOCK = 0x666E6772
# A notification carries the status when the whole payload fits in this
# (PostgreSQL's limit is 8000 bytes); otherwise the receivers read it.
NOTIFY_LIMIT = 7900

_SCHEMA = [
    "CREATE TABLE finger_schema (version INTEGER NOT NULL)",
    """
    CREATE TABLE statuses (
        name TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        set_at DOUBLE PRECISION NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION finger_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE payload TEXT;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            payload := json_build_object('n', OLD.name, 'd', true)::text;
        ELSE
            payload := json_build_object('n', NEW.name, 's', NEW.status, 't', NEW.set_at)::text;
            IF octet_length(payload) > {NOTIFY_LIMIT} THEN
                payload := json_build_object('n', NEW.name, 't', NEW.set_at, 'big', true)::text;
            END IF;
        END IF;
        PERFORM pg_notify('{CHANNEL}', payload);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER statuses_changed AFTER INSERT OR UPDATE OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION finger_status_changed()
    """,
    *accountpg.SCHEMA,
    *accountpg.SCHEMA_V2,
]
# The statements that take a database from version N - 1 to version N.
_MIGRATIONS: dict[int, list[str]] = {2: accountpg.SCHEMA_V2}

Connection = psycopg.Connection[Any]


def prepareSchema(connection: Connection, where: str) -> int:
    """
    Create the schema if the database has none; raise
    L{PostgresConfigurationError} if it is not ours or too new.  Return the
    version found (0: created now).
    """
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        row = connection.execute("SELECT to_regclass('finger_schema')").fetchone()
        if row is None or row[0] is None:
            tables = [r[0] for r in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename IN ('statuses', 'accounts', 'tokens')"
            )]
            if tables:
                raise PostgresConfigurationError(
                    f"{where} is not a finger database (it has tables {', '.join(tables)} "
                    "but no finger_schema)"
                )
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO finger_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
            )
            return 0
        found = connection.execute("SELECT max(version) FROM finger_schema").fetchone()
        version = int(found[0]) if found and found[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise PostgresConfigurationError(
                f"{where}: schema version {version} is newer than this program's "
                f"({SCHEMA_VERSION}); upgrade finger"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[step]:
                connection.execute(statement)
            connection.execute("INSERT INTO finger_schema (version) VALUES (%s)", (step,))
        return version


def checkDatabase(dsn: Dsn) -> None:
    """Connect, create or check the schema, disconnect; raise L{PostgresConfigurationError}."""
    connection = dsn.connect()
    try:
        prepareSchema(connection, f"PostgreSQL at {dsn.describe()}")
    except psycopg.Error as e:
        raise PostgresConfigurationError(
            f"cannot use PostgreSQL at {dsn.describe()}: {dsn.mask(str(e))}"
        ) from None
    finally:
        connection.close()


# Run in the pool's threads.


def select(connection: Connection, name: str) -> tuple[str, float] | None:
    row = connection.execute(
        "SELECT status, set_at FROM statuses WHERE name = %s", (name,)
    ).fetchone()
    return None if row is None else (row[0], row[1])


def selectMany(connection: Connection, names: list[str]) -> dict[str, tuple[str, float]]:
    rows = connection.execute(
        "SELECT name, status, set_at FROM statuses WHERE name = ANY(%s)", (names,)
    )
    return {name: (status, setAt) for name, status, setAt in rows}


def selectNames(connection: Connection) -> list[str]:
    # One value, split here: a million rows, each converted on its own, take
    # seconds with psycopg's pure-Python libpq wrapper.  Names never hold a
    # newline (finger.users.userNameProblem).  COLLATE "C": the order of
    # Python's sort of the names.
    row = connection.execute(
        "SELECT string_agg(name, E'\\n' ORDER BY name COLLATE \"C\") FROM statuses"
    ).fetchone()
    return row[0].split("\n") if row is not None and row[0] else []


def upsert(connection: Connection, name: str, status: str, setAt: float) -> None:
    with connection.transaction():
        connection.execute(
            "INSERT INTO statuses (name, status, set_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET status = excluded.status, set_at = excluded.set_at",
            (name, status, setAt),
        )


def delete(connection: Connection, name: str) -> None:
    with connection.transaction():
        connection.execute("DELETE FROM statuses WHERE name = %s", (name,))
