"""Writing complete responses, and running a resource's asynchronous work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import NOT_DONE_YET

from finger.text import printableLines, replaceSurrogates

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

JSON = b"application/json"
# The status of a user who is kept elsewhere could not be had (the backend
# failed with LookupFailed: a status server answered 500, timed out...).
LOOKUP_FAILED = 502  # Bad Gateway
# The methods that only read: their JSON answers are public (CORS, ETag).
READ_METHODS = (b"GET", b"HEAD")
log = Logger()


def displayStatus(status: str) -> str:
    """
    A status fit for any client: control characters dropped, lines ended by
    LF, undecodable characters (lone surrogates) replaced by U+FFFD.
    """
    return replaceSurrogates("\n".join(printableLines(status)))


def send(
    request: FingerRequest,
    code: int,
    contentType: bytes,
    body: bytes,
    outcome: str | None = None,
) -> None:
    """Answer C{request} with one complete body (unless the client has gone)."""
    if outcome is not None:
        request.outcome = outcome
    if request.gone:
        return
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", contentType)
    request.setHeader(b"Content-Length", b"%d" % (len(body),))
    request.write(body)
    request.finish()


def sendJSON(
    request: FingerRequest,
    code: int,
    document: Any,
    contentType: bytes = JSON,
    outcome: str | None = None,
    cacheControl: bytes | None = None,
) -> None:
    """
    Answer with C{document} as UTF-8 JSON; a read (GET or HEAD) is answered
    as L{sendReadOnly} says.
    """
    body = jsonBody(document)
    if request.method in READ_METHODS:
        sendReadOnly(request, code, contentType, body, outcome, cacheControl)
    else:
        send(request, code, contentType, body, outcome)


def jsonBody(document: Any) -> bytes:
    """C{document} as the UTF-8 JSON text the API answers with."""
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def sendReadOnly(
    request: FingerRequest,
    code: int,
    contentType: bytes,
    body: bytes,
    outcome: str | None = None,
    cacheControl: bytes | None = None,
    tag: bytes | None = None,
) -> None:
    """
    Answer a read of public data: any origin may read it (CORS, errors
    included), a 200 has a strong C{ETag} (C{tag}, or L{entityTag} of the
    body) and is a bodiless 304 when C{If-None-Match} names it;
    C{cacheControl} is sent if given.
    """
    request.setHeader(b"Access-Control-Allow-Origin", b"*")
    if cacheControl is not None:
        request.setHeader(b"Cache-Control", cacheControl)
    if code == 200:
        if tag is None:
            tag = entityTag(body)
        request.setHeader(b"ETag", tag)
        if ifNoneMatch(request.getHeader(b"if-none-match"), tag):
            if outcome is not None:
                request.outcome = f"{outcome}, not modified"
            if not request.gone:
                request.setResponseCode(304)
                request.finish()
            return
    send(request, code, contentType, body, outcome)


def entityTag(body: bytes) -> bytes:
    """A strong entity tag for C{body} (a hash of it, quoted)."""
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode("ascii") + b'"'


def ifNoneMatch(header: bytes | None, tag: bytes) -> bool:
    """
    Whether an C{If-None-Match} header names C{tag} (RFC 9110 13.1.2: weak
    comparison, so C{W/"x"} matches C{"x"}; C{*} matches anything).
    """
    if header is None:
        return False
    for candidate in header.split(b","):
        candidate = candidate.strip()
        if candidate == b"*" or candidate.removeprefix(b"W/") == tag:
            return True
    return False


def succeeded(looked: defer.Deferred[str]) -> str | None:
    """
    The result of C{looked} if it has already succeeded (a backend that
    answers at once); C{None} if it failed or is still waiting (then it is
    left as it is, for the caller to wait on).
    """
    if looked.called and not looked.paused:
        result = looked.result
        if isinstance(result, str):
            return result
    return None


def runAsync(
    request: FingerRequest,
    work: Coroutine[Any, Any, None],
    failed: Callable[[FingerRequest], None],
) -> int:
    """
    Run a resource's coroutine; an unexpected failure is logged and
    C{failed(request)} answers the client.  If the client goes away first,
    the coroutine is cancelled.  Returns C{NOT_DONE_YET}.
    """

    def unexpected(failure: Failure) -> None:
        if failure.check(defer.CancelledError) and request.gone:
            return  # the client went away and the work was cancelled
        log.failure("Error answering {uri}", failure, uri=request.uri)
        if not request.gone and not request.finished:
            failed(request)

    running = defer.ensureDeferred(work)
    # The client going away cancels what the work waits for (a web status
    # fetch, say), unless others wait for it too.
    request.notifyFinish().addErrback(lambda _: running.cancel())
    running.addErrback(unexpected)
    return NOT_DONE_YET
