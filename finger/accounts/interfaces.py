"""
The account store's contract: what any store of accounts (SQLite today,
PostgreSQL later) provides.

A store keeps hashes only: it never sees a password or a token.  Hashing is
L{finger.accounts.hashing} (passwords) and L{finger.accounts.tokens}
(tokens); checking them is L{finger.accounts.cred}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from zope.interface import Interface

# The largest WebFinger entry (JSON text, UTF-8 bytes) a store keeps for an account.
MAX_WEBFINGER_BYTES = 16 * 1024


class AccountError(Exception):
    """An account operation was refused; the message is one line for the user."""


class NoSuchAccount(AccountError):
    """There is no account with this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no such account: {name}")
        self.name = name


class AccountExists(AccountError):
    """An account with this name exists already."""

    def __init__(self, name: str) -> None:
        super().__init__(f"account {name} exists already")
        self.name = name


@dataclass(frozen=True)
class Account:
    """One account as stored (times are Unix time in seconds)."""

    name: str
    passwordHash: str
    admin: bool
    createdAt: float
    lastUsedAt: float | None = None

    def __repr__(self) -> str:  # Keep the hash out of logs and tracebacks.
        return f"Account(name={self.name!r}, admin={self.admin})"


@dataclass(frozen=True)
class TokenRecord:
    """
    One API token as stored: its public C{id} (part of the token, see
    L{finger.accounts.tokens}), the account it belongs to and the token's
    hash.
    """

    id: str
    name: str
    tokenHash: str
    createdAt: float
    lastUsedAt: float | None = None

    def __repr__(self) -> str:
        return f"TokenRecord(id={self.id!r}, name={self.name!r})"


class IAccountStore(Interface):
    """
    Accounts and their API tokens.  Every method returns a Deferred; names
    are checked with L{finger.users.userNameProblem} (an invalid one fails
    with L{AccountError}).
    """

    def createAccount(name: str, passwordHash: str, admin: bool) -> Deferred[Account]:
        """Create an account; fail with L{AccountExists}."""

    def getAccount(name: str) -> Deferred[Account]:
        """The account; fail with L{NoSuchAccount}."""

    def listAccounts() -> Deferred[Sequence[Account]]:
        """Every account, sorted by name."""

    def setPasswordHash(name: str, passwordHash: str) -> Deferred[None]:
        """Replace the account's password hash; fail with L{NoSuchAccount}."""

    def deleteAccount(name: str) -> Deferred[None]:
        """Delete the account and all its tokens; fail with L{NoSuchAccount}."""

    def addToken(name: str, tokenId: str, tokenHash: str) -> Deferred[TokenRecord]:
        """Store a new token's hash for the account; fail with L{NoSuchAccount}."""

    def getToken(tokenId: str) -> Deferred[TokenRecord | None]:
        """The token with this id, or C{None}."""

    def listTokens(name: str) -> Deferred[Sequence[TokenRecord]]:
        """The account's tokens, oldest first; fail with L{NoSuchAccount}."""

    def revokeTokens(name: str, tokenId: str | None = None) -> Deferred[int]:
        """
        Delete the account's tokens (all, or only C{tokenId}); fire with how
        many were deleted.  Fail with L{NoSuchAccount}.
        """

    def touch(name: str, tokenId: str | None, when: float) -> Deferred[None]:
        """Record a successful login (and the token used, if any) at C{when}."""


class IAccountWebFinger(Interface):
    """
    Each account's own WebFinger entry (aliases and links, as JSON text
    already validated by L{finger.frontends.web.webfingerfile.parseUserEntry});
    at most L{MAX_WEBFINGER_BYTES} (longer fails with L{AccountError}).
    Stores read it afresh at every call, so a change made by any process
    sharing the store is seen at the next read.
    """

    def getWebFinger(name: str) -> Deferred[str | None]:
        """The account's entry, or C{None} if it has none; fail with L{NoSuchAccount}."""

    def setWebFinger(name: str, entry: str | None) -> Deferred[None]:
        """Replace (C{None}: clear) the account's entry; fail with L{NoSuchAccount}."""
