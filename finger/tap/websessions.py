"""
Signing in on the web, for C{twistd finger}: the session options and the
session store they make.

With accounts (L{finger.tap.accounts}: C{--store PATH}), the web frontend
offers C{/login} and edit forms; without them it has no forms.
"""

from __future__ import annotations

from typing import Any

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


def webSessions(options: Any) -> SessionStore:
    """The store of web sign-in sessions, bounded as the options say."""
    return SessionStore(
        idle=options["session-idle"],
        lifetime=options["session-lifetime"],
        capacity=options["max-sessions"],
    )
