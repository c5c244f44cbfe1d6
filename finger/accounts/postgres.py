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

from finger.accounts.interfaces import (
    Account,
    AccountError,
    AccountExists,
    NoSuchAccount,
    TokenRecord,
)
from finger.users import userNameProblem

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

_ACCOUNT = "SELECT name, password_hash, admin, created_at, last_used_at FROM accounts"
_TOKEN = "SELECT id, name, token_hash, created_at, last_used_at FROM tokens"


def _checkName(name: str) -> None:
    problem = userNameProblem(name)
    if problem:
        raise AccountError(f"invalid account name: {problem}")


def _account(row: tuple) -> Account:
    return Account(row[0], row[1], bool(row[2]), row[3], row[4])


def _token(row: tuple) -> TokenRecord:
    return TokenRecord(row[0], row[1], row[2], row[3], row[4])


def _exists(connection: Connection, name: str) -> None:
    if connection.execute("SELECT 1 FROM accounts WHERE name = %s", (name,)).fetchone() is None:
        raise NoSuchAccount(name)


def createAccount(
    connection: Connection, name: str, passwordHash: str, admin: bool, now: float
) -> Account:
    _checkName(name)
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
    row = connection.execute(_ACCOUNT + " WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise NoSuchAccount(name)
    return _account(row)


def listAccounts(connection: Connection) -> list[Account]:
    return [_account(row) for row in connection.execute(_ACCOUNT + " ORDER BY name")]


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
    row = connection.execute(_TOKEN + " WHERE id = %s", (tokenId,)).fetchone()
    return None if row is None else _token(row)


def listTokens(connection: Connection, name: str) -> list[TokenRecord]:
    _exists(connection, name)
    return [
        _token(row)
        for row in connection.execute(_TOKEN + " WHERE name = %s ORDER BY created_at, id", (name,))
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


