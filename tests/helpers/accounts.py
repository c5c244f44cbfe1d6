"""Accounts for tests: fast argon2id parameters and a synchronous 'thread'."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from finger.accounts.hashing import PasswordHashing


def runAtOnce(function: Any, *args: object) -> defer.Deferred[Any]:
    """Run C{function} now (a stand-in for a thread pool in unit tests)."""
    return defer.maybeDeferred(function, *args)


def fastHashing(**kwargs: Any) -> PasswordHashing:
    """argon2id with tiny costs, run synchronously: for unit tests only."""
    settings = {"timeCost": 1, "memoryCost": 64, "parallelism": 1, "runInThread": runAtOnce}
    settings.update(kwargs)
    return PasswordHashing(**settings)
