"""
WebFinger (RFC 7033) at C{/.well-known/webfinger?resource=...}.

Served to clients that use HTTPS, directly or through a trusted reverse
proxy (RFC 7033 section 4; see L{finger.frontends.web.forwarded}); plain
HTTP answers a JSON 404 saying so.

The resource may be written as real clients do: C{acct:alice@host},
C{alice@host}, C{@alice@host}, the user's page (C{https://host/alice}), or
one of the user's aliases from the WebFinger file.  Hosts compare
case-insensitively, against C{WebFingerSettings.domains} or, if there are
none, the host the client asked for.

The answer is a JRD: the C{subject} (C{acct:}), the user's page as an alias
and a C{profile-page} link, the status as a property, whatever the
WebFinger file (L{finger.frontends.web.webfingerfile}) adds for the user,
and the entry the user set through the JSON API (L{mergeEntries}: the
operator's links win, by C{rel}).  A user only in that file, or with only
their own entry, gets just what these say.  The user's own entry is read
from the account store at every request (no cache), so a change is seen at
once, by every node sharing a PostgreSQL store.  C{rel} parameters select
links.  400 for a missing or malformed C{resource}; 404 for an unknown user,
a foreign host, or another kind of resource; 502 when the status is kept
elsewhere and could not be had.  Every answer allows any origin (CORS); a
JRD may be cached for L{JRD_MAX_AGE} seconds and has an C{ETag}.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import resource
from twisted.web.server import NOT_DONE_YET

from finger.accounts.interfaces import IAccountWebFinger, NoSuchAccount
from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web.respond import LOOKUP_FAILED, displayStatus, runAsync, sendJSON
from finger.frontends.web.urls import userPath
from finger.frontends.web.webfingerfile import NO_DATA, WebFingerEntry, parseUserEntry
from finger.interfaces import IFingerService, LookupFailed, StoreError, UserNotFound

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

JRD = b"application/jrd+json"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
STATUS_PROPERTY = "urn:twisted-finger:status"
JRD_MAX_AGE = 300
JRD_CACHE_CONTROL = b"max-age=%d" % (JRD_MAX_AGE,)
ERROR_CACHE_CONTROL = b"no-store"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# What an acct: URI's user part may hold unencoded (RFC 7565: unreserved, sub-delims).
_USER_SAFE = "-._~!$&'()*+,;="
HOST_PATTERN = _HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class BadResource(ValueError):
    """The C{resource} parameter is missing or malformed (400)."""


class UnknownResource(LookupError):
    """The resource is well-formed but not one of ours (404)."""


class WebFingerLinks(Protocol):
    """Where per-user WebFinger data comes from (a L{WebFingerFile}, or none)."""

    def entryFor(self, name: str) -> WebFingerEntry | None: ...
    def nameForAlias(self, uri: str) -> str | None: ...


@dataclass(frozen=True)
class WebFingerSettings:
    """
    WebFinger's settings.

    @ivar domains: the domains it answers for, lower-case (C{--webfinger-domain});
        empty means the host each request names.
    @ivar links: per-user aliases, links and properties (C{--webfinger FILE}).
    @ivar accounts: where users keep their own entries (the account store),
        set through C{PUT /api/users/NAME/webfinger}; C{None}: no accounts.
    """

    domains: tuple[str, ...] = ()
    links: WebFingerLinks = NO_DATA
    accounts: IAccountWebFinger | None = None


def mergeEntries(
    operator: WebFingerEntry, own: WebFingerEntry | None
) -> WebFingerEntry:
    """
    What the JRD adds for a user: the operator's entry (the built-in page
    link, the status and the C{--webfinger} file), then the user's own.  On
    a conflict the operator wins: a user's link is left out when one of the
    operator's has the same C{rel} (so a user cannot replace the C{self}
    link the operator set, nor the profile page); a user's alias or property
    the operator also gives is the operator's.
    """
    if own is None:
        return operator
    taken = {link["rel"] for link in operator.links}
    return WebFingerEntry(
        aliases=operator.aliases + tuple(a for a in own.aliases if a not in operator.aliases),
        links=operator.links + tuple(link for link in own.links if link["rel"] not in taken),
        properties={**own.properties, **operator.properties},
    )


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


def asAccountURI(given: str) -> str:
    """
    The C{acct:} form of the ways people write an account: C{alice@host} and
    C{@alice@host} become C{acct:alice@host}; anything else is returned as is.
    """
    if given.startswith("@") and given.count("@") == 2:
        return "acct:" + given[1:]
    scheme, colon, _ = given.partition(":")
    if "@" in given and not (colon and _SCHEME.fullmatch(scheme)):
        return "acct:" + given
    return given


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
    log = Logger()

    def __init__(
        self, service: IFingerService, settings: WebFingerSettings = WebFingerSettings()
    ) -> None:
        super().__init__()
        self.service = service
        self.settings = settings

    def ours(self, host: str, requestHost: str) -> bool:
        """Whether an account at C{host} (lower-case) is one this server answers for."""
        if self.settings.domains:
            return host in self.settings.domains
        return sameHost(host, requestHost)

    def render_GET(self, request: FingerRequest) -> int:
        given = request.args.get(b"resource", [])
        request.query = b", ".join(given).decode("utf-8", "replace") or "(no resource)"
        requestHost = request.requestHost()
        try:
            if request.postpath:
                raise UnknownResource("no such resource; ask /.well-known/webfinger?resource=...")
            name, host = self._account(given, requestHost)
        except BadResource as e:
            return _error(request, 400, str(e), "bad resource")
        except UnknownResource as e:
            return _error(request, 404, str(e), "unknown resource")
        subject = f"acct:{quote(name, safe=_USER_SAFE)}@{host}"
        rels = {value.decode("utf-8", "replace") for value in request.args.get(b"rel", [])}
        work = self._answer(request, subject, name, requestHost, rels)
        return runAsync(request, work, _serverError)

    def _account(self, given: list[bytes], requestHost: str) -> tuple[str, str]:
        """The (user name, host) asked for, if it is an account here."""
        if len(given) != 1:
            raise BadResource("give exactly one resource parameter, e.g. resource=acct:alice@host")
        try:
            text = given[0].decode("utf-8")
        except UnicodeDecodeError:
            raise BadResource("the resource parameter is not UTF-8") from None
        if not _HOST.fullmatch(requestHost):
            raise BadResource("the request has no usable Host header")
        if text.lower().startswith(("http:", "https:")):
            return self._pageOrAlias(text, requestHost)
        name, host = parseAccount(asAccountURI(text))
        if not self.ours(host, requestHost):
            raise UnknownResource(f"{text} is not an account on this server ({requestHost})")
        return name, host

    def _pageOrAlias(self, url: str, requestHost: str) -> tuple[str, str]:
        """The account whose page (C{https://host/NAME}) or alias C{url} is."""
        accountHost = self.settings.domains[0] if self.settings.domains else requestHost.lower()
        alias = self.settings.links.nameForAlias(url)
        if alias is not None:
            return alias, accountHost
        parts = urlsplit(url)
        segments = parts.path.split("/")
        host = parts.netloc.rpartition("@")[2].lower()
        if (
            len(segments) == 2
            and segments[1]
            and not parts.query
            and not parts.fragment
            and (self.ours(host, requestHost) or sameHost(host, requestHost))
        ):
            try:
                name = unquote(segments[1], errors="strict")
            except UnicodeDecodeError:
                raise BadResource(f"the path of {url!r} is not UTF-8 once decoded") from None
            if userPath(name) is not None:
                return name, accountHost
        raise UnknownResource(f"{url} is not a user's page or alias on this server")

    async def _answer(
        self, request: FingerRequest, subject: str, name: str, requestHost: str, rels: set[str]
    ) -> None:
        entry = self.settings.links.entryFor(name)
        status: str | None = None
        try:
            status = await getLocalUser(self.service, name)
        except UserNotFound:
            pass
        except LookupFailed as e:
            message = lookupFailedMessage(e)
            _error(request, LOOKUP_FAILED, message, message)
            return
        try:
            own = await self._ownEntry(name)
        except StoreError as e:
            _error(request, 503, f"could not read the account's WebFinger links: {e}", "not read")
            return
        if status is None and entry is None and own is None:
            _error(request, 404, f"no such account: {subject}", "no such user")
            return
        aliases: list[str] = []
        links: list[dict[str, Any]] = []
        properties: dict[str, str | None] = {}
        path = userPath(name)
        if status is not None:
            if path is not None:
                page = f"https://{requestHost}{path}"
                aliases.append(page)
                links.append({"rel": PROFILE_PAGE, "type": "text/html", "href": page})
            properties[STATUS_PROPERTY] = displayStatus(status)
        if entry is not None:
            aliases += [alias for alias in entry.aliases if alias not in aliases]
            links += entry.links
            properties.update(entry.properties)
        merged = mergeEntries(WebFingerEntry(tuple(aliases), tuple(links), properties), own)
        document: dict[str, Any] = {"subject": subject}
        if merged.aliases:
            document["aliases"] = list(merged.aliases)
        if merged.properties:
            document["properties"] = merged.properties
        document["links"] = [link for link in merged.links if not rels or link["rel"] in rels]
        sendJSON(
            request, 200, document, contentType=JRD, outcome="found",
            cacheControl=JRD_CACHE_CONTROL,
        )


    async def _ownEntry(self, name: str) -> WebFingerEntry | None:
        """The entry C{name} set for themselves, if they have an account and one."""
        if self.settings.accounts is None or userPath(name) is None:
            return None
        try:
            text = await defer.maybeDeferred(self.settings.accounts.getWebFinger, name)
        except NoSuchAccount:
            return None
        if text is None:
            return None
        try:
            return parseUserEntry(text.encode("utf-8"))
        except ValueError as e:  # Written by another version, or by hand: leave it out.
            self.log.error("The stored WebFinger entry of {name!r} is unusable: {e}", name=name, e=e)
            return None


class NotOnPlainHTTP(resource.Resource):
    """What WebFinger and host-meta answer a client that did not use HTTPS."""

    isLeaf = True
    frontend = "webfinger"

    def render(self, request: FingerRequest) -> int:
        return _error(
            request, 404, "WebFinger is served over HTTPS only (RFC 7033 section 4)", "not HTTPS"
        )


def _error(request: FingerRequest, code: int, message: str, outcome: str) -> int:
    sendJSON(request, code, {"error": message}, outcome=outcome, cacheControl=ERROR_CACHE_CONTROL)
    return NOT_DONE_YET


def _serverError(request: FingerRequest) -> None:
    _error(request, 500, "internal error; it has been logged", "error")


def normaliseDomains(domains: Sequence[str]) -> tuple[str, ...]:
    """C{--webfinger-domain} values as compared: lower-case, without duplicates."""
    seen: list[str] = []
    for domain in domains:
        domain = domain.strip().lower()
        if not _HOST.fullmatch(domain):
            raise ValueError(f"a WebFinger domain is a host name such as example.org, not {domain!r}")
        if domain not in seen:
            seen.append(domain)
    return tuple(seen)
