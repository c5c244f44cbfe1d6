"""An in-memory L{IAccountStore}, for tests and embedding (lost when the process ends)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from twisted.internet import defer
from zope.interface import implementer

from finger.accounts.interfaces import (
    Account,
    AccountError,
    AccountExists,
    IAccountStore,
    IAccountWebFinger,
    NoSuchAccount,
    TokenRecord,
)
from finger.accounts.rows import checkWebFinger
from finger.users import userNameProblem


@implementer(IAccountStore, IAccountWebFinger)
class MemoryAccountStore:
    """Accounts in dicts; C{clock} gives creation times (Unix time)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._accounts: dict[str, Account] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._webfinger: dict[str, str] = {}

    def _get(self, name: str) -> Account:
        try:
            return self._accounts[name]
        except KeyError:
            raise NoSuchAccount(name) from None

    def createAccount(self, name: str, passwordHash: str, admin: bool) -> defer.Deferred[Account]:
        problem = userNameProblem(name)
        if problem:
            return defer.fail(AccountError(f"invalid account name: {problem}"))
        if name in self._accounts:
            return defer.fail(AccountExists(name))
        account = self._accounts[name] = Account(name, passwordHash, admin, self._clock())
        return defer.succeed(account)

    def getAccount(self, name: str) -> defer.Deferred[Account]:
        return defer.maybeDeferred(self._get, name)

    def listAccounts(self) -> defer.Deferred[Sequence[Account]]:
        return defer.succeed([self._accounts[name] for name in sorted(self._accounts)])

    def setPasswordHash(self, name: str, passwordHash: str) -> defer.Deferred[None]:
        def set() -> None:
            self._accounts[name] = replace(self._get(name), passwordHash=passwordHash)

        return defer.maybeDeferred(set)

    def deleteAccount(self, name: str) -> defer.Deferred[None]:
        def delete() -> None:
            del self._accounts[self._get(name).name]
            self._webfinger.pop(name, None)
            for record in [r for r in self._tokens.values() if r.name == name]:
                del self._tokens[record.id]

        return defer.maybeDeferred(delete)

    def addToken(self, name: str, tokenId: str, tokenHash: str) -> defer.Deferred[TokenRecord]:
        def add() -> TokenRecord:
            self._get(name)
            record = self._tokens[tokenId] = TokenRecord(tokenId, name, tokenHash, self._clock())
            return record

        return defer.maybeDeferred(add)

    def getToken(self, tokenId: str) -> defer.Deferred[TokenRecord | None]:
        return defer.succeed(self._tokens.get(tokenId))

    def listTokens(self, name: str) -> defer.Deferred[Sequence[TokenRecord]]:
        def tokens() -> list[TokenRecord]:
            self._get(name)
            return sorted(
                (r for r in self._tokens.values() if r.name == name),
                key=lambda r: (r.createdAt, r.id),
            )

        return defer.maybeDeferred(tokens)

    def revokeTokens(self, name: str, tokenId: str | None = None) -> defer.Deferred[int]:
        def revoke() -> int:
            self._get(name)
            doomed = [
                r.id for r in self._tokens.values()
                if r.name == name and (tokenId is None or r.id == tokenId)
            ]
            for identifier in doomed:
                del self._tokens[identifier]
            return len(doomed)

        return defer.maybeDeferred(revoke)

    def touch(self, name: str, tokenId: str | None, when: float) -> defer.Deferred[None]:
        if name in self._accounts:
            self._accounts[name] = replace(self._accounts[name], lastUsedAt=when)
        record = self._tokens.get(tokenId) if tokenId is not None else None
        if record is not None and record.name == name:
            self._tokens[record.id] = replace(record, lastUsedAt=when)
        return defer.succeed(None)

    def getWebFinger(self, name: str) -> defer.Deferred[str | None]:
        def get() -> str | None:
            self._get(name)
            return self._webfinger.get(name)

        return defer.maybeDeferred(get)

    def setWebFinger(self, name: str, entry: str | None) -> defer.Deferred[None]:
        def set() -> None:
            self._get(name)
            checkWebFinger(entry)
            if entry is None:
                self._webfinger.pop(name, None)
            else:
                self._webfinger[name] = entry

        return defer.maybeDeferred(set)
