"""
Whether a login still stands: for clients that stay logged in (a PB
connection), the accounts' answer at each write rather than at login only.

At login, L{basisOf} records what the login rested on: the account's
name and either the API token's id (a token login) or the account's
password hash as it was then (a password login).  L{confirm} checks it
again: the account must still exist, a token must not have been revoked,
and a password login lapses when the password is changed (C{finger-admin
passwd}: the stored hash then differs).  It fires with the account as it
is now (an admin demoted since is no longer one) or fails with
L{LoginLapsed}.

A password hash also changes when a later login rehashes it with new
argon2id parameters (only after the parameters change): logins made
before then lapse once, which errs on the safe side.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from twisted.cred.error import UnauthorizedLogin

from finger.accounts.cred import AccountAvatar
from finger.accounts.interfaces import IAccountStore, NoSuchAccount
from finger.accounts.tokens import tokenId

LAPSED = (
    "this login no longer stands (the account was deleted, its password changed "
    "or the token revoked since): log in again"
)


class LoginLapsed(UnauthorizedLogin):
    """The account, password or token a login rested on has changed since."""

    def __init__(self) -> None:
        super().__init__(LAPSED)


@dataclass(frozen=True)
class LoginBasis:
    """What a login rested on: the account and the token's id, or the password hash then."""

    name: str
    tokenId: str | None
    passwordHash: str | None = field(default=None, repr=False)


async def basisOf(store: IAccountStore, name: str, secret: str) -> LoginBasis:
    """
    The basis of a login just accepted for C{name} with C{secret} (a
    password or a token: anything with a token's form was checked as one).
    Fails with L{LoginLapsed} if the account went away meanwhile.
    """
    identifier = tokenId(secret)
    if identifier is not None:
        return LoginBasis(name, identifier)
    try:
        account = await store.getAccount(name)
    except NoSuchAccount:
        raise LoginLapsed() from None
    return LoginBasis(name, None, account.passwordHash)


async def confirm(store: IAccountStore, basis: LoginBasis) -> AccountAvatar:
    """The account as it is now if C{basis} still stands; else L{LoginLapsed}."""
    try:
        account = await store.getAccount(basis.name)
    except NoSuchAccount:
        raise LoginLapsed() from None
    if basis.tokenId is not None:
        record = await store.getToken(basis.tokenId)
        if record is None or record.name != account.name:
            raise LoginLapsed()
    elif basis.passwordHash is None or not hmac.compare_digest(
        account.passwordHash.encode("utf-8"), basis.passwordHash.encode("utf-8")
    ):
        raise LoginLapsed()
    return AccountAvatar(account.name, account.admin)
