"""
XML-RPC at C{/RPC2} (Twisted's L{twisted.web.xmlrpc}):

  - C{getUser(name)} returns the status, or fails with fault
    L{FAULT_NO_SUCH_USER} ("no such user: NAME"), or L{FAULT_LOOKUP_FAILED}
    (the backend's one-line reason) when the status is kept elsewhere and
    could not be had;
  - C{getUsers(offset=0, limit=1000)} returns up to C{limit} names, sorted.

  - C{setUser(name, status)} sets C{name}'s status for a caller with HTTP
    Basic credentials (a password or an API token; over HTTPS or from
    loopback only) who may write it, and returns C{True}.  Refusals are
    faults: L{FAULT_UNAUTHORIZED} (no or wrong credentials),
    L{FAULT_FORBIDDEN} (another user's status), L{FAULT_THROTTLED} (too
    many failed logins; the message says how long to wait),
    L{FAULT_INSECURE} (credentials over plain HTTP from another host),
    L{FAULT_NO_ACCOUNTS} (the service has no accounts), L{FAULT_NOT_STORED}
    (the store failed); a bad name or status is L{FAULT_BAD_ARGUMENTS}.

Wrong arguments are fault L{FAULT_BAD_ARGUMENTS} with a message saying
what was expected.  The body of a call is bounded by the site (413).
"""

from __future__ import annotations

import inspect
import re
import reprlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web import xmlrpc

from finger.accounts.gate import Authenticator
from finger.frontends import publish
from finger.frontends.lookup import getLocalUser, lookupFailedMessage
from finger.frontends.web.api import MAX_LIMIT
from finger.frontends.web.credentials import clientAddress, credentialsFrom
from finger.frontends.web.respond import displayStatus
from finger.interfaces import IFingerService, LookupFailed, UserNotFound

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

FAULT_NO_SUCH_USER = 1
FAULT_BAD_ARGUMENTS = 2
FAULT_LOOKUP_FAILED = 3
FAULT_UNAUTHORIZED = 4
FAULT_FORBIDDEN = 5
FAULT_THROTTLED = 6
FAULT_INSECURE = 7
FAULT_NO_ACCOUNTS = 8
FAULT_NOT_STORED = 9

# The fault for each refusal of a write (finger.frontends.publish).
REFUSAL_FAULTS: dict[type[publish.WriteRefused], int] = {
    publish.NoAccounts: FAULT_NO_ACCOUNTS,
    publish.InsecureTransport: FAULT_INSECURE,
    publish.NoCredentials: FAULT_UNAUTHORIZED,
    publish.LoginFailed: FAULT_UNAUTHORIZED,
    publish.LoginThrottled: FAULT_THROTTLED,
    publish.Forbidden: FAULT_FORBIDDEN,
    publish.BadName: FAULT_BAD_ARGUMENTS,
    publish.BadStatus: FAULT_BAD_ARGUMENTS,
    publish.CannotStore: FAULT_NOT_STORED,
}


# What XML 1.0 cannot carry at all (its Char production), once controls are
# gone: surrogates and the non-characters U+FFFE, U+FFFF.  One of them in a
# response makes the whole document unparseable for the client.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# How arguments are shown in the query log: bounded in depth and length, so
# that a hostile call (an array nested 20,000 deep) cannot exhaust the stack.
_argumentRepr = reprlib.Repr()
_argumentRepr.maxstring = _argumentRepr.maxother = 200


def xmlText(text: str) -> str:
    """C{text} with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _isInteger(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class FingerXMLRPC(xmlrpc.XMLRPC):
    """The XML-RPC face of an L{IFingerService}."""

    frontend = "xmlrpc"

    def __init__(self, service: IFingerService, accounts: Authenticator | None = None) -> None:
        super().__init__(allowNone=False, useDateTime=False)
        self.service = service
        self.accounts = accounts

    def lookupProcedure(self, procedurePath: str) -> Callable[..., defer.Deferred[Any]]:
        """
        Find the procedure, and wrap it so that wrong arguments are a clear
        fault and every call is described in the query log.
        """
        method = super().lookupProcedure(procedurePath)
        signature = inspect.signature(method)
        # Twisted's @withRequest marks methods that take the request first.
        needsRequest = bool(method.__dict__.get("withRequest"))

        @xmlrpc.withRequest
        def call(request: FingerRequest, *args: object) -> defer.Deferred[Any]:
            request.query = f"{procedurePath}({', '.join(map(_argumentRepr.repr, args))})"
            given = (request, *args) if needsRequest else args
            try:
                signature.bind(*given)
            except TypeError as e:
                d = defer.fail(xmlrpc.Fault(FAULT_BAD_ARGUMENTS, f"{procedurePath}: {e}"))
            else:
                d = defer.maybeDeferred(method, *given)
            # The client going away cancels the call (a web status fetch, say).
            request.notifyFinish().addErrback(lambda _: d.cancel())
            d.addCallbacks(
                self._succeeded, self._failed, callbackArgs=(request,), errbackArgs=(request,)
            )
            return d

        return call

    @staticmethod
    def _succeeded(result: object, request: FingerRequest) -> object:
        request.outcome = "answered"
        return result

    @staticmethod
    def _failed(failure: Failure, request: FingerRequest) -> Failure:
        if failure.check(defer.CancelledError) and request.gone:
            request.outcome = "cancelled: the client went away"
            # A fault is not logged as an error; no one is there to read it.
            return Failure(xmlrpc.Fault(FAULT_LOOKUP_FAILED, "cancelled"))
        fault = failure.value if isinstance(failure.value, xmlrpc.Fault) else None
        request.outcome = f"fault {fault.faultCode}: {fault.faultString}" if fault else "error"
        return failure

    def xmlrpc_getUser(self, name: object) -> defer.Deferred[str]:
        """Return the status of the user called C{name}."""
        if not isinstance(name, str):
            raise xmlrpc.Fault(FAULT_BAD_ARGUMENTS, "getUser: the name must be a string")
        d = getLocalUser(self.service, name)
        d.addCallback(lambda status: xmlText(displayStatus(status)))
        d.addErrback(self._userFailed, name)
        return d

    @staticmethod
    def _userFailed(failure: Failure, name: str) -> str:
        if isinstance(failure.value, LookupFailed):
            raise xmlrpc.Fault(FAULT_LOOKUP_FAILED, lookupFailedMessage(failure.value))
        failure.trap(UserNotFound)
        raise xmlrpc.Fault(FAULT_NO_SUCH_USER, f"no such user: {name}")

    def xmlrpc_getUsers(
        self, offset: object = 0, limit: object = MAX_LIMIT
    ) -> defer.Deferred[list[str]]:
        """Return up to C{limit} user names from C{offset}, sorted."""
        if not _isInteger(offset) or offset < 0:
            raise xmlrpc.Fault(
                FAULT_BAD_ARGUMENTS,
                f"getUsers: offset must be an integer from 0 up, not {offset!r}",
            )
        if not _isInteger(limit) or not 1 <= limit <= MAX_LIMIT:
            raise xmlrpc.Fault(
                FAULT_BAD_ARGUMENTS,
                f"getUsers: limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}",
            )
        d = defer.maybeDeferred(self.service.getUsers)
        return d.addCallback(lambda names: [xmlText(n) for n in names[offset : offset + limit]])

    @xmlrpc.withRequest
    def xmlrpc_setUser(
        self, request: FingerRequest, name: object, status: object
    ) -> defer.Deferred[bool]:
        """Set the status of the user called C{name} (HTTP Basic credentials)."""
        return defer.ensureDeferred(self._setUser(request, name, status))

    async def _setUser(self, request: FingerRequest, name: object, status: object) -> bool:
        if not isinstance(name, str):
            raise xmlrpc.Fault(FAULT_BAD_ARGUMENTS, "setUser: the name must be a string")
        request.target = name
        try:
            avatar = await publish.authenticate(
                self.accounts, credentialsFrom(request), clientAddress(request),
                request.isSecure(),
            )
            request.account = avatar.name
            assert self.accounts is not None
            publish.authorise(self.accounts, avatar, name)
            if not isinstance(status, str):
                raise publish.BadStatus("setUser: the status must be a string")
            await publish.store(self.service, avatar.name, name, status)
        except publish.WriteRefused as refusal:
            code = FAULT_NOT_STORED
            for kind in type(refusal).__mro__:
                if kind in REFUSAL_FAULTS:
                    code = REFUSAL_FAULTS[kind]
                    break
            raise xmlrpc.Fault(code, f"setUser: {refusal}") from None
        return True
