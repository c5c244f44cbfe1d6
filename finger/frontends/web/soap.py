"""
SOAP 1.1 at C{/soap}, document/literal wrapped (WSDL from L{wsdl}).

  - C{POST /soap}: one call per request, e.g.
    C{<tns:getUser><tns:name>alice</tns:name></tns:getUser>} in the Body,
    answered by C{<tns:getUserResponse><tns:status>...}.
  - C{GET /soap?wsdl}: the WSDL 1.1 document, its service address the URL
    the client used (or L{SOAPSettings.address}, behind a proxy).
  - C{GET /soap}: a line pointing to the WSDL.

Faults (SOAP 1.1 section 4.4) are HTTP 500 with C{text/xml}:
C{soap:Client} for malformed XML, a body that is not one call, an unknown
operation, missing or wrong arguments and an unknown user;
C{soap:MustUnderstand} for a header block addressed to us with
C{mustUnderstand="1"} (we understand none); C{soap:VersionMismatch} for an
envelope that is not SOAP 1.1's; C{soap:Server} when the backend cannot
answer (L{LookupFailed}).  A fault about a user carries
C{<tns:userFault><tns:name>NAME</tns:name></tns:userFault>} in its detail.
No fault and no log line ever holds a traceback.

XML is parsed with C{defusedxml} (Python's expat, with document type
declarations, entities and external references refused outright) into a
tree bounded in depth and in elements, from an envelope of at most
L{MAX_ENVELOPE} bytes (the site refuses bodies over 1 MiB with 413).  A
call's parse is therefore bounded work of a few milliseconds at most, done
on the reactor like the XML-RPC frontend's.

Operations are L{wsdl.Operation} descriptions in L{OPERATIONS}, each
answered by the resource's C{soap_NAME(request, **arguments)} method,
which returns the response's parts; the WSDL is generated from the same
descriptions.  An operation that needs the caller's identity reads it from
C{request}, as C{setStatus} does.

C{setStatus(name, status)} follows L{finger.frontends.publish} with the
credentials of HTTP Basic (a password or an API token) and the accounts of
L{SOAPSettings.accounts}.  Its refusals are faults with the user in the
detail: C{soap:Client} for no or wrong credentials, another user's status,
too many failed logins (the faultstring says how long to wait),
credentials over plain HTTP from another host, a bad name or status;
C{soap:Server} when the service has no accounts or the store failed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python import components
from twisted.web import resource
from zope.interface import implementer

from finger.accounts.gate import Authenticator
from finger.adapt import registerFrontend
from finger.frontends import publish
from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web import urls
from finger.frontends.web.api import MAX_LIMIT
from finger.frontends.web.credentials import clientAddress, credentialsFrom
from finger.frontends.web.respond import displayStatus, runAsync, send
from finger.frontends.web.wsdl import SOAP_ENV, TNS, USER_FAULT, Operation, Part, wsdlDocument
from finger.frontends.web.xmlrpc import xmlText
from finger.interfaces import IFingerService, LookupFailed, UserNotFound
from finger.text import stripControls

SOAP = urls.SOAP  # the path, /soap
TEXT_XML = b"text/xml; charset=utf-8"
# Calls are small; parsing 64 KiB of the worst XML (thousands of attributes
# on one element) costs expat about 4 ms, 1 MiB (the site's limit) 65 ms.
MAX_ENVELOPE = 64 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 1000
NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,10}\s*\Z")
# Host header values a WSDL address may be built from.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?\Z")

GET_USER = Operation(
    "getUser",
    inputs=(Part("name"),),
    outputs=(Part("status"),),
    documentation="The status of the user called name.",
    userFault=True,
)
GET_USERS = Operation(
    "getUsers",
    inputs=(Part("offset", "int", optional=True), Part("limit", "int", optional=True)),
    outputs=(Part("name", optional=True, repeated=True), Part("total", "int")),
    documentation=(
        f"Up to limit (1 to {MAX_LIMIT}, default {MAX_LIMIT}) user names from offset "
        "(default 0), sorted, and how many users there are."
    ),
)
SET_STATUS = Operation(
    "setStatus",
    inputs=(Part("name"), Part("status")),
    outputs=(Part("name"), Part("status"), Part("setAt", "double")),
    documentation=(
        "Set the status of the user called name; needs HTTP Basic credentials (a password "
        "or an API token) of that user or an admin, over HTTPS or from loopback. "
        "setAt is when it was set (Unix time)."
    ),
    userFault=True,
)
OPERATIONS = (GET_USER, GET_USERS, SET_STATUS)

log = Logger()


class SOAPFault(Exception):
    """A call answered with a fault: C{code} is C{Client}, C{Server}, ..."""

    def __init__(self, code: str, message: str, user: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.user = user


class _EnvelopeTooComplex(Exception):
    pass


class _BoundedTreeBuilder(ElementTree.TreeBuilder):
    """A tree builder that gives up past L{MAX_DEPTH} levels or L{MAX_ELEMENTS} elements."""

    depth = 0
    elements = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ElementTree.Element:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise _EnvelopeTooComplex(f"elements nested deeper than {MAX_DEPTH}")
        if self.elements > MAX_ELEMENTS:
            raise _EnvelopeTooComplex(f"more than {MAX_ELEMENTS} elements")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ElementTree.Element:
        self.depth -= 1
        return super().end(tag)


def parseXML(body: bytes) -> ElementTree.Element:
    """
    Parse a request body safely, or raise L{SOAPFault} (C{Client}): no
    DTD, no entity, no external reference; bounded depth and size.
    """
    if len(body) > MAX_ENVELOPE:
        raise SOAPFault("Client", f"envelope larger than {MAX_ENVELOPE} bytes")
    parser = DefusedXMLParser(
        target=_BoundedTreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        return parser.close()
    except DefusedXmlException as e:
        reason = f"forbidden XML construct ({type(e).__name__})"
    except _EnvelopeTooComplex as e:
        reason = str(e)
    except ElementTree.ParseError as e:
        reason = str(e)
    except Exception as e:  # expat's other complaints: encodings, ...
        reason = f"{type(e).__name__}: {e}"
    raise SOAPFault("Client", f"malformed XML: {stripControls(reason)}")


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def callIn(envelope: ElementTree.Element) -> ElementTree.Element:
    """
    The call (the Body's one child) in a SOAP 1.1 envelope, after checking
    the headers; or raise L{SOAPFault}.
    """
    namespace, name = _local(envelope.tag)
    if name == "Envelope" and namespace != SOAP_ENV:
        raise SOAPFault("VersionMismatch", f"not a SOAP 1.1 envelope (namespace {namespace})")
    if (namespace, name) != (SOAP_ENV, "Envelope"):
        raise SOAPFault("Client", "not a SOAP envelope")
    children = list(envelope)
    if children and children[0].tag == f"{{{SOAP_ENV}}}Header":
        _checkHeader(children.pop(0))
    if len(children) != 1 or children[0].tag != f"{{{SOAP_ENV}}}Body":
        raise SOAPFault("Client", "the envelope must hold an optional Header, then a Body")
    calls = list(children[0])
    if len(calls) != 1:
        raise SOAPFault("Client", "the Body must hold exactly one call")
    return calls[0]


def _checkHeader(header: ElementTree.Element) -> None:
    for block in header:
        actor = block.get(f"{{{SOAP_ENV}}}actor")
        mustUnderstand = block.get(f"{{{SOAP_ENV}}}mustUnderstand", "0").strip()
        if actor in (None, NEXT_ACTOR) and mustUnderstand in ("1", "true"):
            raise SOAPFault("MustUnderstand", f"header {block.tag} not understood")


def operationOf(call: ElementTree.Element) -> Operation:
    """The L{Operation} C{call} names, or a C{Client} fault."""
    namespace, name = _local(call.tag)
    for op in OPERATIONS:
        if namespace == TNS and name == op.name:
            return op
    raise SOAPFault("Client", f"unknown operation: {call.tag}")


def argumentsOf(op: Operation, call: ElementTree.Element) -> dict[str, Any]:
    """
    The arguments of C{call}, converted to their types (qualified or
    unqualified child elements); a C{Client} fault if they do not fit.
    """
    parts = {part.name: part for part in op.inputs}
    given: dict[str, list[str]] = {}
    for child in call:
        namespace, name = _local(child.tag)
        if namespace not in (TNS, None) or name not in parts:
            raise SOAPFault("Client", f"{op.name}: unexpected argument {child.tag}")
        if len(child):
            raise SOAPFault("Client", f"{op.name}: {name} must be text, not elements")
        given.setdefault(name, []).append(child.text or "")
    arguments: dict[str, Any] = {}
    for part in op.inputs:
        values = given.get(part.name, [])
        if not values:
            if not part.optional:
                raise SOAPFault("Client", f"{op.name}: missing argument {part.name}")
            continue
        if len(values) > 1 and not part.repeated:
            raise SOAPFault("Client", f"{op.name}: {part.name} given more than once")
        converted = [_convert(op, part, value) for value in values]
        arguments[part.name] = converted if part.repeated else converted[0]
    return arguments


def _convert(op: Operation, part: Part, value: str) -> Any:
    if part.type == "int":
        if not _INTEGER.match(value):
            raise SOAPFault(
                "Client", f"{op.name}: {part.name} must be an integer, not {value[:40]!r}"
            )
        return int(value)
    return value


def envelope(body: str) -> bytes:
    """A SOAP 1.1 envelope around C{body} (serialised XML)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:tns="{TNS}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>\n"
    ).encode()


def _text(value: object) -> str:
    return escape(xmlText(str(value)))


def responseEnvelope(op: Operation, parts: Sequence[tuple[str, object]]) -> bytes:
    """The envelope answering C{op} with C{parts} (name, value)."""
    inner = "".join(f"<tns:{name}>{_text(value)}</tns:{name}>" for name, value in parts)
    return envelope(f"<tns:{op.response}>{inner}</tns:{op.response}>")


def faultEnvelope(fault: SOAPFault) -> bytes:
    """The envelope of a SOAP 1.1 fault."""
    detail = ""
    if fault.user is not None:
        detail = (
            f"<detail><tns:{USER_FAULT}><tns:name>{_text(fault.user)}</tns:name>"
            f"</tns:{USER_FAULT}></detail>"
        )
    return envelope(
        f"<soap:Fault><faultcode>soap:{fault.code}</faultcode>"
        f"<faultstring>{_text(fault.message)}</faultstring>{detail}</soap:Fault>"
    )


class SOAPTrace:
    """
    Writes every request and response envelope, with the peer and the time,
    to C{file} (a L{twisted.python.logfile.LogFile}, rotated like twistd's
    log).  Only bodies are written: never a header, so never C{Authorization}.
    """

    def __init__(self, file: IO[str], now=time.time) -> None:
        self.file = file
        self.now = now

    def _write(self, what: str, peer: str, body: bytes) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.now()))
        text = body.decode("utf-8", "replace")
        # Nothing that could drive a terminal: controls other than tab/newline go.
        text = "".join(c if c in "\t\n" or c >= " " else "?" for c in text)
        self.file.write(f"--- {stamp}Z {what} {peer}\n{text.rstrip(chr(10))}\n")
        self.file.flush()

    def request(self, peer: str, body: bytes) -> None:
        """Record a request's envelope."""
        self._write("request from", peer, body)

    def response(self, peer: str, code: int, body: bytes) -> None:
        """Record the response's envelope."""
        self._write(f"response {code} to", peer, body)


@dataclass(frozen=True)
class SOAPSettings:
    """
    The SOAP endpoint's settings: C{address}, the service URL its WSDL
    gives (C{None}: the URL the client used); C{trace}, where envelopes
    are written (C{None}: nowhere); C{accounts}, who may call
    C{setStatus} (C{None}: nobody, L{finger.accounts.gate}).
    """

    address: str | None = None
    trace: SOAPTrace | None = None
    accounts: Authenticator | None = None


DEFAULT = SOAPSettings()


class ISOAPResource(resource.IResource):
    """The SOAP endpoint of an L{IFingerService}."""


@implementer(ISOAPResource)
class SOAPResource(resource.Resource):
    """SOAP 1.1 for an L{IFingerService} (see the module docstring)."""

    frontend = "soap"
    isLeaf = True

    def __init__(self, service: IFingerService, settings: SOAPSettings = DEFAULT) -> None:
        super().__init__()
        self.service = service
        self.settings = settings

    # GET: the WSDL, or where it is.

    def address(self, request) -> str:
        """The service's URL, as the client should call it."""
        if self.settings.address is not None:
            return self.settings.address
        scheme = "https" if request.isSecure() else "http"
        host = (request.getHeader(b"host") or b"").decode("ascii", "replace")
        if not _HOST.match(host):
            local = request.getHost()
            host = f"{local.host}:{local.port}"
        path = "/" + "/".join(p.decode("utf-8", "replace") for p in request.prepath)
        return f"{scheme}://{host}{path}"

    def render_GET(self, request) -> bytes:
        if request.postpath not in ([], [b""]):
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"No such resource\n"
        address = self.address(request)
        query = request.uri.partition(b"?")[2]
        if any(item.partition(b"=")[0].lower() == b"wsdl" for item in query.split(b"&")):
            request.setHeader(b"Content-Type", TEXT_XML)
            return wsdlDocument(address, OPERATIONS)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        request.setHeader(b"Link", f'<{address}?wsdl>; rel="describedby"'.encode())
        return (
            f"SOAP 1.1 endpoint: POST calls here. Its WSDL: {address}?wsdl\n".encode()
        )

    # POST: one call.

    def render_POST(self, request) -> object:
        body = request.content.read()
        peer = getattr(request, "peer", None) or str(request.getClientAddress())
        if self.settings.trace is not None:
            self.settings.trace.request(peer, body)
        request.query = "POST /soap"
        return runAsync(request, self._call(request, body, peer), self._internalError(peer))

    async def _call(self, request, body: bytes, peer: str) -> None:
        try:
            call = callIn(parseXML(body))
            op = operationOf(call)
            request.query = f"{op.name}({_shown(call)})"
            arguments = argumentsOf(op, call)
            parts = await getattr(self, "soap_" + op.name)(request, **arguments)
        except SOAPFault as fault:
            self._answer(request, peer, 500, faultEnvelope(fault),
                         f"fault soap:{fault.code}: {fault.message}")
        else:
            self._answer(request, peer, 200, responseEnvelope(op, parts), "answered")

    def _answer(self, request, peer: str, code: int, body: bytes, outcome: str) -> None:
        if self.settings.trace is not None:
            self.settings.trace.response(peer, code, body)
        send(request, code, TEXT_XML, body, outcome)

    def _internalError(self, peer: str):
        def failed(request) -> None:
            fault = SOAPFault("Server", "internal error")
            self._answer(request, peer, 500, faultEnvelope(fault), "fault soap:Server: internal error")

        return failed

    # The operations: soap_NAME(request, **arguments) -> [(part, value), ...]

    async def soap_getUser(self, request, name: str) -> list[tuple[str, object]]:
        """C{getUser(name)}: the status."""
        try:
            status = await getLocalUser(self.service, name)
        except UserNotFound:
            raise SOAPFault("Client", f"no such user: {name}", user=name) from None
        except LookupFailed as e:
            raise SOAPFault("Server", lookupFailedMessage(e), user=name) from None
        except Exception as e:
            log.error("SOAP getUser: the backend failed: {error}", error=repr(e)[:200])
            raise SOAPFault("Server", "the backend could not answer", user=name) from None
        return [("status", displayStatus(status))]

    async def soap_getUsers(
        self, request, offset: int = 0, limit: int = MAX_LIMIT
    ) -> list[tuple[str, object]]:
        """C{getUsers(offset, limit)}: names and the total."""
        if offset < 0:
            raise SOAPFault("Client", f"getUsers: offset must be 0 or more, not {offset}")
        if not 1 <= limit <= MAX_LIMIT:
            raise SOAPFault("Client", f"getUsers: limit must be from 1 to {MAX_LIMIT}, not {limit}")
        try:
            names = await defer.maybeDeferred(self.service.getUsers)
        except Exception as e:
            log.error("SOAP getUsers: the backend failed: {error}", error=repr(e)[:200])
            raise SOAPFault("Server", "the backend could not answer") from None
        return [("name", n) for n in names[offset : offset + limit]] + [("total", len(names))]

    async def soap_setStatus(self, request, name: str, status: str) -> list[tuple[str, object]]:
        """C{setStatus(name, status)}: set it, for its owner or an admin."""
        request.target = name
        try:
            avatar = await publish.authenticate(
                self.settings.accounts, credentialsFrom(request), clientAddress(request),
                request.isSecure(),
            )
            request.account = avatar.name
            assert self.settings.accounts is not None
            publish.authorise(self.settings.accounts, avatar, name)
            written = await publish.store(self.service, avatar.name, name, status)
        except publish.WriteRefused as refusal:
            server = isinstance(refusal, publish.NoAccounts | publish.CannotStore)
            raise SOAPFault(
                "Server" if server else "Client", f"setStatus: {refusal}", user=name
            ) from None
        return [("name", written.name), ("status", written.status), ("setAt", written.setAt)]


def _shown(call: ElementTree.Element) -> str:
    """A call's arguments for the query log (the log bounds its length)."""
    return ", ".join(f"{_local(c.tag)[1]}={(c.text or '')[:100]!r}" for c in list(call)[:5])


components.registerAdapter(SOAPResource, IFingerService, ISOAPResource)
registerFrontend(SOAPResource, SOAPSettings, ISOAPResource)
