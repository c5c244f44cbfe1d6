"""
C{/login} and C{/logout}: signing in and out in a browser, with forms
(no script needed).

  - C{GET /login}: the form (C{name}, C{password}, and the hidden login
    CSRF token of L{finger.frontends.web.logincsrf}); over plain HTTP from
    another host, a page that says why there is no form.
  - C{POST /login}: a good password begins a session (a fresh id in the
    cookie, see L{finger.frontends.web.signin}) and answers 303 to the
    user's page; a wrong name or password is 403 (one answer for both);
    too many failures 429 with C{Retry-After} (the accounts core's
    throttle); a password over plain HTTP from another host is refused
    unread (403); a post without this site's login token (a form
    forged on another site) is refused unread (403) with a fresh form.
  - C{POST /logout} with the session's CSRF token ends the session and
    answers 303 to C{/}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.cred.error import UnauthorizedLogin
from twisted.web.iweb import IRequest
from twisted.web.template import Element, Tag, renderer

from finger.accounts.gate import Throttled
from finger.frontends.web import logincsrf
from finger.frontends.web.pages import STALE_FORM, HTMLPage, redirect, renderPage, serverError
from finger.frontends.web.respond import runAsync
from finger.frontends.web.signin import SignIn, formField
from finger.frontends.web.templates import Templates
from finger.frontends.web.urls import userPath
from finger.interfaces import IFingerService
from finger.text import stripControls

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

INSECURE = (
    "Passwords are taken only over HTTPS, or from this host. This connection "
    "is plain HTTP from another host, where anyone on the way could read the "
    "password: open this page at the service's https:// address."
)
NO_ACCOUNTS = (
    "This service has no accounts, so no one can sign in. Its administrator "
    "can add them with finger-admin and start the service with --store."
)
WRONG = "Wrong name or password."
FORGED = (
    "This sign-in was not sent from this site's sign-in form (it may come from "
    "another site, or the form is more than an hour old), so it was not checked. "
    "Sign in again below."
)
MAX_FIELD = 1024  # characters, for the name and the password


def waitText(seconds: int) -> str:
    """C{seconds} as people say it: "45 seconds", "3 minutes"."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


class LoginElement(Element):
    """The sign-in page (C{login.html}): a message and, when passwords may be sent, the form."""

    def __init__(
        self, templates: Templates, message: str | None, showForm: bool, name: str = "",
        token: str = "",
    ) -> None:
        super().__init__(templates.loader("login.html"))
        self.messageText = message
        self.showForm = showForm
        self.nameGiven = name
        self.token = token

    @renderer
    def login(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag

    @renderer
    def message(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag.fillSlots(message=self.messageText) if self.messageText else ""

    @renderer
    def form(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag if self.showForm else ""

    @renderer
    def loginToken(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag(value=self.token)

    @renderer
    def name(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag(value=self.nameGiven) if self.nameGiven else tag


class LoginPage(HTMLPage):
    """C{/login}."""

    def __init__(
        self, service: IFingerService, templates: Templates, signIn: SignIn | None
    ) -> None:
        super().__init__(service, templates, signIn)

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath:
            return self.notFound(request)
        if self.signIn is None:
            return self.showLogin(request, 404, NO_ACCOUNTS, False, "no accounts")
        if not self.signIn.mayTakePasswords(request):
            return self.showLogin(request, 200, INSECURE, False, "insecure connection")
        return self.showLogin(request, 200, None, True)

    def render_POST(self, request: FingerRequest) -> int:
        request.query = "POST /login"  # never the form: it holds the password
        if request.postpath:
            return self.notFound(request)
        if self.signIn is None:
            return self.showLogin(request, 404, NO_ACCOUNTS, False, "no accounts")
        if not self.signIn.mayTakePasswords(request):
            return self.showLogin(request, 403, INSECURE, False, "refused: insecure connection")
        if not logincsrf.valid(request):
            return self.showLogin(request, 403, FORGED, True, "refused: no or wrong login token")
        name = formField(request, b"name")
        password = formField(request, b"password")
        if not name or not password or len(name) > MAX_FIELD or len(password) > MAX_FIELD:
            message = "Give your name and your password."
            return self.showLogin(request, 400, message, True, "bad request", name or "")
        return runAsync(request, self._login(request, self.signIn, name, password), serverError)

    async def _login(
        self, request: FingerRequest, signIn: SignIn, name: str, password: str
    ) -> None:
        shown = stripControls(name)
        try:
            avatar = await signIn.login(request, name, password)
        except Throttled as e:
            request.setHeader(b"Retry-After", b"%d" % (e.retryAfter,))
            message = (
                f"Too many failed sign-ins for this name or from this address. "
                f"Try again in {waitText(e.retryAfter)}."
            )
            outcome = f"refused for {shown!r}: throttled for {e.retryAfter} s"
            await self.renderLogin(request, 429, message, True, outcome, name)
            return
        except UnauthorizedLogin:
            await self.renderLogin(request, 403, WRONG, True, f"refused for {shown!r}", name)
            return
        logincsrf.clear(request)
        signIn.begin(request, avatar)
        request.outcome = f"signed in as {avatar.name!r}"
        redirect(request, userPath(avatar.name) or "/")

    def showLogin(
        self, request: FingerRequest, code: int, message: str | None, form: bool,
        outcome: str | None = None, name: str = "",
    ) -> int:
        work = self.renderLogin(request, code, message, form, outcome, name)
        return runAsync(request, work, serverError)

    async def renderLogin(
        self, request: FingerRequest, code: int, message: str | None, form: bool,
        outcome: str | None, name: str = "",
    ) -> None:
        token = logincsrf.issue(request) if form else ""
        request.setHeader(b"Cache-Control", b"no-store")
        content = LoginElement(self.templates, message, form, stripControls(name), token)
        await renderPage(request, self.templates, code, "Sign in", content, outcome, self.signIn)


class LogoutPage(HTMLPage):
    """C{/logout}: POST with the session's CSRF token ends the session."""

    def render_POST(self, request: FingerRequest) -> int:
        if request.postpath or self.signIn is None:
            return self.notFound(request)
        session = self.signIn.current(request)
        if session is None:
            self.signIn.end(request, None)  # forget a stale cookie
            request.outcome = "not signed in"
            return redirect(request, "/")
        if not self.signIn.csrfValid(request, session):
            return self.forbidden(request, STALE_FORM, "refused: no or wrong CSRF token")
        self.signIn.end(request, session)
        request.outcome = f"signed out {session.name!r}"
        return redirect(request, "/")
