"""
Accounts in SQLite: the tables and the queries, as plain functions of a
connection.

The SQLite store (L{finger.backends.store}) runs them in its one thread;
C{finger-admin} runs them in its own process on its own connection (WAL
lets it write while the service runs).  Each write is one C{BEGIN
IMMEDIATE} transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from finger.accounts.interfaces import Account, AccountExists, NoSuchAccount, TokenRecord
from finger.accounts.rows import (
    SELECT_ACCOUNT,
    SELECT_TOKEN,
    accountFromRow,
    checkName,
    checkWebFinger,
    tokenFromRow,
)

# Schema version 2 of the store adds these (version 1 had only statuses).
SCHEMA_V2 = [
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY NOT NULL,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        last_used_at REAL
    )
    """,
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL REFERENCES accounts (name),
        token_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_used_at REAL
    )
    """,
    "CREATE INDEX tokens_by_name ON tokens (name)",
]

# Schema version 3: each account's own WebFinger entry (JSON text, or NULL).
SCHEMA_V3 = ["ALTER TABLE accounts ADD COLUMN webfinger TEXT"]


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One C{BEGIN IMMEDIATE} ... C{COMMIT}, rolled back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _exists(connection: sqlite3.Connection, name: str) -> None:
    if connection.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone() is None:
        raise NoSuchAccount(name)


def createAccount(
    connection: sqlite3.Connection, name: str, passwordHash: str, admin: bool, now: float
) -> Account:
    checkName(name)
    with transaction(connection):
        try:
            connection.execute(
                "INSERT INTO accounts (name, password_hash, admin, created_at) VALUES (?, ?, ?, ?)",
                (name, passwordHash, int(admin), now),
            )
        except sqlite3.IntegrityError:
            raise AccountExists(name) from None
    return Account(name, passwordHash, admin, now, None)


def getAccount(connection: sqlite3.Connection, name: str) -> Account:
    row = connection.execute(SELECT_ACCOUNT + " WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NoSuchAccount(name)
    return accountFromRow(row)


def listAccounts(connection: sqlite3.Connection) -> list[Account]:
    return [accountFromRow(row) for row in connection.execute(SELECT_ACCOUNT + " ORDER BY name")]


def setPasswordHash(connection: sqlite3.Connection, name: str, passwordHash: str) -> None:
    with transaction(connection):
        _exists(connection, name)
        connection.execute(
            "UPDATE accounts SET password_hash = ? WHERE name = ?", (passwordHash, name)
        )


def deleteAccount(connection: sqlite3.Connection, name: str) -> None:
    with transaction(connection):
        _exists(connection, name)
        connection.execute("DELETE FROM tokens WHERE name = ?", (name,))
        connection.execute("DELETE FROM accounts WHERE name = ?", (name,))


def addToken(
    connection: sqlite3.Connection, name: str, tokenId: str, tokenHash: str, now: float
) -> TokenRecord:
    with transaction(connection):
        _exists(connection, name)
        connection.execute(
            "INSERT INTO tokens (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
            (tokenId, name, tokenHash, now),
        )
    return TokenRecord(tokenId, name, tokenHash, now, None)


def getToken(connection: sqlite3.Connection, tokenId: str) -> TokenRecord | None:
    row = connection.execute(SELECT_TOKEN + " WHERE id = ?", (tokenId,)).fetchone()
    return None if row is None else tokenFromRow(row)


def listTokens(connection: sqlite3.Connection, name: str) -> list[TokenRecord]:
    _exists(connection, name)
    return [
        tokenFromRow(row)
        for row in connection.execute(SELECT_TOKEN + " WHERE name = ? ORDER BY created_at, id", (name,))
    ]


def revokeTokens(connection: sqlite3.Connection, name: str, tokenId: str | None = None) -> int:
    with transaction(connection):
        _exists(connection, name)
        if tokenId is None:
            cursor = connection.execute("DELETE FROM tokens WHERE name = ?", (name,))
        else:
            cursor = connection.execute(
                "DELETE FROM tokens WHERE name = ? AND id = ?", (name, tokenId)
            )
        return cursor.rowcount


def touch(connection: sqlite3.Connection, name: str, tokenId: str | None, when: float) -> None:
    with transaction(connection):
        connection.execute("UPDATE accounts SET last_used_at = ? WHERE name = ?", (when, name))
        if tokenId is not None:
            connection.execute(
                "UPDATE tokens SET last_used_at = ? WHERE id = ? AND name = ?",
                (when, tokenId, name),
            )


def getWebFinger(connection: sqlite3.Connection, name: str) -> str | None:
    row = connection.execute("SELECT webfinger FROM accounts WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NoSuchAccount(name)
    return row[0]


def setWebFinger(connection: sqlite3.Connection, name: str, entry: str | None) -> None:
    checkWebFinger(entry)
    with transaction(connection):
        cursor = connection.execute(
            "UPDATE accounts SET webfinger = ? WHERE name = ?", (entry, name)
        )
        if cursor.rowcount == 0:
            raise NoSuchAccount(name)
