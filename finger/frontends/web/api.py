"""
The JSON API under C{/api/}:

  - C{GET /api/users?offset=0&limit=100} gives
    C{{"users": [names], "total": N, "next": path of the next page or null}};
  - C{GET /api/users/NAME} gives C{{"name": NAME, "status": STATUS}}.

Errors are JSON too: C{{"error": "..."}} with 404 for an unknown user or
path, 400 for bad parameters and 502 when the backend could not get the
status from where it is kept (L{LookupFailed}: the error is its message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.web import resource
from twisted.web.server import NOT_DONE_YET

from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web.respond import LOOKUP_FAILED, displayStatus, runAsync, sendJSON
from finger.interfaces import IFingerService, LookupFailed, UserNotFound

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


def apiServerError(request: FingerRequest) -> None:
    """The last resort when an API answer could not be made."""
    apiError(request, 500, "internal error; it has been logged", "error")


class APIResource(resource.Resource):
    """Base for the API's resources (logged as the C{api} frontend)."""

    frontend = "api"

    def __init__(self, service: IFingerService) -> None:
        super().__init__()
        self.service = service


class APINotFound(APIResource):
    """A JSON 404 for any path under C{/api/} that names nothing."""

    isLeaf = True

    def render(self, request: FingerRequest) -> int:
        return apiError(request, 404, "no such resource; see /api/users", "not found")


class APIRoot(APIResource):
    """C{/api/}: C{users}, and C{events} when given (see L{finger.frontends.web.events})."""

    def __init__(self, service: IFingerService, events: resource.Resource | None = None) -> None:
        super().__init__(service)
        self.events = events

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path == b"users":
            return UsersCollection(self.service)
        if path == b"events" and self.events is not None:
            return self.events
        return APINotFound(self.service)

    def render(self, request: FingerRequest) -> int:
        return APINotFound(self.service).render(request)


class UsersCollection(APIResource):
    """C{/api/users}: the names, C{limit} at a time from C{offset}."""

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path == b"":
            return self  # /api/users/ is the collection too
        try:
            name = path.decode("utf-8")
        except UnicodeDecodeError:
            return APINotFound(self.service)
        return UserDocument(self.service, name)

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

    def __init__(self, service: IFingerService, name: str) -> None:
        super().__init__(service)
        self.name = name

    def render_GET(self, request: FingerRequest) -> int:
        if request.postpath:
            return APINotFound(self.service).render(request)
        return runAsync(request, self._render(request), apiServerError)

    async def _render(self, request: FingerRequest) -> None:
        try:
            status = await getLocalUser(self.service, self.name)
        except UserNotFound:
            apiError(request, 404, f"no such user: {self.name}", "no such user")
            return
        except LookupFailed as e:
            message = lookupFailedMessage(e)
            apiError(request, LOOKUP_FAILED, message, message)
            return
        sendJSON(
            request, 200, {"name": self.name, "status": displayStatus(status)}, outcome="found"
        )
