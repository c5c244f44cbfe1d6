"""
The RFC 1288 finger frontend: an adapter from L{IFingerService} to
L{IFingerFactory}.

Queries: C{name}, C{/W name}, the empty query (list everyone) and C{/W}.
C{/W name} asks C{getUserVerbose} when the backend provides
L{IFingerVerboseService}, C{getUser} otherwise.
Queries with C{@host} are forwarding requests (RFC 1288 {Q2}); they are
refused unless the settings name a C{forwarder} service to answer them (its
C{getUserVerbose} for C{/W}, which RFC 1288 applies at the far end).

Configured by a L{FingerSettings}::

    frontend(IFingerFactory, backend, FingerSettings(listUsers=False))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, protocol, task
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python import components
from zope.interface import implementer

from finger.adapt import registerFrontend
from finger.frontends.linebased import LineQueryProtocol, LineSettings
from finger.frontends.lookup import listingView, statusOrNone
from finger.interfaces import (
    IFingerFactory,
    IFingerService,
    IFingerVerboseService,
    LookupFailed,
    UserNotFound,
)
from finger.text import printableLines, stripControls

LIST_DENIED = "Finger online user list denied"
FORWARDING_DENIED = "Finger forwarding service denied"
LIST_BATCH = 100


@dataclass(frozen=True)
class FingerSettings(LineSettings):
    """
    The finger frontend's settings (see L{LineSettings} for the others).

    @ivar listUsers: whether the empty query lists everyone.
    @ivar forwarder: the service answering C{user@host} queries; C{None}
        refuses them.
    @ivar cooperate: schedules the listing's batches
        (L{twisted.internet.task.cooperate} by default).
    """

    listUsers: bool = True
    forwarder: IFingerService | None = None
    cooperate: Callable[[Iterator[Any]], task.CooperativeTask] = task.cooperate


def parseQuery(text: str) -> tuple[bool, str]:
    """
    Split an RFC 1288 query into (verbose, rest): C{/W} (any case) followed by
    any spaces marks the verbose form.
    """
    query = text.strip()
    if query[:2].upper() == "/W":
        return True, query[2:].strip()
    return False, query


def noSuchUser(name: str) -> str:
    """The answer for an unknown user."""
    return f"No such user: {stripControls(name)}"


class FingerProtocol(LineQueryProtocol):
    """Answers one finger query and closes."""

    log = Logger()
    frontend = "finger"
    lookup: defer.Deferred | None = None  # the user lookup under way
    gone = False  # the connection is lost

    @property
    def settings(self) -> FingerSettings:
        """The factory's settings."""
        settings: FingerSettings = self.factory.settings
        return settings

    def textReceived(self, text: str) -> None:
        """Answer the query."""
        self.answering()
        self.query = text
        verbose, query = parseQuery(text)
        if "@" in query:
            forwarder = self.settings.forwarder
            if forwarder is None:
                self.answer([FORWARDING_DENIED], "forwarding denied")
            else:
                self._answerUser(forwarder, query, verbose)
        elif query:
            self._answerUser(self.factory.service, query, verbose)
        elif not self.settings.listUsers:
            self.answer([LIST_DENIED], "list denied")
        else:
            self._answerList()

    def _answerUser(self, service: IFingerService, name: str, verbose: bool = False) -> None:
        lookup = service.getUser
        if verbose and IFingerVerboseService.providedBy(service):
            lookup = service.getUserVerbose
        # One callback pair on the lookup's Deferred (maybeDeferred and a
        # second callback cost as much as the lookup itself).
        try:
            d = lookup(name)
        except Exception:
            d = defer.fail()
        if not isinstance(d, defer.Deferred):
            d = defer.succeed(d)
        self.lookup = d
        d.addCallbacks(self._userFound, self._userFailed, errbackArgs=(name,))

    def _userFound(self, status: str) -> None:
        self.answer(printableLines(status), "found")

    def _userFailed(self, failure, name: str) -> None:
        result = self._failureAnswer(failure, name)
        if result is not None:
            self.answer(*result)

    def connectionLost(self, reason=protocol.connectionDone) -> None:
        """
        The client went away: cancel the lookup still under way on its
        behalf (a forwarded query's connection, a web status fetch, a local
        finger program).
        """
        super().connectionLost(reason)
        self.gone = True
        lookup, self.lookup = self.lookup, None
        if lookup is not None:
            lookup.cancel()  # nothing happens if it has its result

    def _failureAnswer(self, failure, name: str) -> tuple[list[str], str] | None:
        if failure.check(defer.CancelledError) and self.gone:
            self.record("cancelled: the client went away")
            return None
        if failure.check(UserNotFound):
            return [noSuchUser(name)], "no such user"
        if failure.check(LookupFailed):
            message = stripControls(str(failure.value))
            return [message], message
        self.log.failure("Finger query for {name!r} failed", failure, name=name)
        return [f"Error: could not look up {stripControls(name)}"], "error"

    def _answerList(self) -> None:
        # One version of the table from the first line to the last.
        view = listingView(self.factory.service)
        d = defer.maybeDeferred(view.getUsers)
        d.addCallback(self._streamList, view)
        d.addErrback(self._listFailed)

    def _listFailed(self, failure) -> None:
        self.log.failure("Listing users failed", failure)
        self.answer(["Error: could not list users"], "error")

    def _streamList(self, names, view: IFingerService) -> defer.Deferred:
        """
        Write C{name: status} lines in batches, pausing while the client
        does not read (the transport's back-pressure), then close.
        """
        if not names:
            self.answer(["No one is here."], "listed 0 users")
            return defer.succeed(None)
        work = self.settings.cooperate(self._listBatches(names, view))
        producer = _TaskProducer(work)
        self.transport.registerProducer(producer, True)

        def finished(result):
            self.record(f"listed {len(names)} users")
            self.transport.unregisterProducer()
            self.transport.loseConnection()

        return work.whenDone().addCallbacks(finished, lambda f: f.trap(task.TaskStopped))

    def _listBatches(self, names, view: IFingerService):
        for start in range(0, len(names), LIST_BATCH):
            batch = names[start : start + LIST_BATCH]
            statuses = [statusOrNone(view, name) for name in batch]
            d = defer.gatherResults(statuses, consumeErrors=True)
            d.addCallback(self._writeBatch, batch)
            d.addErrback(self._batchFailed)
            yield d

    def _writeBatch(self, statuses, batch) -> None:
        lines = []
        for name, status in zip(batch, statuses, strict=True):
            if status is None:
                continue
            first, *rest = printableLines(status)
            lines.append(f"{stripControls(name)}: {first}")
            lines.extend(f"    {line}" for line in rest)
        if lines and self.transport is not None:
            self.transport.write("".join(f"{line}\r\n" for line in lines).encode("utf-8"))

    def _batchFailed(self, failure) -> None:
        self.log.failure("Listing users failed", failure)
        self.transport.write(b"Error: could not list all users\r\n")



@implementer(IPushProducer)
class _TaskProducer:
    """Lets a transport pause and resume a cooperative task."""

    def __init__(self, work: task.CooperativeTask) -> None:
        self._work = work

    def _call(self, method) -> None:
        try:
            method()
        except (task.TaskFinished, task.NotPaused):
            pass  # Finished already, or resumed without a pause.

    def pauseProducing(self) -> None:
        self._call(self._work.pause)

    def resumeProducing(self) -> None:
        self._call(self._work.resume)

    def stopProducing(self) -> None:
        self._call(self._work.stop)


@implementer(IFingerFactory)
class FingerFactoryFromService(protocol.ServerFactory):
    """A finger server for any L{IFingerService}."""

    protocol = FingerProtocol
    refusalMessage = "Too many connections, try again later"

    def __init__(self, service: IFingerService, settings: FingerSettings = FingerSettings()) -> None:
        self.service = service
        self.settings = settings


components.registerAdapter(FingerFactoryFromService, IFingerService, IFingerFactory)
registerFrontend(FingerFactoryFromService, FingerSettings, IFingerFactory)
