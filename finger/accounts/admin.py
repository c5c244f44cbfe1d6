"""
C{finger-admin}: manage the accounts of a store, from the shell.

    finger-admin --store PATH adduser NAME [--admin]
    finger-admin --store PATH passwd NAME
    finger-admin --store PATH token NAME        # prints a new token, once
    finger-admin --store PATH revoke NAME [ID]  # all tokens, or the one with ID
    finger-admin --store PATH deluser NAME
    finger-admin --store PATH list

It opens the store's SQLite file itself (the service may be running: WAL
lets both write).  Passwords come from the terminal (asked twice) or, when
standard input is not a terminal, from its first line; a password or token
is never an argument.  Run as root on a store that belongs to another user
(the Debian package's C{_finger}), it switches to that user first, so that
the files SQLite creates stay the service's.  Errors are one line on
standard error and exit status 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from twisted.internet import defer

from finger.accounts import sqlite as accountsql
from finger.accounts.hashing import (
    MAX_PASSWORD_LENGTH,
    PasswordHashing,
    PasswordProblem,
    passwordProblem,
)
from finger.accounts.interfaces import AccountError, NoSuchAccount
from finger.accounts.tokens import newToken
from finger.errors import FingerConfigurationError

PROGRAM = "finger-admin"


class AdminError(Exception):
    """A one-line error for the operator."""


def _noThreads(function: Any, *args: object) -> defer.Deferred[Any]:
    return defer.maybeDeferred(function, *args)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Manage the accounts of a finger store (passwords and API tokens).",
    )
    top.add_argument("--store", required=True, metavar="PATH",
                     help="the SQLite store (twistd finger --store PATH)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = commands.add_parser("adduser", help="create an account (asks for its password)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="may write anyone's status")
    commands.add_parser("passwd", help="set an account's password").add_argument("name")
    commands.add_parser("token", help="make a new API token (printed once)").add_argument("name")
    revoke = commands.add_parser("revoke", help="revoke an account's tokens (all, or one by id)")
    revoke.add_argument("name")
    revoke.add_argument("id", nargs="?", help="the token's id (finger-admin list shows them)")
    commands.add_parser("deluser", help="delete an account and its tokens").add_argument("name")
    commands.add_parser("list", help="list the accounts and their tokens")
    return top


def readPassword(stdin: IO[str], prompt: str) -> str:
    """A new password: asked twice on a terminal, else the first line of C{stdin}."""
    if stdin.isatty():
        password = getpass.getpass(prompt)
        if password != getpass.getpass("Again: "):
            raise AdminError("the passwords do not match")
    else:
        line = stdin.readline(MAX_PASSWORD_LENGTH + 3)
        password = line.rstrip("\r\n")
    problem = passwordProblem(password)
    if problem:
        raise AdminError(problem)
    return password


def becomeOwner(path: str) -> None:
    """As root, switch to the user owning C{path} (or its directory, for a new store)."""
    if os.geteuid() != 0:
        return
    target = path if os.path.exists(path) else (os.path.dirname(os.path.abspath(path)))
    try:
        info = os.stat(target)
    except OSError:
        return
    if info.st_uid == 0:
        return
    os.setgroups([])
    os.setgid(info.st_gid)
    os.setuid(info.st_uid)


def openStore(path: str) -> sqlite3.Connection:
    """Open (or create) the store; L{AdminError} if it cannot be used."""
    from finger.backends.store import openDatabase

    try:
        return openDatabase(path)
    except FingerConfigurationError as e:
        raise AdminError(str(e)) from None


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def run(arguments: argparse.Namespace, stdin: IO[str], stdout: IO[str], stderr: IO[str]) -> None:
    """Carry out one command; raise L{AdminError} or L{AccountError}."""
    becomeOwner(arguments.store)
    connection = openStore(arguments.store)
    hashing = PasswordHashing(runInThread=_noThreads)
    name: str = vars(arguments).get("name") or ""
    now = time.time()
    try:
        if arguments.command == "adduser":
            try:
                accountsql.getAccount(connection, name)
            except NoSuchAccount:
                pass
            else:
                raise AdminError(f"account {name} exists already")
            password = readPassword(stdin, f"Password for {name}: ")
            accountsql.createAccount(connection, name, hashing.hashNow(password),
                                     arguments.admin, now)
            kind = "admin account" if arguments.admin else "account"
            stderr.write(f"{PROGRAM}: created {kind} {name}\n")
        elif arguments.command == "passwd":
            accountsql.getAccount(connection, name)
            password = readPassword(stdin, f"New password for {name}: ")
            accountsql.setPasswordHash(connection, name, hashing.hashNow(password))
            stderr.write(f"{PROGRAM}: password of {name} changed\n")
        elif arguments.command == "token":
            token = newToken()
            accountsql.addToken(connection, name, token.id, token.tokenHash, now)
            stdout.write(token.token + "\n")
            stderr.write(
                f"{PROGRAM}: new token {token.id} for {name}; it is shown only now "
                f"(revoke it with: {PROGRAM} --store {arguments.store} revoke {name} {token.id})\n"
            )
        elif arguments.command == "revoke":
            count = accountsql.revokeTokens(connection, name, arguments.id)
            if arguments.id is not None and count == 0:
                raise AdminError(f"{name} has no token {arguments.id}")
            stderr.write(f"{PROGRAM}: revoked {count} token{'' if count == 1 else 's'} of {name}\n")
        elif arguments.command == "deluser":
            accountsql.deleteAccount(connection, name)
            stderr.write(f"{PROGRAM}: deleted account {name} and its tokens\n")
        elif arguments.command == "list":
            for account in accountsql.listAccounts(connection):
                flag = " (admin)" if account.admin else ""
                stdout.write(
                    f"{account.name}{flag}  created {_when(account.createdAt)}"
                    f"  last login {_when(account.lastUsedAt)}\n"
                )
                for record in accountsql.listTokens(connection, account.name):
                    stdout.write(
                        f"    token {record.id}  created {_when(record.createdAt)}"
                        f"  last used {_when(record.lastUsedAt)}\n"
                    )
    except PasswordProblem as e:
        raise AdminError(str(e)) from None
    except sqlite3.Error as e:
        raise AdminError(f"cannot use {arguments.store}: {e}") from None
    finally:
        connection.close()


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """The console script; returns the exit status."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        arguments = parser().parse_args(argv)
    except SystemExit as e:  # argparse has written its message.
        return int(e.code or 0)
    try:
        run(arguments, stdin, stdout, stderr)
    except (AdminError, AccountError) as e:
        stderr.write(f"{PROGRAM}: {e}\n")
        return 1
    except KeyboardInterrupt:
        stderr.write(f"{PROGRAM}: interrupted\n")
        return 1
    except OSError as e:
        stderr.write(f"{PROGRAM}: {e.strerror or e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
