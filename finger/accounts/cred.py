"""
twisted.cred for accounts: a checker for passwords and tokens, a bearer
token credential, and a realm whose avatar is the account's name and admin
flag.

L{AccountChecker} accepts:
  - C{IUsernamePassword} (HTTP Basic, a login form, PB): the password may
    be the account's password or one of its API tokens (anything with a
    token's form, L{finger.accounts.tokens}, is checked as a token);
  - L{IBearerToken} (C{Authorization: Bearer}): a token alone names its
    account.

Every failure is the same C{UnauthorizedLogin("wrong name, password or
token")}, and an unknown name costs an argon2id verification like a wrong
password.  A good login records the time (C{IAccountStore.touch}) and
rehashes a password hashed with old parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import ICredentials, IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface, implementer

from finger.accounts.hashing import PasswordHashing
from finger.accounts.interfaces import Account, IAccountStore, NoSuchAccount
from finger.accounts.tokens import tokenId, tokenMatches
from finger.interfaces import StoreError
from finger.reactors import globalReactor

FAILED = "wrong name, password or token"


class IBearerToken(ICredentials):
    """An API token on its own (C{Authorization: Bearer TOKEN})."""

    token = Attribute("The token, a str.")


@implementer(IBearerToken)
@dataclass(frozen=True)
class BearerToken:
    """L{IBearerToken}."""

    token: str

    def __repr__(self) -> str:
        return "BearerToken(...)"


class IAccountAvatar(Interface):
    """Who logged in."""

    name = Attribute("The account's name, a str.")
    admin = Attribute("Whether the account may write anyone's status, a bool.")


@implementer(IAccountAvatar)
@dataclass(frozen=True)
class AccountAvatar:
    """L{IAccountAvatar}."""

    name: str
    admin: bool


def _text(value: bytes | str) -> str | None:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _avatarId(name: str) -> bytes | tuple[()]:
    return name.encode("utf-8")


@implementer(ICredentialsChecker)
class AccountChecker:
    """
    Checks passwords and tokens against an L{IAccountStore}; the avatar id
    is the account name, UTF-8 encoded.

    @param clock: an C{IReactorTime} for last-used times (default: the
        global reactor).
    """

    credentialInterfaces = (IUsernamePassword, IBearerToken)
    log = Logger()

    def __init__(self, store: IAccountStore, hashing: PasswordHashing, clock: Any = None) -> None:
        self._store = store
        self._hashing = hashing
        self._clock = globalReactor() if clock is None else clock

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[bytes | tuple[()]]:
        """Fire with the account name (bytes), or fail with C{UnauthorizedLogin}."""
        if IBearerToken.providedBy(credentials):
            d = self._checkToken(None, credentials.token)
        elif IUsernamePassword.providedBy(credentials):
            name = _text(credentials.username)
            password = _text(credentials.password)
            if name is None or password is None:
                d = self._checkPassword(None, "")
            elif tokenId(password) is not None:
                d = self._checkToken(name, password)
            else:
                d = self._checkPassword(name, password)
        else:
            return defer.fail(UnauthorizedLogin(FAILED))
        return d.addCallback(_avatarId)

    @defer.inlineCallbacks
    def _checkToken(self, name: str | None, token: str) -> Any:
        identifier = tokenId(token) if isinstance(token, str) else None
        record = None if identifier is None else (yield self._store.getToken(identifier))
        if record is None or not tokenMatches(token, record.tokenHash):
            raise UnauthorizedLogin(FAILED)
        if name is not None and name != record.name:
            raise UnauthorizedLogin(FAILED)
        yield self._touch(record.name, record.id)
        return record.name

    @defer.inlineCallbacks
    def _checkPassword(self, name: str | None, password: str) -> Any:
        account: Account | None = None
        if name is not None:
            try:
                account = yield self._store.getAccount(name)
            except NoSuchAccount:
                account = None
        good = yield self._hashing.verify(None if account is None else account.passwordHash, password)
        if not good or account is None:
            raise UnauthorizedLogin(FAILED)
        yield self._touch(account.name, None)
        if self._hashing.needsRehash(account.passwordHash):
            newHash = yield self._hashing.hash(password)
            # The new hash is an improvement, not a condition: a store that
            # cannot take it (a full disk) does not refuse a right password.
            yield self._store.setPasswordHash(account.name, newHash).addErrback(
                self._notRecorded, "new password hash", account.name
            )
        return account.name

    def _touch(self, name: str, identifier: str | None) -> defer.Deferred[None]:
        d = self._store.touch(name, identifier, self._clock.seconds())
        return d.addErrback(self._notRecorded, "login", name)  # A login does not fail for this.

    def _notRecorded(self, failure: Failure, what: str, name: str) -> None:
        """Log (one line when the store refused it, as on a full disk) and carry on."""
        if failure.check(StoreError):
            self.log.warn(
                "Could not record the {what} of {name!r}: {error}",
                what=what, name=name, error=failure.getErrorMessage(),
            )
        else:
            self.log.failure("Could not record the {what} of {name!r}", failure, what=what, name=name)


@implementer(IRealm)
class AccountRealm:
    """
    Gives an L{IAccountAvatar} (name and admin flag, read from the store at
    login).  Other avatar interfaces (a PB perspective, a web session) wrap
    it: ask for L{IAccountAvatar} and build on the result.
    """

    def __init__(self, store: IAccountStore) -> None:
        self._store = store

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        if IAccountAvatar not in interfaces:
            raise NotImplementedError("AccountRealm gives only IAccountAvatar")
        name = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else avatarId

        def found(account: Account) -> tuple[Any, AccountAvatar, Any]:
            return IAccountAvatar, AccountAvatar(account.name, account.admin), lambda: None

        def gone(failure: Any) -> None:
            failure.trap(NoSuchAccount)  # Deleted since the check.
            raise UnauthorizedLogin(FAILED)

        return self._store.getAccount(name).addCallbacks(found, gone)
