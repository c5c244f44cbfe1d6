"""
The HTML pages: the user list (C{/}, a page at a time), one user
(C{/NAME}) and the error pages, rendered from the templates with
C{twisted.web.template}, which escapes every value it is given.

With accounts (a L{SignIn}), every page's header shows who is signed in
(and a sign-out button) or a sign-in link, and the page of a user the
signed-in account may write shows an edit form (C{edit.html}) whose POST,
with the session's CSRF token, sets the status and answers 303 back to the
page.  The write is authorised again against the account as it is now
(L{SignIn.avatarNow}, the accounts core's rule), and logged as one query-log
event naming the account and the target.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.web import resource
from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET
from twisted.web.template import Element, Tag, TagLoader, flattenString, renderer

from finger.frontends import publish
from finger.frontends.lookup import getLocalUser, listingView, lookupFailedMessage, statusOrNone
from finger.frontends.web.rendercache import RenderCache
from finger.frontends.web.respond import (
    LOOKUP_FAILED,
    displayStatus,
    runAsync,
    send,
    succeeded,
)
from finger.frontends.web.sessions import Session
from finger.frontends.web.signin import SignIn, formField
from finger.frontends.web.templates import Templates
from finger.frontends.web.urls import listPath, userPath
from finger.interfaces import IFingerService, LookupFailed, UserNotFound
from finger.text import stripControls

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

PAGE_SIZE = 50
HTML = b"text/html; charset=utf-8"
DOCTYPE = b"<!DOCTYPE html>\n"
STALE_FORM = (
    "This form is out of date or did not come from this site (its security "
    "token is missing or belongs to another session). Reload the page and try again."
)
NOT_SIGNED_IN = "Sign in to change a status: your session has ended or you never signed in."
NOT_YOURS = "You may change only your own status."


@dataclass(frozen=True)
class Entry:
    """One user as listed: name, printable status, and page path (or None)."""

    name: str
    status: str
    path: str | None


class LayoutElement(Element):
    """
    The shared page layout (C{layout.html}) around one page's content, with
    the account bar when the site has accounts (C{signIn}): C{viewer} is
    the session of the browser asking, if any.
    """

    def __init__(
        self,
        templates: Templates,
        title: str,
        content: Element | list[Element],
        signIn: SignIn | None = None,
        viewer: Session | None = None,
    ) -> None:
        super().__init__(templates.loader("layout.html"))
        self.title = title
        self.body = content
        self.signIn = signIn
        self.viewer = viewer

    @renderer
    def page(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag.fillSlots(title=self.title)

    @renderer
    def content(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag(self.body)

    @renderer
    def account(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag if self.signIn is not None else ""

    @renderer
    def signedIn(self, request: IRequest | None, tag: Tag) -> Tag | str:
        if self.viewer is None:
            return ""
        return tag.fillSlots(name=stripControls(self.viewer.name), csrf=self.viewer.csrf)

    @renderer
    def signedOut(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag if self.viewer is None else ""

    @renderer
    def me(self, request: IRequest | None, tag: Tag) -> Tag:
        path = userPath(self.viewer.name) if self.viewer is not None else None
        return tag(href=path) if path else tag


class UsersElement(Element):
    """One page of the user list (C{users.html})."""

    def __init__(
        self, templates: Templates, entries: list[Entry], page: int, pages: int, total: int
    ) -> None:
        super().__init__(templates.loader("users.html"))
        self.entries = entries
        self.page = page
        self.pages = pages
        self.total = total

    @renderer
    def users(self, request: IRequest | None, tag: Tag) -> Tag:
        if self.total == 0:
            summary = "No one is here yet."
        elif self.total == 1:
            summary = "1 user."
        else:
            summary = f"{self.total:,} users, by name."
        return tag.fillSlots(summary=summary)

    @renderer
    def list(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag if self.entries else ""

    @renderer
    def user(self, request: IRequest | None, tag: Tag) -> Iterator[UserEntryElement]:
        for entry in self.entries:
            filled = tag.clone().fillSlots(name=entry.name, status=entry.status)
            yield UserEntryElement(TagLoader(filled), entry.path)

    @renderer
    def pager(self, request: IRequest | None, tag: Tag) -> Tag | str:
        if self.pages <= 1:
            return ""
        return tag.fillSlots(page=f"{self.page:,}", pages=f"{self.pages:,}")

    @renderer
    def previous(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag(href=listPath(self.page - 1)) if self.page > 1 else ""

    @renderer
    def next(self, request: IRequest | None, tag: Tag) -> Tag | str:
        return tag(href=listPath(self.page + 1)) if self.page < self.pages else ""


class UserEntryElement(Element):
    """One user in the list; the name links to their page when they have one."""

    def __init__(self, loader: TagLoader, path: str | None) -> None:
        super().__init__(loader)
        self.path = path

    @renderer
    def link(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag(href=self.path) if self.path else tag


class UserElement(Element):
    """One user's page (C{user.html})."""

    def __init__(self, templates: Templates, name: str, status: str) -> None:
        super().__init__(templates.loader("user.html"))
        self.name = name
        self.status = status

    @renderer
    def user(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag.fillSlots(name=self.name, status=self.status)


class EditElement(Element):
    """The form that edits a status (C{edit.html}), carrying the session's CSRF token."""

    def __init__(self, templates: Templates, name: str, status: str, viewer: Session) -> None:
        super().__init__(templates.loader("edit.html"))
        self.name = name
        self.status = status
        self.viewer = viewer

    @renderer
    def edit(self, request: IRequest | None, tag: Tag) -> Tag:
        own = self.viewer.name == self.name
        label = "Your status" if own else f"Status of {stripControls(self.name)}"
        return tag.fillSlots(
            action=userPath(self.name) or "/",
            csrf=self.viewer.csrf,
            label=label,
            status=self.status,
        )


class ErrorElement(Element):
    """An error page's content (C{error.html})."""

    def __init__(self, templates: Templates, heading: str, message: str) -> None:
        super().__init__(templates.loader("error.html"))
        self.heading = heading
        self.message = message

    @renderer
    def error(self, request: IRequest | None, tag: Tag) -> Tag:
        return tag.fillSlots(heading=self.heading, message=self.message)


async def renderPage(
    request: FingerRequest,
    templates: Templates,
    code: int,
    title: str,
    content: Element | list[Element],
    outcome: str | None = None,
    signIn: SignIn | None = None,
) -> bytes:
    """Render C{content} inside the layout and send it as one response; returns the page."""
    viewer = signIn.current(request) if signIn is not None else None
    layout = LayoutElement(templates, title, content, signIn, viewer)
    body = DOCTYPE + await flattenString(request, layout)
    send(request, code, HTML, body, outcome)
    return body


def redirect(request: FingerRequest, path: str) -> int:
    """Answer 303 See Other to C{path} (after a form's POST); returns C{NOT_DONE_YET}."""
    request.setHeader(b"Location", path.encode("utf-8"))
    send(request, 303, b"text/plain; charset=utf-8", b"See " + path.encode("utf-8") + b"\n")
    return NOT_DONE_YET


def serverError(request: FingerRequest) -> None:
    """The last resort when a page could not be rendered."""
    send(
        request,
        500,
        b"text/plain; charset=utf-8",
        b"Internal error; it has been logged.\n",
        "error",
    )


class HTMLPage(resource.Resource):
    """Base for the pages: they are leaves, served from the site's templates."""

    isLeaf = True
    frontend = "web"

    def __init__(
        self, service: IFingerService, templates: Templates, signIn: SignIn | None = None
    ) -> None:
        super().__init__()
        self.service = service
        self.templates = templates
        self.signIn = signIn

    async def renderError(
        self, request: FingerRequest, code: int, heading: str, message: str, outcome: str
    ) -> None:
        """Render an error page (C{error.html}) in the layout."""
        content = ErrorElement(self.templates, heading, message)
        await renderPage(request, self.templates, code, heading, content, outcome, self.signIn)

    def errorPage(
        self, request: FingerRequest, code: int, heading: str, message: str, outcome: str
    ) -> int:
        """Answer with an error page; returns C{NOT_DONE_YET} for C{render}."""
        return runAsync(
            request, self.renderError(request, code, heading, message, outcome), serverError
        )

    def notFound(self, request: FingerRequest, message: str = "There is no such page here.") -> int:
        """Answer with a 404 page; returns C{NOT_DONE_YET} for C{render}."""
        return self.errorPage(request, 404, "Not found", message, "not found")

    def forbidden(self, request: FingerRequest, message: str, outcome: str) -> int:
        """Answer with a 403 page; returns C{NOT_DONE_YET} for C{render}."""
        return self.errorPage(request, 403, "Forbidden", message, outcome)


class NotFoundPage(HTMLPage):
    """A 404 page for any path that names nothing, whatever the method."""

    def __init__(
        self,
        service: IFingerService,
        templates: Templates,
        message: str = "There is no such page here.",
        signIn: SignIn | None = None,
    ) -> None:
        super().__init__(service, templates, signIn)
        self.message = message

    def render(self, request: FingerRequest) -> int:
        return self.notFound(request, self.message)


class UsersPage(HTMLPage):
    """C{/}: the users and their statuses, C{PAGE_SIZE} at a time, by name."""

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath:
            return self.notFound(request)
        given = request.args.get(b"page", [b"1"])
        if len(given) != 1 or not given[0].isdigit() or len(given[0]) > 9 or int(given[0]) < 1:
            message = "The page number must be a whole number from 1 up."
            return self.errorPage(request, 400, "Bad request", message, "bad request")
        return runAsync(request, self._render(request, int(given[0])), serverError)

    async def _render(self, request: FingerRequest, page: int) -> None:
        view = listingView(self.service)  # the names and statuses of one version
        names = await defer.maybeDeferred(view.getUsers)
        total = len(names)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if page > pages:
            message = f"There is no page {page}; the last page is {pages}."
            await self.renderError(request, 404, "Not found", message, "no such page")
            return
        # The backend's sorted sequence is shared: slice it, never copy it.
        window = names[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        statuses = await defer.gatherResults(
            [statusOrNone(view, name) for name in window],
            consumeErrors=True,
        )
        entries = [
            Entry(stripControls(name), displayStatus(status), userPath(name))
            for name, status in zip(window, statuses, strict=True)
            if status is not None
        ]
        title = "Everyone" if page == 1 else f"Everyone, page {page}"
        content = UsersElement(self.templates, entries, page, pages, total)
        outcome = f"page {page} of {pages}"
        await renderPage(request, self.templates, 200, title, content, outcome, self.signIn)


class UserPage(HTMLPage):
    """C{/NAME}: one user's status; with the edit form for an account that may write it."""

    def __init__(
        self,
        service: IFingerService,
        templates: Templates,
        name: str,
        signIn: SignIn | None = None,
        cache: RenderCache[bytes] | None = None,
    ) -> None:
        super().__init__(service, templates, signIn)
        self.name = name
        self.cache = cache

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath:
            return self.notFound(request)
        viewer = self.signIn.current(request) if self.signIn is not None else None
        looked = getLocalUser(self.service, self.name)
        status = succeeded(looked)  # a backend that answers at once: no coroutine
        if status is not None and self._sendCached(request, viewer, status):
            return NOT_DONE_YET
        return runAsync(request, self._render(request, viewer, looked), serverError)

    def _sendCached(self, request: FingerRequest, viewer: Session | None, status: str) -> bool:
        """
        Send the page everyone who is not signed in sees, as rendered
        before for this very status (looked up now, so a change shows at
        once), if there is one; whether it was sent.
        """
        if viewer is not None or self.cache is None:
            return False
        page = self.cache.get(self.name, status)
        if page is None:
            return False
        send(request, 200, HTML, page, "found")
        return True

    async def _render(
        self, request: FingerRequest, viewer: Session | None, looked: defer.Deferred[str]
    ) -> None:
        editable = viewer is not None and (viewer.admin or viewer.name == self.name)
        try:
            status = await looked
        except UserNotFound:
            if not editable:
                message = f"There is no user called {stripControls(self.name)}."
                await self.renderError(request, 404, "No such user", message, "no such user")
                return
            status = ""  # an account without a status yet: its owner may set one
        except LookupFailed as e:
            reason = lookupFailedMessage(e)
            message = (
                f"The status of {stripControls(self.name)} is kept elsewhere, "
                f"and asking for it failed. {reason}"
            )
            await self.renderError(request, LOOKUP_FAILED, "Lookup failed", message, reason)
            return
        if self._sendCached(request, viewer, status):
            return
        name = stripControls(self.name)
        shown = displayStatus(status)
        content: list[Element] = [UserElement(self.templates, name, shown)]
        if viewer is not None and editable:
            content.append(EditElement(self.templates, self.name, shown, viewer))
        page = await renderPage(request, self.templates, 200, name, content, "found", self.signIn)
        if viewer is None and self.cache is not None:
            # Never a signed-in page: its account bar and form carry the session's CSRF token.
            self.cache.put(self.name, status, page, len(page))

    def render_POST(self, request: FingerRequest) -> int:
        """The edit form: set the status, then 303 back to the page."""
        request.query = f"POST {userPath(self.name) or '?'}"  # never the form's fields
        request.target = self.name
        if request.postpath:
            return self.notFound(request)
        if self.signIn is None:
            request.setHeader(b"Allow", b"GET, HEAD")
            message = "Statuses cannot be changed here: this service has no accounts."
            return self.errorPage(request, 405, "Not allowed", message, "no accounts")
        session = self.signIn.current(request)
        if session is None:
            return self.forbidden(request, NOT_SIGNED_IN, "refused: not signed in")
        request.account = session.name
        if not self.signIn.csrfValid(request, session):
            return self.forbidden(request, STALE_FORM, "refused: no or wrong CSRF token")
        status = formField(request, b"status")
        if status is None:
            message = "The form must carry one status, as UTF-8 text."
            return self.errorPage(request, 400, "Bad request", message, "bad request")
        # Browsers send a textarea's line ends as CR LF.
        status = status.replace("\r\n", "\n").replace("\r", "\n")
        work = self._set(request, self.signIn, session, status)
        return runAsync(request, work, serverError)

    async def _set(
        self, request: FingerRequest, signIn: SignIn, session: Session, status: str
    ) -> None:
        """Authorise (the account as it is now) and store, as every frontend does."""
        try:
            avatar = await signIn.avatarNow(session)
        except UnauthorizedLogin:  # the account was deleted since the sign-in
            signIn.end(request, session)
            await self.renderError(
                request, 403, "Forbidden", NOT_SIGNED_IN, "refused: no such account"
            )
            return
        try:
            publish.authorise(signIn.authenticator, avatar, self.name)
            await publish.store(self.service, avatar.name, self.name, status)
        except publish.Forbidden as refusal:
            await self.renderError(request, 403, "Forbidden", NOT_YOURS, refusal.outcome)
            return
        except publish.WriteRefused as refusal:
            code = 503 if isinstance(refusal, publish.CannotStore) else 400
            message = f"The status was not saved: {refusal}."
            await self.renderError(request, code, "Not saved", message, refusal.outcome)
            return
        request.outcome = "set"
        redirect(request, userPath(self.name) or "/")
