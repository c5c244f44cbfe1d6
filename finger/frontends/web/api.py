"""
The JSON API under C{/api/}:

  - C{GET /api/users?offset=0&limit=100} gives
    C{{"users": [names], "total": N, "next": path of the next page or null}};
  - C{GET /api/users/NAME} gives C{{"name": NAME, "status": STATUS}};
  - C{GET /api/users/NAME/status} gives C{{"name", "status", "setAt"}}
    (C{setAt}: Unix time, or null when the backend does not know);
  - C{PUT /api/users/NAME/status} with C{Authorization: Bearer TOKEN} (or
    Basic) and the body C{{"status": "..."}} sets it and answers 200 with
    C{{"name", "status", "setAt"}}; C{DELETE} clears it and answers 200
    with C{{"name": NAME, "status": null, "setAt": null}};
  - C{GET /api/users/NAME/webfinger} gives the account's own WebFinger entry
    C{{"aliases": [...], "links": [...], "properties": {...}}} (empty when
    unset; 404 without such an account); C{PUT} with such an entry (the shape
    of a C{--webfinger} file entry, at most 16 KiB and 32 links) replaces it
    and answers 200 with it, C{DELETE} clears it.  Who may write it, and
    how, is as for the status; WebFinger answers merge it with the
    operator's (L{finger.frontends.web.webfinger.mergeEntries}).

Errors are JSON too: C{{"error": "..."}} with 404 for an unknown user or
path, 400 for bad parameters and 502 when the backend could not get the
status from where it is kept (L{LookupFailed}: the error is its message).
Writes (L{finger.frontends.publish}) answer 401 with C{WWW-Authenticate:
Bearer} without or with wrong credentials, 403 for another user's status,
without accounts (C{--memory}) or for credentials over plain HTTP from
another host, 429 with C{Retry-After} when throttled, 400 for bad JSON, a
missing C{status} or one over 64 KiB characters, or an entry the WebFinger
validator refuses, 404 for WebFinger links of a name with no account, 503
when the store failed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.web import resource
from twisted.web.server import NOT_DONE_YET

from finger.accounts.gate import Authenticator
from finger.accounts.interfaces import IAccountWebFinger, NoSuchAccount
from finger.frontends import publish
from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web.credentials import clientAddress, credentialsFrom
from finger.frontends.web.rendercache import RenderCache
from finger.frontends.web.respond import (
    JSON,
    LOOKUP_FAILED,
    displayStatus,
    entityTag,
    jsonBody,
    runAsync,
    sendJSON,
    sendReadOnly,
    succeeded,
)
from finger.frontends.web.webfingerfile import WebFingerEntry, entryDocument, parseUserEntry
from finger.interfaces import IFingerDetails, IFingerService, LookupFailed, StoreError, UserNotFound

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class BadParameter(ValueError):
    """A query parameter breaks its rules; the message says which and why."""


def wholeNumber(
    request: FingerRequest, name: str, default: int, lowest: int, highest: int | None = None
) -> int:
    """Read query parameter C{name} as an integer within bounds."""
    given = request.args.get(name.encode("ascii"))
    if given is None:
        return default
    if len(given) != 1:
        raise BadParameter(f"{name} is given {len(given)} times; give it once")
    raw = given[0].decode("utf-8", "replace")
    rule = f"from {lowest} to {highest}" if highest is not None else f"from {lowest} up"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadParameter(f"{name} must be a whole number {rule}, not {raw!r}")
    value = int(raw)
    if value < lowest or (highest is not None and value > highest):
        raise BadParameter(f"{name} must be a whole number {rule}, not {value}")
    return value


def apiError(request: FingerRequest, code: int, message: str, outcome: str) -> int:
    """Answer with a JSON error; returns C{NOT_DONE_YET} for C{render}."""
    sendJSON(request, code, {"error": message}, outcome=outcome)
    return NOT_DONE_YET


def lookupError(request: FingerRequest, name: str, error: UserNotFound | LookupFailed) -> None:
    """Answer a failed lookup of C{name}: 404 if there is no such user."""
    if isinstance(error, UserNotFound):
        apiError(request, 404, f"no such user: {name}", "no such user")
    else:
        message = lookupFailedMessage(error)
        apiError(request, LOOKUP_FAILED, message, message)


def apiServerError(request: FingerRequest) -> None:
    """The last resort when an API answer could not be made."""
    apiError(request, 500, "internal error; it has been logged", "error")


class APIResource(resource.Resource):
    """
    Base for the API's resources (logged as the C{api} frontend);
    C{accounts} decides who may write (C{None}: nobody); C{webfinger} keeps
    the accounts' own WebFinger entries (C{None}: no accounts).
    """

    frontend = "api"

    def __init__(
        self,
        service: IFingerService,
        accounts: Authenticator | None = None,
        webfinger: IAccountWebFinger | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.accounts = accounts
        self.webfinger = webfinger


class APINotFound(APIResource):
    """A JSON 404 for any path under C{/api/} that names nothing."""

    isLeaf = True

    def render(self, request: FingerRequest) -> int:
        return apiError(request, 404, "no such resource; see /api/users", "not found")


class APIRoot(APIResource):
    """C{/api/}: C{users}, and C{events} when given (see L{finger.frontends.web.events})."""

    def __init__(
        self,
        service: IFingerService,
        events: resource.Resource | None = None,
        accounts: Authenticator | None = None,
        webfinger: IAccountWebFinger | None = None,
    ) -> None:
        super().__init__(service, accounts, webfinger)
        self.events = events
        # Each user's document and its entity tag, for the status they were made from.
        self.documents: RenderCache[tuple[bytes, bytes]] = RenderCache()

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path == b"users":
            return UsersCollection(self.service, self.accounts, self.webfinger, self.documents)
        if path == b"events" and self.events is not None:
            return self.events
        return APINotFound(self.service)

    def render(self, request: FingerRequest) -> int:
        return APINotFound(self.service).render(request)


class UsersCollection(APIResource):
    """C{/api/users}: the names, C{limit} at a time from C{offset}."""

    def __init__(
        self,
        service: IFingerService,
        accounts: Authenticator | None = None,
        webfinger: IAccountWebFinger | None = None,
        documents: RenderCache[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(service, accounts, webfinger)
        self.documents = documents

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path == b"":
            return self  # /api/users/ is the collection too
        try:
            name = path.decode("utf-8")
        except UnicodeDecodeError:
            return APINotFound(self.service)
        if request.postpath == [b"status"]:
            return StatusDocument(self.service, name, self.accounts)
        if request.postpath == [b"webfinger"]:
            return WebFingerDocument(self.service, name, self.accounts, self.webfinger)
        return UserDocument(self.service, name, self.documents)

    def render_GET(self, request: FingerRequest) -> int:
        try:
            offset = wholeNumber(request, "offset", 0, 0)
            limit = wholeNumber(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        except BadParameter as e:
            return apiError(request, 400, str(e), "bad request")
        return runAsync(request, self._render(request, offset, limit), apiServerError)

    async def _render(self, request: FingerRequest, offset: int, limit: int) -> None:
        names = await defer.maybeDeferred(self.service.getUsers)
        window = list(names[offset : offset + limit])
        following = offset + limit
        document = {
            "users": window,
            "total": len(names),
            "next": (
                f"/api/users?offset={following}&limit={limit}" if following < len(names) else None
            ),
        }
        sendJSON(request, 200, document, outcome=f"{len(window)} users")


class UserDocument(APIResource):
    """C{/api/users/NAME}: one user's status."""

    isLeaf = True

    def __init__(
        self,
        service: IFingerService,
        name: str,
        documents: RenderCache[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(service)
        self.name = name
        self.documents = documents if documents is not None else RenderCache(maxEntries=1)

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath:
            return APINotFound(self.service).render(request)
        looked = getLocalUser(self.service, self.name)
        status = succeeded(looked)  # a backend that answers at once: no coroutine
        if status is not None:
            self._send(request, status)
            return NOT_DONE_YET
        return runAsync(request, self._render(request, looked), apiServerError)

    def _send(self, request: FingerRequest, status: str) -> None:
        """Answer with the document for C{status}, made once per status (and its ETag)."""
        made = self.documents.get(self.name, status)
        if made is None:
            body = jsonBody({"name": self.name, "status": displayStatus(status)})
            made = (body, entityTag(body))
            self.documents.put(self.name, status, made, len(body))
        body, tag = made
        sendReadOnly(request, 200, JSON, body, "found", tag=tag)  # GET or HEAD

    async def _render(self, request: FingerRequest, looked: defer.Deferred[str]) -> None:
        try:
            status = await looked
        except (UserNotFound, LookupFailed) as e:
            lookupError(request, self.name, e)
            return
        self._send(request, status)


# How each refusal of a write is answered: the HTTP status code.
REFUSAL_CODES: dict[type[publish.WriteRefused], int] = {
    publish.NoAccounts: 403,
    publish.InsecureTransport: 403,
    publish.NoCredentials: 401,
    publish.LoginFailed: 401,
    publish.LoginThrottled: 429,
    publish.Forbidden: 403,
    publish.BadName: 400,
    publish.BadStatus: 400,
    publish.CannotStore: 503,
    publish.BadLinks: 400,
    publish.NotAnAccount: 404,
}


def refusalCode(refusal: publish.WriteRefused) -> int:
    """The HTTP status for C{refusal} (the most specific class listed)."""
    for kind in type(refusal).__mro__:
        if kind in REFUSAL_CODES:
            return REFUSAL_CODES[kind]
    return 403


class UserWritable(APIResource):
    """
    Something of one user's that is read (GET, public), set (PUT) or cleared
    (DELETE): C{_read} and C{_write} say how.
    """

    isLeaf = True
    allowedMethods = (b"GET", b"HEAD", b"PUT", b"DELETE")

    def __init__(
        self,
        service: IFingerService,
        name: str,
        accounts: Authenticator | None = None,
        webfinger: IAccountWebFinger | None = None,
    ) -> None:
        super().__init__(service, accounts, webfinger)
        self.name = name

    def render(self, request: FingerRequest) -> int:
        if request.method not in self.allowedMethods:
            request.setHeader(b"Allow", b", ".join(self.allowedMethods))
            return apiError(request, 405, "use GET, PUT or DELETE", "method not allowed")
        return super().render(request)

    def render_GET(self, request: FingerRequest) -> int:
        return runAsync(request, self._read(request), apiServerError)

    def render_PUT(self, request: FingerRequest) -> int:
        return runAsync(request, self._write(request, True), apiServerError)

    def render_DELETE(self, request: FingerRequest) -> int:
        return runAsync(request, self._write(request, False), apiServerError)

    async def _read(self, request: FingerRequest) -> None:
        raise NotImplementedError

    async def _write(self, request: FingerRequest, setting: bool) -> None:
        raise NotImplementedError


class StatusDocument(UserWritable):
    """C{/api/users/NAME/status}: read (GET), set (PUT) or clear (DELETE) one status."""

    async def _read(self, request: FingerRequest) -> None:
        try:
            if IFingerDetails.providedBy(self.service) and "@" not in self.name:
                details = await defer.maybeDeferred(self.service.getUserDetails, self.name)
                status, setAt = details["status"], details.get("setAt")
            else:
                status, setAt = await getLocalUser(self.service, self.name), None
        except (UserNotFound, LookupFailed) as e:
            lookupError(request, self.name, e)
            return
        document = {"name": self.name, "status": displayStatus(status), "setAt": setAt}
        sendJSON(request, 200, document, outcome="found")

    async def _write(self, request: FingerRequest, setting: bool) -> None:
        request.target = self.name
        try:
            credentials = credentialsFrom(request)
            address = clientAddress(request)
            avatar = await publish.authenticate(
                self.accounts, credentials, address, request.isSecure()
            )
            request.account = avatar.name
            assert self.accounts is not None
            publish.authorise(self.accounts, avatar, self.name)
            body = request.content.read() if request.content is not None else b""
            status = _statusFrom(body) if setting else None
            written = await publish.store(self.service, avatar.name, self.name, status)
        except publish.WriteRefused as refusal:
            refuse(request, refusal)
            return
        document = {"name": written.name, "status": written.status, "setAt": written.setAt}
        sendJSON(request, 200, document, outcome="set" if setting else "cleared")


def refuse(request: FingerRequest, refusal: publish.WriteRefused) -> None:
    """Answer a refused write: its code, and the headers that go with it."""
    code = refusalCode(refusal)
    if code == 401:
        request.setHeader(b"WWW-Authenticate", _challenge(refusal))
    if isinstance(refusal, publish.LoginThrottled):
        request.setHeader(b"Retry-After", b"%d" % (refusal.retryAfter,))
    apiError(request, code, str(refusal), refusal.outcome)


class WebFingerDocument(UserWritable):
    """
    C{/api/users/NAME/webfinger}: read (GET, public), set (PUT) or clear
    (DELETE) the account's own WebFinger entry.
    """

    async def _read(self, request: FingerRequest) -> None:
        if self.webfinger is None:
            apiError(request, 404, f"no such account: {self.name}", "no such account")
            return
        try:
            text = await defer.maybeDeferred(self.webfinger.getWebFinger, self.name)
        except NoSuchAccount:
            apiError(request, 404, f"no such account: {self.name}", "no such account")
            return
        except StoreError as e:
            apiError(request, 503, str(e), "not read")
            return
        entry = WebFingerEntry() if text is None else parseUserEntry(text.encode("utf-8"))
        sendJSON(request, 200, entryDocument(entry), outcome="found")

    async def _write(self, request: FingerRequest, setting: bool) -> None:
        request.target = self.name
        try:
            avatar = await publish.authenticate(
                self.accounts, credentialsFrom(request), clientAddress(request), request.isSecure()
            )
            request.account = avatar.name
            assert self.accounts is not None
            publish.authorise(self.accounts, avatar, self.name, "WebFinger links")
            body = None
            if setting:
                body = request.content.read() if request.content is not None else b""
            entry = await publish.storeWebFinger(self.webfinger, self.name, body)
        except publish.WriteRefused as refusal:
            refuse(request, refusal)
            return
        document = entryDocument(entry if entry is not None else WebFingerEntry())
        sendJSON(request, 200, document, outcome="links set" if setting else "links cleared")


def _challenge(refusal: publish.WriteRefused) -> bytes:
    """The C{WWW-Authenticate} value for a 401 (RFC 6750 section 3)."""
    if isinstance(refusal, publish.NoCredentials):
        return b'Bearer realm="finger"'
    return b'Bearer realm="finger", error="invalid_token"'


def _statusFrom(body: bytes) -> str:
    """The C{status} of a PUT body; raise L{publish.BadStatus} saying what is wrong."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise publish.BadStatus(f"the body is not JSON: {e}") from None
    if not isinstance(document, dict) or "status" not in document:
        raise publish.BadStatus('the body must be a JSON object with a "status" field')
    status = document["status"]
    problem = publish.statusProblem(status)
    if problem:
        raise publish.BadStatus(problem)
    assert isinstance(status, str)
    return status
