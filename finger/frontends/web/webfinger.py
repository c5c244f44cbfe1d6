"""
WebFinger (RFC 7033) at C{/.well-known/webfinger?resource=acct:NAME@HOST}.

Served on HTTPS listeners only (RFC 7033 section 4: plain HTTP answers
404).  The answer is a JRD: the C{subject}, the user's page as an alias and
as a C{profile-page} link, and the status as a property.  C{rel}
parameters select links.  400 for a missing or malformed C{resource}; 404
for an unknown user, a host other than the one asked, or a resource that is
not an C{acct:} URI; 502 when the status is kept elsewhere and could not be
had (the error is the backend's reason).  Every answer allows any origin
(CORS).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from twisted.web import resource
from twisted.web.server import NOT_DONE_YET

from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web.respond import LOOKUP_FAILED, displayStatus, runAsync, sendJSON
from finger.frontends.web.urls import userPath
from finger.interfaces import IFingerService, LookupFailed, UserNotFound

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

JRD = b"application/jrd+json"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
STATUS_PROPERTY = "urn:twisted-finger:status"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# What an acct: URI's user part may hold unencoded (RFC 7565: unreserved, sub-delims).
_USER_SAFE = "-._~!$&'()*+,;="
_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class BadResource(ValueError):
    """The C{resource} parameter is missing or malformed (400)."""


class UnknownResource(LookupError):
    """The resource is well-formed but not one of ours (404)."""


def parseAccount(given: str) -> tuple[str, str]:
    """
    Split an C{acct:USER@HOST} URI into (user, host); the user part may be
    percent-encoded (RFC 7565).
    """
    scheme, colon, rest = given.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise BadResource(f"resource must be a URI such as acct:alice@host, not {given!r}")
    if scheme.lower() != "acct":
        raise UnknownResource(f"only acct: resources are known here, not {given!r}")
    user, at, host = rest.rpartition("@")
    if not at or not user or not _HOST.fullmatch(host):
        raise BadResource(f"an acct: resource looks like acct:alice@host, not {given!r}")
    try:
        name = unquote(user, errors="strict")
    except UnicodeDecodeError:
        raise BadResource(f"the user part of {given!r} is not UTF-8 once decoded") from None
    return name, host.lower()


def sameHost(accountHost: str, requestHost: str) -> bool:
    """Whether an account's host names this server as the client reached it."""
    requestHost = requestHost.lower()
    if accountHost == requestHost:
        return True
    withoutPort = re.sub(r":[0-9]+$", "", requestHost)
    return accountHost == withoutPort


class WebFinger(resource.Resource):
    """The WebFinger resource for an L{IFingerService}."""

    isLeaf = True
    frontend = "webfinger"

    def __init__(self, service: IFingerService) -> None:
        super().__init__()
        self.service = service

    def render_GET(self, request: FingerRequest) -> int:
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        given = request.args.get(b"resource", [])
        request.query = b", ".join(given).decode("utf-8", "replace") or "(no resource)"
        requestHost = (request.getHeader(b"host") or b"").decode("ascii", "replace")
        try:
            if request.postpath:
                raise UnknownResource("no such resource; ask /.well-known/webfinger?resource=...")
            name, host = self._account(given, requestHost)
        except BadResource as e:
            sendJSON(request, 400, {"error": str(e)}, outcome="bad resource")
            return NOT_DONE_YET
        except UnknownResource as e:
            sendJSON(request, 404, {"error": str(e)}, outcome="unknown resource")
            return NOT_DONE_YET
        subject = f"acct:{quote(name, safe=_USER_SAFE)}@{host}"
        rels = {value.decode("utf-8", "replace") for value in request.args.get(b"rel", [])}
        work = self._answer(request, subject, name, requestHost, rels)
        return runAsync(request, work, _serverError)

    @staticmethod
    def _account(given: list[bytes], requestHost: str) -> tuple[str, str]:
        """The (user name, host) asked for, if it is an account here."""
        if len(given) != 1:
            raise BadResource("give exactly one resource parameter, e.g. resource=acct:alice@host")
        try:
            text = given[0].decode("utf-8")
        except UnicodeDecodeError:
            raise BadResource("the resource parameter is not UTF-8") from None
        name, host = parseAccount(text)
        if not _HOST.fullmatch(requestHost):
            raise BadResource("the request has no usable Host header")
        if not sameHost(host, requestHost):
            raise UnknownResource(f"{text} is not an account on this server ({requestHost})")
        return name, host

    async def _answer(
        self, request: FingerRequest, subject: str, name: str, requestHost: str, rels: set[str]
    ) -> None:
        try:
            status = await getLocalUser(self.service, name)
        except UserNotFound:
            sendJSON(request, 404, {"error": f"no such account: {subject}"}, outcome="no such user")
            return
        except LookupFailed as e:
            message = lookupFailedMessage(e)
            sendJSON(request, LOOKUP_FAILED, {"error": message}, outcome=message)
            return
        document: dict[str, Any] = {"subject": subject}
        path = userPath(name)
        links = []
        if path is not None:
            page = f"https://{requestHost}{path}"
            document["aliases"] = [page]
            links.append({"rel": PROFILE_PAGE, "type": "text/html", "href": page})
        document["properties"] = {STATUS_PROPERTY: displayStatus(status)}
        document["links"] = [link for link in links if not rels or link["rel"] in rels]
        sendJSON(request, 200, document, contentType=JRD, outcome="found")


def _serverError(request: FingerRequest) -> None:
    sendJSON(request, 500, {"error": "internal error; it has been logged"}, outcome="error")
