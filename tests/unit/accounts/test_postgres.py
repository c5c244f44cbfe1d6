"""
The PostgreSQL account queries and the schema migration 1 -> 2 (each
account's WebFinger entry), on the tests' real PostgreSQL server
(tests/helpers/postgres.py).
"""

from __future__ import annotations

import psycopg
import pytest

from finger.accounts import postgres as accountpg
from finger.accounts.interfaces import MAX_WEBFINGER_BYTES, AccountError, NoSuchAccount
from finger.backends import pgschema as store


@pytest.fixture
def connection(pgDatabase):
    with psycopg.connect(pgDatabase.dsn, passfile=str(pgDatabase.passfile), autocommit=True) as c:
        yield c


def makeVersion1(connection) -> None:
    """The schema as release 1 of the PostgreSQL store made it, with an account in it."""
    with connection.transaction():
        for statement in store._SCHEMA:
            if statement not in accountpg.SCHEMA_V2:
                connection.execute(statement)
        connection.execute("INSERT INTO finger_schema (version) VALUES (1)")
    accountpg.createAccount(connection, "alice", "hash-a", False, 1700000000.0)
    connection.execute("INSERT INTO statuses VALUES ('alice', 'from v1', 1700000000.5)")


def test_version1IsMigratedOnce(connection):
    makeVersion1(connection)
    with pytest.raises(psycopg.errors.UndefinedColumn):
        connection.execute("SELECT webfinger FROM accounts")
    assert store.prepareSchema(connection, "test") == 1
    versions = [row[0] for row in connection.execute("SELECT version FROM finger_schema")]
    assert sorted(versions) == [1, 2]
    assert accountpg.getAccount(connection, "alice").passwordHash == "hash-a"
    assert connection.execute("SELECT status FROM statuses").fetchall() == [("from v1",)]
    assert accountpg.getWebFinger(connection, "alice") is None
    assert store.prepareSchema(connection, "test") == 2  # nothing more to do
    versions = [row[0] for row in connection.execute("SELECT version FROM finger_schema")]
    assert sorted(versions) == [1, 2]


def test_newDatabaseIsCurrent(connection):
    assert store.prepareSchema(connection, "test") == 0
    assert connection.execute("SELECT max(version) FROM finger_schema").fetchone() == (2,)
    assert store.SCHEMA_VERSION == 2


def test_webfingerQueries(connection):
    store.prepareSchema(connection, "test")
    accountpg.createAccount(connection, "alice", "h", False, 1.0)
    accountpg.createAccount(connection, "bob", "h", False, 1.0)
    accountpg.setWebFinger(connection, "alice", '{"links": []}')
    assert accountpg.getWebFinger(connection, "alice") == '{"links": []}'
    assert accountpg.getWebFinger(connection, "bob") is None
    accountpg.setWebFinger(connection, "alice", None)
    assert accountpg.getWebFinger(connection, "alice") is None
    with pytest.raises(NoSuchAccount):
        accountpg.setWebFinger(connection, "carol", "{}")
    with pytest.raises(NoSuchAccount):
        accountpg.getWebFinger(connection, "carol")
    with pytest.raises(AccountError):
        accountpg.setWebFinger(connection, "alice", "x" * (MAX_WEBFINGER_BYTES + 1))
    accountpg.deleteAccount(connection, "alice")
    accountpg.createAccount(connection, "alice", "h", False, 1.0)
    assert accountpg.getWebFinger(connection, "alice") is None
