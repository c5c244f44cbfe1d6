"""The contracts between backends and frontends.

Backends implement L{IFingerService} (and L{IFingerSetterService} when they
can be written).  Frontends are adapters from L{IFingerService} to a factory
or resource interface, registered with
C{twisted.python.components.registerAdapter}; they never know which backend
they serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IProtocol
from zope.interface import Attribute, Interface


class UserNotFound(KeyError):
    """
    C{getUser} failed because the backend has no such user.

    Each frontend renders it its own way: a "no such user" line, an HTTP 404,
    an XML-RPC fault, an IRC reply.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no such user: {self.name}"


class StoreError(Exception):
    """
    C{setUser} could not store the status (read-only backend, invalid name,
    write failure).  The message is meant for the client that asked.
    """


class IFingerService(Interface):
    """A source of users' statuses."""

    def getUser(name: str) -> Deferred[str]:
        """
        Return a Deferred that fires with C{name}'s status (a C{str}, possibly
        several lines), or fails with L{UserNotFound}.
        """

    def getUsers() -> Deferred[Sequence[str]]:
        """
        Return a Deferred that fires with the user names, sorted.

        The result is a sequence (a list or tuple) that callers must not
        mutate; backends may return a shared, cached object so that listing a
        million users stays cheap.
        """


class IFingerSetterService(Interface):
    """A store whose statuses can be written."""

    def setUser(name: str, status: str) -> Deferred[None]:
        """
        Store C{status} for C{name}.  Return a Deferred that fires with
        C{None} once the status is stored, or fails with L{StoreError}.
        """


class IFingerClearService(Interface):
    """Optional: a settable store whose statuses can also be removed."""

    def clearUser(name: str) -> Deferred[None]:
        """
        Remove C{name}'s status (the name then reads as unknown).  Fire with
        C{None} once removed, also when there was none; fail with
        L{StoreError}.
        """


class IFingerVerboseService(Interface):
    """
    Optional: a backend with more to say for the verbose query (RFC 1288
    C{/W name}).  Frontends use it when the backend provides it and fall back
    to C{IFingerService.getUser} otherwise.
    """

    def getUserVerbose(name: str) -> Deferred[str]:
        """
        Like C{IFingerService.getUser}, possibly with more lines; fails with
        L{UserNotFound} exactly when C{getUser} would.
        """


class IFingerDetails(Interface):
    """
    Optional: a backend that knows more about a status than its text, for
    frontends that want it (C{getUser} stays a plain string).
    """

    def getUserDetails(name: str) -> Deferred[dict[str, Any]]:
        """
        Return a Deferred that fires with a dict: C{"status"} (the C{str}
        C{getUser} would give) and C{"setAt"} (when it was set, as Unix time
        in seconds, a C{float}, or C{None} when unknown); or fails with
        L{UserNotFound}.
        """


class ISubscription(Interface):
    """A subscription to an L{IFingerChangeFeed}."""

    def unsubscribe() -> None:
        """Stop receiving changes (calling it again does nothing)."""

    def cancel() -> None:
        """The same as L{unsubscribe}."""


class IFingerChangeFeed(Interface):
    """
    Optional: a backend that tells when a status changes (the memory and
    SQLite stores, the users file when a reload changed lines, chains of
    them).  See L{finger.feed}.
    """

    def subscribe(callback: Any) -> ISubscription:
        """
        Call C{callback(change)} after each change, with a
        L{finger.feed.StatusChange} (C{name}, C{status} or C{None} when the
        user was removed, C{setAt}).  C{callback} must be quick and should
        not raise (an error is logged once, never raised into the writer).
        """


class IFingerFactory(Interface):
    """The RFC 1288 finger frontend: a server factory built from a service."""

    settings = Attribute("Its finger.frontends.finger.FingerSettings.")

    def buildProtocol(addr: IAddress) -> IProtocol | None:
        """Return a protocol for a new connection."""


class IFingerSetterFactory(Interface):
    """The status setter frontend: a server factory built from a settable service."""

    settings = Attribute("Its finger.frontends.setter.SetterSettings.")

    def buildProtocol(addr: IAddress) -> IProtocol | None:
        """Return a protocol for a new connection."""


class LookupFailed(Exception):
    """
    C{getUser} could not get an answer (a remote server refused, timed out or
    sent too much; forwarding was denied).  C{str(error)} is one line meant
    for the client, e.g. C{"Error: example.org:79 refused the connection"};
    frontends show it instead of a generic error, without a traceback.
    """


class IFingerSnapshots(Interface):
    """
    Optional: a backend that can hand out a consistent view of its statuses,
    so that a listing comes from one version of the table from its first
    line to its last, even while a reload swaps the table (frontends that
    list use L{finger.frontends.lookup.listingView}).
    """

    def snapshot() -> IFingerService:
        """
        Return an L{IFingerService} whose C{getUsers} and C{getUser} answer
        from the version of the statuses current now, however they change
        later.  Cheap: no per-user copy (backends share immutable tables).
        """
