"""
Accounts for tests: fast argon2id parameters, a synchronous 'thread', and a
throttled login gate on a memory store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address

from finger.accounts import tokens
from finger.accounts.gate import Authenticator, buildAuthenticator
from finger.accounts.hashing import PasswordHashing
from finger.accounts.memory import MemoryAccountStore
from finger.accounts.throttle import LoginThrottle

HERE = IPv4Address("TCP", "127.0.0.1", 5000)
THERE = IPv4Address("TCP", "192.0.2.7", 5000)


def runAtOnce(function: Any, *args: object) -> defer.Deferred[Any]:
    """Run C{function} now (a stand-in for a thread pool in unit tests)."""
    return defer.maybeDeferred(function, *args)


def fastHashing(**kwargs: Any) -> PasswordHashing:
    """argon2id with tiny costs, run synchronously: for unit tests only."""
    settings = {"timeCost": 1, "memoryCost": 64, "parallelism": 1, "runInThread": runAtOnce}
    settings.update(kwargs)
    return PasswordHashing(**settings)


@dataclass
class Gate:
    """A throttled authenticator on a memory store, on a manual clock."""

    clock: task.Clock
    store: MemoryAccountStore
    throttle: LoginThrottle
    auth: Authenticator
    token: tokens.NewToken | None


def loginGate(*, root: bool = False, token: bool = False, maxFailures: int = 3) -> Gate:
    """
    alice (password "pw"; with C{token}, a token too) and, with C{root}, the
    admin root (password "rootpw"), behind a throttle of C{maxFailures} a minute.
    """
    clock = task.Clock()
    hashing = fastHashing()
    store = MemoryAccountStore()
    store.createAccount("alice", hashing.hashNow("pw"), False)
    if root:
        store.createAccount("root", hashing.hashNow("rootpw"), True)
    newToken = tokens.newToken() if token else None
    if newToken is not None:
        store.addToken("alice", newToken.id, newToken.tokenHash)
    throttle = LoginThrottle(maxFailures=maxFailures, window=60, clock=clock)
    auth = buildAuthenticator(store, hashing, throttle, clock=clock)
    return Gate(clock, store, throttle, auth, newToken)
