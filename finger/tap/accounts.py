"""
Accounts on the command line: C{--login-max-failures}, C{--login-window},
and the L{Authenticator} the write frontends share.

Accounts live in a store that keeps them (C{--store}: an
L{IAccountStore}); the accounts themselves are made with C{finger-admin}.
Without such a store (C{--memory}, C{--file}...) there are no accounts and
every authenticated write is refused ("no accounts configured").
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from finger.accounts.gate import Authenticator, buildAuthenticator
from finger.accounts.interfaces import IAccountStore
from finger.accounts.throttle import DEFAULT_MAX_FAILURES, DEFAULT_WINDOW, LoginThrottle
from finger.backends.chain import ChainFingerService
from finger.coerce import positiveInteger, positiveSeconds
from finger.interfaces import IFingerSetterService
from finger.limits import peerKey

log = Logger()


class AccountsOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["login-max-failures", None, DEFAULT_MAX_FAILURES,
         "Failed logins per account name, and per client address, before further "
         "logins are refused for --login-window.", positiveInteger],
        ["login-window", None, DEFAULT_WINDOW,
         "The window (seconds) in which failed logins are counted.", positiveSeconds],
    ]


def accountStoreOf(backend: object) -> IAccountStore | None:
    """The backend, or the first backend of a chain, that keeps accounts."""
    if IAccountStore.providedBy(backend):
        return backend
    if isinstance(backend, ChainFingerService):
        for inner in backend.backends:
            if IAccountStore.providedBy(inner):
                return inner
    return None


def authenticatorFor(backend: object, options: Any) -> Authenticator | None:
    """
    The L{Authenticator} for the backend's accounts, or C{None} when it
    keeps none or cannot be written (writes are then refused).
    """
    store = accountStoreOf(backend)
    if store is None or not IFingerSetterService.providedBy(backend):
        log.info("No accounts (they need --store): authenticated writes are refused")
        return None
    throttle = LoginThrottle(options["login-max-failures"], options["login-window"])
    # The throttle counts client addresses as the connection limits do
    # (IPv6 by --ipv6-prefix, a /64 by default).
    limits = options.limits
    return buildAuthenticator(
        store, throttle=throttle, peerKey=lambda address: peerKey(address, limits)
    )
