"""
Password hashing: argon2id (argon2-cffi), slow on purpose.

L{PasswordHashing} hashes and verifies in threads, never on the reactor
thread, and at most L{MAX_CONCURRENT_HASHES} at a time, so that a flood of
logins costs bounded memory (each argon2id hash takes C{memoryCost} KiB)
and leaves the reactor answering.  Its synchronous methods are for programs
without a reactor (C{finger-admin}).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import argon2
from argon2.exceptions import InvalidHash, VerificationError, VerifyMismatchError
from twisted.internet import defer, threads

from finger.reactors import globalReactor

# argon2-cffi's own defaults (21.1, Debian 12's): RFC 9106's second
# recommended option, 64 MiB and 3 passes, 4 lanes.
TIME_COST = 3
MEMORY_COST = 65536  # KiB
PARALLELISM = 4
MAX_CONCURRENT_HASHES = 2
MAX_PASSWORD_LENGTH = 1024  # characters; longer ones are refused, not hashed

_R = TypeVar("_R")


class PasswordProblem(ValueError):
    """A password that cannot be used; the message says why."""


def passwordProblem(password: str) -> str | None:
    """Why C{password} cannot be set, or C{None}."""
    if not password:
        return "the password is empty"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password is longer than {MAX_PASSWORD_LENGTH} characters"
    return None


class PasswordHashing:
    """
    argon2id hashing and verification.

    @param reactor: whose thread pool runs the hashing (an
        C{IReactorThreads}; default: the global reactor, resolved here).
    @param timeCost, memoryCost, parallelism: argon2id's parameters (tests
        use small ones; stored hashes carry their own, so changing these
        only affects new hashes, and old ones are rehashed at the next good
        login, see L{needsRehash}).
    @param runInThread: how to run a function off the reactor thread
        (default: C{deferToThreadPool} on the reactor's pool); tests may
        pass one that runs it at once.
    """

    def __init__(
        self,
        reactor: Any = None,
        timeCost: int = TIME_COST,
        memoryCost: int = MEMORY_COST,
        parallelism: int = PARALLELISM,
        runInThread: Callable[..., defer.Deferred[Any]] | None = None,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=timeCost,
            memory_cost=memoryCost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        if runInThread is None:
            threaded: Any = globalReactor() if reactor is None else reactor

            def runInThread(function: Callable[..., Any], *args: object) -> defer.Deferred[Any]:
                return threads.deferToThreadPool(
                    threaded, threaded.getThreadPool(), function, *args
                )

        self._runInThread = runInThread
        self._slots = defer.DeferredSemaphore(MAX_CONCURRENT_HASHES)
        # Verified against when the account does not exist, so that an
        # unknown name costs what a wrong password costs.
        self._dummyHash: str | None = None

    # Synchronous (for finger-admin and the threads).

    def hashNow(self, password: str) -> str:
        """The argon2id hash of C{password}; raise L{PasswordProblem}."""
        problem = passwordProblem(password)
        if problem:
            raise PasswordProblem(problem)
        return str(self._hasher.hash(password))

    def verifyNow(self, passwordHash: str | None, password: str) -> bool:
        """
        Whether C{password} matches C{passwordHash} (argon2's comparison is
        constant-time).  C{None} (no such account) is checked against a
        dummy hash, so it takes as long and is always C{False}.
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            password = ""  # Still spend the time; cannot match.
        if passwordHash is None:
            if self._dummyHash is None:
                self._dummyHash = self.hashNow("not a password: no such account")
            passwordHash, password = self._dummyHash, ""
            self._verify(passwordHash, password)
            return False
        return self._verify(passwordHash, password)

    def _verify(self, passwordHash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(passwordHash, password))
        except (VerifyMismatchError, VerificationError, InvalidHash):
            return False

    def needsRehash(self, passwordHash: str) -> bool:
        """Whether a stored hash was made with other parameters than ours."""
        try:
            return bool(self._hasher.check_needs_rehash(passwordHash))
        except (InvalidHash, ValueError):
            return True

    # Off the reactor thread.

    def hash(self, password: str) -> defer.Deferred[str]:
        """L{hashNow} in a thread; fail with L{PasswordProblem}."""
        problem = passwordProblem(password)
        if problem:
            return defer.fail(PasswordProblem(problem))
        return self._inThread(self.hashNow, password)

    def verify(self, passwordHash: str | None, password: str) -> defer.Deferred[bool]:
        """L{verifyNow} in a thread."""
        return self._inThread(self.verifyNow, passwordHash, password)

    def _inThread(self, function: Callable[..., _R], *args: object) -> defer.Deferred[_R]:
        return self._slots.run(self._runInThread, function, *args)
