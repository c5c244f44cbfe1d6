"""
How the frontends other than finger ask a backend for one user.

RFC 1288 forwarding (C{user@host}) belongs to the finger protocol: only the
finger frontend forwards (with C{--forward} or C{--proxy}).  The web pages,
the JSON API, XML-RPC, WebFinger and PB answer a name containing C{@} as an
unknown user without asking the backend, so that a C{--proxy} backend never
connects out for them (any web page a visitor opens could otherwise make
this server connect to hosts of its choosing).  The IRC bot refuses such
names already: they are not user names.
"""

from __future__ import annotations

from twisted.internet import defer

from finger.interfaces import IFingerService, IFingerSnapshots, LookupFailed, UserNotFound
from finger.text import stripControls


def getLocalUser(service: IFingerService, name: str) -> defer.Deferred:
    """
    C{service.getUser(name)}, except that a forwarding query (a name with
    C{@}) fails with L{UserNotFound} at once.
    """
    if "@" in name:
        return defer.fail(UserNotFound(name))
    return defer.maybeDeferred(service.getUser, name)


def lookupFailedMessage(error: LookupFailed) -> str:
    """The one line a L{LookupFailed} has for the client, control characters removed."""
    return stripControls(str(error))


def statusOrNone(service: IFingerService, name: str) -> defer.Deferred:
    """
    C{service.getUser(name)} for a listing: a user removed between
    C{getUsers} and this lookup fires C{None} (left out of the listing).
    """

    def goneIsNone(failure):
        failure.trap(UserNotFound)
        return None

    return defer.maybeDeferred(service.getUser, name).addErrback(goneIsNone)


def listingView(service: IFingerService) -> IFingerService:
    """
    What a listing reads from: the backend's snapshot when it offers one
    (L{IFingerSnapshots}: every line from one version of the table), the
    backend itself otherwise.
    """
    if IFingerSnapshots.providedBy(service):
        view: IFingerService = service.snapshot()
        return view
    return service
