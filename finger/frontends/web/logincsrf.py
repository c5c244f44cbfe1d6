"""
Login CSRF: the sign-in form must come from this site's own C{/login} page.

Without this, another site could post its own name and password to
C{/login} from a visitor's browser and sign the visitor into the attacker's
account (what the visitor then writes goes to the attacker).  The session's
CSRF token cannot help (there is no session yet), nor can C{SameSite}
(the forged post begins no session that the browser would withhold).

The defence is a double-submit token: C{GET /login} sets a random token
(C{secrets.token_urlsafe(32)}) in a short-lived cookie and puts the same
value in the form's hidden C{csrf} field; C{POST /login} is refused (403,
nothing checked, not counted by the throttle) unless the field equals the
cookie, compared in constant time.  Another site can make a browser post a
field, but can neither read nor set this site's cookie: over HTTPS it is
C{__Host-finger-login} (C{Secure}, C{Path=/}, no C{Domain}: a sibling
subdomain or plain HTTP cannot set it), over plain HTTP (loopback only)
C{finger-login}; always C{HttpOnly} and C{SameSite=Strict}, so a
cross-site post does not even carry it.  It lives C{LIFETIME} seconds; a
page shown again after a refusal carries the same token, and a successful
sign-in clears it.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

SECURE_COOKIE = b"__Host-finger-login"
PLAIN_COOKIE = b"finger-login"
FIELD = b"csrf"
LIFETIME = 60 * 60  # seconds: a sign-in page left open longer asks again
_TOKEN = re.compile(rb"[A-Za-z0-9_-]{43}\Z")


def cookieName(secure: bool) -> bytes:
    """The login cookie's name over HTTPS (C{secure}) or plain HTTP."""
    return SECURE_COOKIE if secure else PLAIN_COOKIE


def _cookieToken(request: FingerRequest) -> bytes | None:
    raw = request.getCookie(cookieName(request.isSecure()))
    return raw if raw is not None and _TOKEN.match(raw) else None


def _setCookie(request: FingerRequest, value: bytes, maxAge: int) -> None:
    secure = request.isSecure()
    request.addCookie(
        cookieName(secure), value, path=b"/", max_age=str(maxAge).encode("ascii"),
        secure=secure, httpOnly=True, sameSite="strict",
    )


def issue(request: FingerRequest) -> str:
    """
    The token for the form about to be shown: the browser's current one if
    it has a well-formed one (several tabs keep working), else a new one;
    the cookie is (re)set either way.
    """
    token = _cookieToken(request) or secrets.token_urlsafe(32).encode("ascii")
    _setCookie(request, token, LIFETIME)
    return token.decode("ascii")


def valid(request: FingerRequest) -> bool:
    """Whether the posted form's C{csrf} field equals the login cookie (constant time)."""
    cookie = _cookieToken(request)
    fields = request.args.get(FIELD)
    if cookie is None or fields is None or len(fields) != 1:
        return False
    return hmac.compare_digest(cookie, fields[0])


def clear(request: FingerRequest) -> None:
    """Tell the browser to forget the login cookie (after a successful sign-in)."""
    _setCookie(request, b"", 0)
