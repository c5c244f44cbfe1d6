"""
Authenticated status writes: the one flow every frontend follows (JSON,
XML-RPC, SOAP; the web form and PB can use it too), so that the checks come
in the same order everywhere:

  1. accounts configured (else L{NoAccounts});
  2. credentials only over TLS or from a loopback client (else
     L{InsecureTransport});
  3. credentials given (else L{NoCredentials}), not throttled (else
     L{LoginThrottled}), right (else L{LoginFailed});
  4. the account may write the target (L{finger.accounts.authorise}; else
     L{Forbidden});
  5. a status within L{MAX_STATUS} characters (else L{BadStatus});
  6. the backend stores it (else L{CannotStore}).

A user's own WebFinger entry (L{storeWebFinger}) follows steps 1 to 4 the
same way; then the entry is validated as the C{--webfinger} file is (else
L{BadLinks}), and kept by the account store (else L{NotAnAccount} or
L{CannotStore}).

Each refusal is a L{WriteRefused} with a one-line message for the client
and an C{outcome} for the query log; no message or outcome ever holds a
password or token.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from twisted.cred.credentials import ICredentials
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer

from finger.accounts.cred import FAILED, IAccountAvatar
from finger.accounts.gate import INSECURE, NO_ACCOUNTS, Authenticator, mayCarryCredentials
from finger.accounts.interfaces import AccountError, IAccountWebFinger, NoSuchAccount
from finger.accounts.throttle import Throttled
from finger.frontends.web.webfingerfile import WebFingerEntry, entryDocument, parseUserEntry
from finger.interfaces import (
    IFingerClearService,
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    StoreError,
)
from finger.users import userNameProblem

# The longest status a frontend accepts, in characters (as the SQLite store).
MAX_STATUS = 64 * 1024


class WriteRefused(Exception):
    """A write was refused; C{str()} is one line for the client."""

    outcome = "refused"


class NoAccounts(WriteRefused):
    outcome = "no accounts"

    def __init__(self) -> None:
        super().__init__(NO_ACCOUNTS)


class InsecureTransport(WriteRefused):
    outcome = "refused: not HTTPS or loopback"

    def __init__(self) -> None:
        super().__init__(INSECURE)


class NoCredentials(WriteRefused):
    outcome = "no credentials"

    def __init__(self) -> None:
        super().__init__("this needs credentials: a name and password or an API token")


class LoginFailed(WriteRefused):
    outcome = "login failed"

    def __init__(self) -> None:
        super().__init__(FAILED)


class LoginThrottled(WriteRefused):
    outcome = "throttled"

    def __init__(self, retryAfter: int) -> None:
        super().__init__(f"too many failed logins; try again in {retryAfter} seconds")
        self.retryAfter = retryAfter


class Forbidden(WriteRefused):
    outcome = "forbidden"

    def __init__(self, account: str, target: str, what: str = "status") -> None:
        super().__init__(f"{account} may not write the {what} of {target}")


class BadName(WriteRefused):
    outcome = "bad name"


class BadStatus(WriteRefused):
    outcome = "bad status"


class CannotStore(WriteRefused):
    outcome = "not stored"


class BadLinks(WriteRefused):
    outcome = "bad links"


class NotAnAccount(WriteRefused):
    outcome = "no such account"

    def __init__(self, name: str) -> None:
        super().__init__(f"no such account: {name} (WebFinger links belong to accounts)")


@dataclass(frozen=True)
class Written:
    """A stored write: C{status} is C{None} when it was cleared."""

    account: str
    name: str
    status: str | None
    setAt: float | None


def statusProblem(status: object) -> str | None:
    """Why C{status} cannot be stored, or C{None}."""
    if not isinstance(status, str):
        return "the status must be a string"
    if len(status) > MAX_STATUS:
        return f"the status is longer than {MAX_STATUS} characters"
    return None


async def authenticate(
    authenticator: Authenticator | None,
    credentials: ICredentials | None,
    address: object,
    secure: bool,
) -> IAccountAvatar:
    """Steps 1 to 3: the avatar of whoever C{credentials} name."""
    if authenticator is None:
        raise NoAccounts()
    if not mayCarryCredentials(address, secure):
        raise InsecureTransport()
    if credentials is None:
        raise NoCredentials()
    try:
        return await authenticator.login(credentials, address)
    except Throttled as e:
        raise LoginThrottled(e.retryAfter) from None
    except UnauthorizedLogin:
        raise LoginFailed() from None
    except StoreError as e:  # The accounts could not be read (a database away).
        raise CannotStore(str(e)) from None


def authorise(
    authenticator: Authenticator, avatar: IAccountAvatar, target: str, what: str = "status"
) -> None:
    """Step 4: raise L{Forbidden} unless C{avatar} may write C{target}'s status (or C{what})."""
    if not authenticator.mayWrite(avatar, target):
        raise Forbidden(avatar.name, target, what)


async def store(
    service: IFingerService, account: str, target: str, status: str | None, clock: Any = time
) -> Written:
    """Steps 5 and 6: set (or, for C{None}, clear) C{target}'s status."""
    problem = userNameProblem(target)
    if problem:
        raise BadName(f"invalid user name: {problem}")
    try:
        if status is None:
            if not IFingerClearService.providedBy(service):
                raise CannotStore("this backend cannot clear a status")
            await defer.maybeDeferred(service.clearUser, target)
            return Written(account, target, None, None)
        problem = statusProblem(status)
        if problem:
            raise BadStatus(problem)
        if not IFingerSetterService.providedBy(service):
            raise CannotStore("this backend cannot be written")
        await defer.maybeDeferred(service.setUser, target, status)
    except StoreError as e:
        raise CannotStore(str(e)) from None
    return Written(account, target, status, await _setAt(service, target, status, clock))


async def _setAt(service: IFingerService, name: str, status: str, clock: Any) -> float:
    """When the backend says C{name}'s status was set (now, if it cannot say)."""
    if IFingerDetails.providedBy(service):
        try:
            details = await defer.maybeDeferred(service.getUserDetails, name)
        except Exception:
            details = {}
        if details.get("status") == status and isinstance(details.get("setAt"), float):
            return float(details["setAt"])
    return float(clock.time())


async def publish(
    service: IFingerService,
    authenticator: Authenticator | None,
    credentials: ICredentials | None,
    address: object,
    secure: bool,
    target: str,
    status: str | None,
) -> Written:
    """The whole flow; raise a L{WriteRefused}."""
    avatar = await authenticate(authenticator, credentials, address, secure)
    assert authenticator is not None
    authorise(authenticator, avatar, target)
    return await store(service, avatar.name, target, status)


async def storeWebFinger(
    accounts: IAccountWebFinger | None, target: str, body: bytes | None
) -> WebFingerEntry | None:
    """
    After steps 1 to 4: validate C{body} (a JSON entry shaped like one of
    the C{--webfinger} file's) and keep it as C{target}'s own entry, or
    clear it (C{body} is C{None}); fire with the entry kept.
    """
    problem = userNameProblem(target)
    if problem:
        raise BadName(f"invalid user name: {problem}")
    if accounts is None:
        raise CannotStore("this store keeps no WebFinger links")
    entry = None
    if body is not None:
        try:
            entry = parseUserEntry(body)
        except ValueError as e:
            raise BadLinks(str(e)) from None
    text = None
    if entry is not None:
        text = json.dumps(entryDocument(entry), ensure_ascii=False, separators=(",", ":"))
    try:
        await defer.maybeDeferred(accounts.setWebFinger, target, text)
    except NoSuchAccount:
        raise NotAnAccount(target) from None
    except AccountError as e:
        raise BadLinks(str(e)) from None
    except StoreError as e:
        raise CannotStore(str(e)) from None
    return entry
