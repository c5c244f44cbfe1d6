"""The web frontend's URL space: reserved paths and where each user's page is."""

from __future__ import annotations

from urllib.parse import quote

XMLRPC = "RPC2"
API = "api"
WELL_KNOWN = ".well-known"
STATIC = "static"
SOAP = "soap"
LOGIN = "login"
LOGOUT = "logout"

# These paths take precedence over user names: a user called "api" has no
# page at /api (the list and the machine interfaces still show them).
RESERVED = frozenset({XMLRPC, API, WELL_KNOWN, STATIC, SOAP, LOGIN, LOGOUT})
# Browsers resolve these path segments away, even percent-encoded.
_DOT_SEGMENTS = frozenset({".", ".."})


def userPath(name: str) -> str | None:
    """The path of C{name}'s page, or C{None} if a reserved path hides it."""
    if name in RESERVED or name in _DOT_SEGMENTS:
        return None
    return "/" + quote(name, safe="")


def listPath(page: int) -> str:
    """The path of page C{page} (from 1) of the user list."""
    return "/" if page == 1 else f"/?page={page}"
