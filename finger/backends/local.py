"""
The local backend: ask the system's C{finger} program.

The program runs as C{PROGRAM -m NAME} (an argument vector, never a shell;
C{-m} matches login names only), only for names made of letters, digits and
C{._-} (at most 32, not starting with C{-}), with a minimal environment, a
timeout after which it is killed, an output cap, and at most
C{MAX_RUNNING} copies at once (C{MAX_WAITING} more lookups wait; beyond
that a lookup fails at once).  A lookup cancelled by its frontend (the
client went away) kills its program.  Other names are "no such user" without
running anything; so is an empty answer (Debian's finger says "no such
user" on its standard error).

The program answers for one name at a time and cannot list users, so
C{getUsers} is empty: chain with C{--pwd} to list the system's users.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from twisted.application import service
from twisted.internet import defer, error, protocol
from twisted.internet.interfaces import IDelayedCall, IProcessProtocol, IProcessTransport
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.backends.bounded import BoundedWork
from finger.interfaces import IFingerService, UserNotFound
from finger.reactors import globalReactor

DEFAULT_PROGRAM = "/usr/bin/finger"
DEFAULT_TIMEOUT = 5.0
MAX_OUTPUT = 64 * 1024
MAX_ERROR_OUTPUT = 4 * 1024
MAX_RUNNING = 4
# Lookups that may wait for one of the MAX_RUNNING places.
MAX_WAITING = 64
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

_T = TypeVar("_T")
_SAFE_NAME = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,31}")


def isSafeName(name: str) -> bool:
    """Whether C{name} may be passed to the finger program."""
    return _SAFE_NAME.fullmatch(name) is not None


class LocalFingerError(Exception):
    """The finger program did not give an answer (timeout, crash)."""


class ProcessReactor(Protocol):
    """
    What L{LocalFingerService} needs of its reactor: C{IReactorProcess}'s
    C{spawnProcess} and C{IReactorTime}'s C{callLater} (the real reactor,
    or C{MemoryReactorClock} in tests).
    """

    def spawnProcess(
        self,
        processProtocol: IProcessProtocol,
        executable: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
    ) -> IProcessTransport: ...

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kwargs: object
    ) -> IDelayedCall: ...


class _OutputCollector(protocol.ProcessProtocol):
    """Collects a capped amount of output; kills the program when asked."""

    transport: IProcessTransport | None

    def __init__(self, maxOutput: int) -> None:
        self.maxOutput = maxOutput
        self.output: list[bytes] = []
        self.outputSize = 0
        self.errors = b""
        self.truncated = False
        self.killed = False
        # Cancelling it (the client went away) kills the program.
        self.ended: defer.Deferred[BaseException | None] = defer.Deferred(
            lambda _: self.kill()
        )

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        room = self.maxOutput - self.outputSize
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        self.output.append(data)
        self.outputSize += len(data)
        if self.truncated:
            self.kill()

    def errReceived(self, data: bytes) -> None:
        self.errors = (self.errors + data)[:MAX_ERROR_OUTPUT]

    def kill(self) -> None:
        """Stop the program: SIGKILL it and stop reading its output."""
        self.killed = True
        if self.transport is None:
            return  # not started yet
        try:
            self.transport.signalProcess("KILL")
        except error.ProcessExitedAlready:
            pass
        self.transport.loseConnection()

    def processEnded(self, reason: Failure) -> None:
        if not self.ended.called:  # not cancelled
            self.ended.callback(reason.value)


@implementer(IFingerService)
class LocalFingerService(service.Service):
    """
    Statuses from the system's finger program.

    @param reactor: spawns the program and times it out; C{None} is the
        global reactor, resolved here.
    """

    log = Logger()

    def __init__(
        self,
        program: str = DEFAULT_PROGRAM,
        timeout: float = DEFAULT_TIMEOUT,
        maxOutput: int = MAX_OUTPUT,
        maxRunning: int = MAX_RUNNING,
        maxWaiting: int = MAX_WAITING,
        reactor: ProcessReactor | None = None,
    ) -> None:
        self.program = program
        self.timeout = timeout
        self.maxOutput = maxOutput
        self._reactor: ProcessReactor = globalReactor() if reactor is None else reactor
        self._running = BoundedWork(
            maxRunning, maxWaiting, "Error: too many local finger lookups at once; try again later"
        )

    def getUser(self, name: str) -> defer.Deferred[str]:
        """What C{PROGRAM -m name} says (at most C{maxRunning} at once)."""
        if not isSafeName(name):
            return defer.fail(UserNotFound(name))
        return self._running.run(self._run, name)

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The program cannot list users: always empty."""
        return defer.succeed(())

    def _run(self, name: str) -> defer.Deferred[str]:
        collector = _OutputCollector(self.maxOutput)
        self._reactor.spawnProcess(
            collector, self.program, [self.program, "-m", name], env=dict(ENVIRONMENT)
        )
        timer = self._reactor.callLater(self.timeout, collector.kill)

        def stopTimer(result: _T) -> _T:
            if timer.active():
                timer.cancel()
            return result

        def ended(status: BaseException | None) -> str:
            return self._answer(name, collector, status)

        return collector.ended.addBoth(stopTimer).addCallback(ended)

    def _answer(self, name: str, collector: _OutputCollector, status: BaseException | None) -> str:
        output = b"".join(collector.output)
        if collector.killed and not collector.truncated:
            raise LocalFingerError(
                f"{self.program} did not answer for {name!r} within {self.timeout:g} s; killed"
            )
        if isinstance(status, error.ProcessTerminated) and not collector.killed:
            self.log.warn(
                "{program} -m {name} exited with {status}: {stderr}",
                program=self.program,
                name=name,
                status=status.exitCode if status.exitCode is not None else status.signal,
                stderr=collector.errors.decode("utf-8", "replace").strip(),
            )
        text = output.decode("utf-8", "replace").rstrip()
        if not text:
            raise UserNotFound(name)
        return text
