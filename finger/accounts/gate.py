"""
L{Authenticator}: what a frontend needs to accept writes, in one object
(frontends receive it in their settings; the tap layer builds it with
L{buildAuthenticator}).

A frontend calls, in order:
  1. L{mayCarryCredentials}: credentials only over TLS or from a loopback
     client (L{INSECURE} says why otherwise);
  2. L{Authenticator.login}: throttling, then the portal; fires with an
     L{IAccountAvatar} or fails with L{Throttled} or C{UnauthorizedLogin};
  3. L{Authenticator.mayWrite} (L{finger.accounts.authorise.mayWriteStatus}).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.cred.credentials import ICredentials, IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import Portal
from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress

from finger.accounts.authorise import mayWriteStatus
from finger.accounts.cred import (
    FAILED,
    AccountChecker,
    AccountRealm,
    IAccountAvatar,
)
from finger.accounts.hashing import PasswordHashing
from finger.accounts.interfaces import IAccountStore
from finger.accounts.throttle import LoginThrottle, Throttled
from finger.limits import peerKey as defaultPeerKey

INSECURE = (
    "credentials are accepted only over HTTPS or from this host (loopback); "
    "this connection is neither"
)
NO_ACCOUNTS = "no accounts configured: writes need --store with accounts (see finger-admin)"

__all__ = [
    "INSECURE", "NO_ACCOUNTS", "FAILED", "Authenticator", "Throttled", "UnauthorizedLogin",
    "buildAuthenticator", "isLoopback", "mayCarryCredentials",
]


def isLoopback(address: object) -> bool:
    """Whether C{address} (a Twisted address) is this host: loopback IP or a UNIX socket."""
    if isinstance(address, UNIXAddress):
        return True
    if isinstance(address, IPv4Address | IPv6Address):
        try:
            ip = ipaddress.ip_address(address.host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback
    return False


def mayCarryCredentials(address: object, secure: bool) -> bool:
    """Whether a client at C{address} may send a password or token (C{secure}: over TLS)."""
    return secure or isLoopback(address)


def credentialName(credentials: ICredentials) -> str | None:
    """The account name credentials claim (C{None} for a bearer token), for throttling."""
    if IUsernamePassword.providedBy(credentials):
        name = credentials.username
        if isinstance(name, bytes):
            return name.decode("utf-8", "replace")
        return str(name)
    return None


@dataclass(frozen=True)
class Authenticator:
    """
    A portal giving L{IAccountAvatar}s, the login throttle, and the
    function that turns a client address into the key the throttle counts.
    """

    portal: Portal
    throttle: LoginThrottle
    peerKey: Callable[[Any], str | None] = defaultPeerKey
    # The accounts themselves, for checking again that a login still stands
    # (finger.accounts.standing); None: logins are not checked again.
    store: IAccountStore | None = None

    def login(self, credentials: ICredentials, address: object) -> defer.Deferred[IAccountAvatar]:
        """
        Log in from C{address}: fire with the avatar; fail with L{Throttled}
        (not checked: too many failures) or C{UnauthorizedLogin}.
        """
        name = credentialName(credentials)
        peer = self.peerKey(address)
        try:
            self.throttle.check(name, peer)
        except Throttled as e:
            return defer.fail(e)
        d = self.portal.login(credentials, None, IAccountAvatar)

        def loggedIn(result: tuple[Any, IAccountAvatar, Callable[[], None]]) -> IAccountAvatar:
            return result[1]

        def refused(failure: Any) -> IAccountAvatar:
            failure.trap(UnauthorizedLogin)
            self.throttle.failed(name, peer)
            raise UnauthorizedLogin(FAILED)

        return d.addCallbacks(loggedIn, refused)

    @staticmethod
    def mayWrite(avatar: IAccountAvatar, target: str) -> bool:
        """The authorisation rule: L{mayWriteStatus}."""
        return mayWriteStatus(avatar, target)


def buildAuthenticator(
    store: IAccountStore,
    hashing: PasswordHashing | None = None,
    throttle: LoginThrottle | None = None,
    peerKey: Callable[[Any], str | None] = defaultPeerKey,
    clock: Any = None,
) -> Authenticator:
    """An L{Authenticator} over C{store} (defaults: argon2id defaults, 10 failures in 15 minutes)."""
    hashing = PasswordHashing(clock) if hashing is None else hashing
    throttle = LoginThrottle(clock=clock) if throttle is None else throttle
    portal = Portal(AccountRealm(store), [AccountChecker(store, hashing, clock)])
    return Authenticator(portal, throttle, peerKey, store)
