"""
Signing in on the web, for C{twistd finger}: the session options and the
sign-in part of the web settings.

With an account store among the backends (C{--store PATH}), the web
frontend offers C{/login} and edit forms; without one it has no forms.
"""

from __future__ import annotations

from typing import Any

from finger.accounts.gate import Authenticator, buildAuthenticator
from finger.accounts.interfaces import IAccountStore
from finger.backends.chain import ChainFingerService
from finger.coerce import positiveInteger, positiveSeconds
from finger.frontends.web.sessions import (
    DEFAULT_CAPACITY,
    DEFAULT_IDLE,
    DEFAULT_LIFETIME,
    SessionStore,
)


class WebSessionOptions:
    """The web session options of C{twistd finger} (a mixin of its C{Options})."""

    optParameters = [
        ["session-lifetime", None, DEFAULT_LIFETIME,
         "Seconds a web sign-in lasts at most.", positiveSeconds],
        ["session-idle", None, DEFAULT_IDLE,
         "Seconds after which an unused web sign-in ends.", positiveSeconds],
        ["max-sessions", None, DEFAULT_CAPACITY,
         "Most web sign-ins kept at once (the least recently used end first).",
         positiveInteger],
    ]


def accountStore(backend: object) -> IAccountStore | None:
    """The account store among the backends (the first), or C{None}."""
    candidates = backend.backends if isinstance(backend, ChainFingerService) else (backend,)
    for candidate in candidates:
        if IAccountStore.providedBy(candidate):
            return IAccountStore(candidate)
    return None


def webSignIn(
    backend: object, options: Any, authenticator: Authenticator | None = None
) -> dict[str, Any]:
    """
    The sign-in part of the web settings (C{WebSettings(**webSignIn(...))}):
    the authenticator (C{authenticator}, else one over the backends' account
    store) and a session store, when there are accounts.
    """
    if authenticator is None:
        store = accountStore(backend)
        if store is None:
            return {}
        authenticator = buildAuthenticator(store)
    sessions = SessionStore(
        idle=options["session-idle"],
        lifetime=options["session-lifetime"],
        capacity=options["max-sessions"],
    )
    return {"authenticator": authenticator, "sessions": sessions}
