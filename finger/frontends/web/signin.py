"""
Signing in on the web: the session cookie, the CSRF token every form
carries, and whether a connection may carry a password.

The cookie holds only the session id (L{finger.frontends.web.sessions}).
It is C{HttpOnly} and C{SameSite=Lax}, with C{Path=/}; over HTTPS it is
C{Secure} and named C{__Host-finger-session} (browsers then refuse to let
any other origin, or plain HTTP, set it), over plain HTTP C{finger-session}.
Each session remembers which kind of connection it began on and is found
only on that kind: a cookie from HTTPS sent over HTTP, or from HTTP sent
over HTTPS, names no session.

Checking passwords, throttling and the authorisation rule are the accounts
core's (L{finger.accounts.gate.Authenticator}); this module only carries
their answers to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer

from finger.accounts.cred import IAccountAvatar
from finger.accounts.gate import Authenticator, mayCarryCredentials
from finger.frontends.web.credentials import clientAddress
from finger.frontends.web.sessions import Session, SessionStore

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

SECURE_COOKIE = b"__Host-finger-session"
PLAIN_COOKIE = b"finger-session"
CSRF_FIELD = b"csrf"


def cookieName(secure: bool) -> bytes:
    """The session cookie's name over HTTPS (C{secure}) or plain HTTP."""
    return SECURE_COOKIE if secure else PLAIN_COOKIE


def formField(request: FingerRequest, name: bytes) -> str | None:
    """A form field given exactly once, as text; C{None} if missing, repeated or not UTF-8."""
    values = request.args.get(name)
    if values is None or len(values) != 1:
        return None
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class SignIn:
    """The web's sign-in: the accounts core's authenticator and the session store."""

    authenticator: Authenticator
    sessions: SessionStore

    def mayTakePasswords(self, request: FingerRequest) -> bool:
        """
        Whether this request came over HTTPS or from a loopback client: the
        client's own scheme and address behind a trusted proxy
        (L{finger.frontends.web.forwarded}), not the proxy's.
        """
        return mayCarryCredentials(clientAddress(request), request.isSecure())

    def login(
        self, request: FingerRequest, name: str, password: str
    ) -> defer.Deferred[IAccountAvatar]:
        """Check C{name} and C{password} (throttled); see L{Authenticator.login}."""
        credentials = UsernamePassword(name.encode("utf-8"), password.encode("utf-8"))
        return self.authenticator.login(credentials, clientAddress(request))

    def current(self, request: FingerRequest) -> Session | None:
        """The session the request's cookie names, if it is live and of this kind of connection."""
        secure = request.isSecure()
        raw = request.getCookie(cookieName(secure))
        if raw is None:
            return None
        try:
            sessionId = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
        return self.sessions.find(sessionId, secure)

    def begin(self, request: FingerRequest, avatar: IAccountAvatar) -> Session:
        """
        A new session for C{avatar}, with a fresh id in the cookie; the
        session the request came with, if any, ends.
        """
        previous = self.current(request)
        if previous is not None:
            self.sessions.end(previous)
        secure = request.isSecure()
        sessionId, session = self.sessions.begin(avatar.name, bool(avatar.admin), secure)
        request.addCookie(
            cookieName(secure),
            sessionId.encode("ascii"),
            path=b"/",
            max_age=str(int(self.sessions.lifetime)).encode("ascii"),
            secure=secure,
            httpOnly=True,
            sameSite="lax",
        )
        return session

    def end(self, request: FingerRequest, session: Session | None) -> None:
        """End C{session} (if any) and tell the browser to forget its cookie."""
        if session is not None:
            self.sessions.end(session)
        secure = request.isSecure()
        request.addCookie(
            cookieName(secure), b"", path=b"/", max_age=b"0",
            secure=secure, httpOnly=True, sameSite="lax",
        )

    def csrfValid(self, request: FingerRequest, session: Session) -> bool:
        """Whether the form posted carries C{session}'s CSRF token."""
        return session.csrfMatches(formField(request, CSRF_FIELD))

    def avatarNow(self, session: Session) -> defer.Deferred[IAccountAvatar]:
        """
        The session's account as it is now, for authorising a write: fails
        with C{UnauthorizedLogin} if it was deleted since the sign-in (the
        accounts core's realm says so), and an admin demoted since is no
        longer one.
        """
        realm = self.authenticator.portal.realm
        d: defer.Deferred[Any] = defer.maybeDeferred(
            realm.requestAvatar, session.name.encode("utf-8"), None, IAccountAvatar
        )
        return d.addCallback(lambda result: result[1])
