"""
Accounts in PostgreSQL: the tables and the queries, as plain functions of a
connection (the same functions, with the same behaviour, as
L{finger.accounts.sqlite}).

The PostgreSQL store (L{finger.backends.postgres}) runs them in its pool's
threads; C{finger-admin --postgres DSN} on its own connection.  Each write is
one transaction.
"""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg.errors

from finger.accounts.interfaces import Account, AccountExists, NoSuchAccount, TokenRecord
from finger.accounts.rows import (
    SELECT_ACCOUNT,
    SELECT_TOKEN,
    accountFromRow,
    checkName,
    checkWebFinger,
    tokenFromRow,
)

Connection = psycopg.Connection[Any]

# Part of the PostgreSQL store's schema version 1.
SCHEMA = [
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY NOT NULL,
        password_hash TEXT NOT NULL,
        admin BOOLEAN NOT NULL DEFAULT FALSE,
        created_at DOUBLE PRECISION NOT NULL,
        last_used_at DOUBLE PRECISION
    )
    """,
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL REFERENCES accounts (name),
        token_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        last_used_at DOUBLE PRECISION
    )
    """,
    "CREATE INDEX tokens_by_name ON tokens (name)",
]

# Schema version 2: each account's own WebFinger entry (JSON text, or NULL).
SCHEMA_V2 = ["ALTER TABLE accounts ADD COLUMN webfinger TEXT"]

def _exists(connection: Connection, name: str) -> None:
    if connection.execute("SELECT 1 FROM accounts WHERE name = %s", (name,)).fetchone() is None:
        raise NoSuchAccount(name)


def createAccount(
    connection: Connection, name: str, passwordHash: str, admin: bool, now: float
) -> Account:
    checkName(name)
    with connection.transaction():
        try:
            connection.execute(
                "INSERT INTO accounts (name, password_hash, admin, created_at) VALUES (%s, %s, %s, %s)",
                (name, passwordHash, admin, now),
            )
        except psycopg.errors.UniqueViolation:
            raise AccountExists(name) from None
    return Account(name, passwordHash, admin, now, None)


def getAccount(connection: Connection, name: str) -> Account:
    row = connection.execute(SELECT_ACCOUNT + " WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise NoSuchAccount(name)
    return accountFromRow(row)


def listAccounts(connection: Connection) -> list[Account]:
    return [accountFromRow(row) for row in connection.execute(SELECT_ACCOUNT + " ORDER BY name")]


def setPasswordHash(connection: Connection, name: str, passwordHash: str) -> None:
    with connection.transaction():
        _exists(connection, name)
        connection.execute(
            "UPDATE accounts SET password_hash = %s WHERE name = %s", (passwordHash, name)
        )


def deleteAccount(connection: Connection, name: str) -> None:
    with connection.transaction():
        _exists(connection, name)
        connection.execute("DELETE FROM tokens WHERE name = %s", (name,))
        connection.execute("DELETE FROM accounts WHERE name = %s", (name,))


def addToken(
    connection: Connection, name: str, tokenId: str, tokenHash: str, now: float
) -> TokenRecord:
    with connection.transaction():
        _exists(connection, name)
        connection.execute(
            "INSERT INTO tokens (id, name, token_hash, created_at) VALUES (%s, %s, %s, %s)",
            (tokenId, name, tokenHash, now),
        )
    return TokenRecord(tokenId, name, tokenHash, now, None)


def getToken(connection: Connection, tokenId: str) -> TokenRecord | None:
    row = connection.execute(SELECT_TOKEN + " WHERE id = %s", (tokenId,)).fetchone()
    return None if row is None else tokenFromRow(row)


def listTokens(connection: Connection, name: str) -> list[TokenRecord]:
    _exists(connection, name)
    return [
        tokenFromRow(row)
        for row in connection.execute(SELECT_TOKEN + " WHERE name = %s ORDER BY created_at, id", (name,))
    ]


def revokeTokens(connection: Connection, name: str, tokenId: str | None = None) -> int:
    with connection.transaction():
        _exists(connection, name)
        if tokenId is None:
            cursor = connection.execute("DELETE FROM tokens WHERE name = %s", (name,))
        else:
            cursor = connection.execute(
                "DELETE FROM tokens WHERE name = %s AND id = %s", (name, tokenId)
            )
        return cursor.rowcount


def touch(connection: Connection, name: str, tokenId: str | None, when: float) -> None:
    with connection.transaction():
        connection.execute("UPDATE accounts SET last_used_at = %s WHERE name = %s", (when, name))
        if tokenId is not None:
            connection.execute(
                "UPDATE tokens SET last_used_at = %s WHERE id = %s AND name = %s",
                (when, tokenId, name),
            )


def getWebFinger(connection: Connection, name: str) -> str | None:
    row = connection.execute("SELECT webfinger FROM accounts WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise NoSuchAccount(name)
    return row[0]


def setWebFinger(connection: Connection, name: str, entry: str | None) -> None:
    checkWebFinger(entry)
    with connection.transaction():
        cursor = connection.execute(
            "UPDATE accounts SET webfinger = %s WHERE name = %s", (entry, name)
        )
        if cursor.rowcount == 0:
            raise NoSuchAccount(name)
