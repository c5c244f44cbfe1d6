"""
Worker processes: one parent keeps N copies of the service running, each
answering on the listening sockets the parent bound (see L{finger.inherited}).

L{WorkerPool} starts the workers with C{spawnProcess}, passing the
listening descriptors at the same numbers and a pipe on standard input
(the workers stop when it reaches end-of-file: the parent is gone, even
after a SIGKILL); their standard output and error are the parent's.  A
worker that dies is started again after L{RESTART_DELAY}, unless workers
were restarted C{maxRestarts} times in the last minute (a crash loop: it is
then left stopped, and the parent stops when none is left).  Stopping the
pool sends SIGTERM to every worker and waits (SIGKILL after
L{STOP_TIMEOUT}).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer, error, protocol
from twisted.internet.interfaces import IReadDescriptor
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from finger.reactors import globalReactor

RESTART_DELAY = 0.5
RESTART_WINDOW = 60.0
DEFAULT_MAX_RESTARTS = 10
STOP_TIMEOUT = 10.0


class _Worker(protocol.ProcessProtocol):
    def __init__(self, pool: WorkerPool, number: int) -> None:
        self.pool = pool
        self.number = number
        self.ended: defer.Deferred[None] = defer.Deferred()

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(None)
        self.pool._ended(self, reason)


class WorkerPool(service.Service):
    """
    Keeps C{count} workers running: C{command(number)} is worker C{number}'s
    argument list (C{number} from 1), C{fds} the descriptors each inherits.
    C{onEmpty} is called when no worker is left running and none will be
    restarted.
    """

    log = Logger()

    def __init__(
        self,
        count: int,
        command: Callable[[int], Sequence[str]],
        fds: Callable[[], Sequence[int]],
        env: dict[str, str],
        onEmpty: Callable[[], object],
        maxRestarts: int = DEFAULT_MAX_RESTARTS,
        reactor: Any = None,
    ) -> None:
        self.count = count
        self._command = command
        self._fds = fds
        self._env = env
        self._onEmpty = onEmpty
        self.maxRestarts = maxRestarts
        self._reactor = globalReactor() if reactor is None else reactor
        self.workers: dict[int, tuple[_Worker, Any]] = {}  # number -> (protocol, transport)
        self._restarts: collections.deque[float] = collections.deque()
        self._stopping = False

    def startService(self) -> None:
        super().startService()
        for number in range(1, self.count + 1):
            self._spawn(number)

    def _spawn(self, number: int) -> None:
        if self._stopping:
            return
        worker = _Worker(self, number)
        childFDs: dict[int, int | str] = {0: "w", 1: 1, 2: 2}
        for fd in self._fds():
            childFDs[fd] = fd
        args = list(self._command(number))
        transport = self._reactor.spawnProcess(
            worker, args[0], args, env=self._env, childFDs=childFDs
        )
        self.workers[number] = (worker, transport)
        self.log.info("worker {number} started (pid {pid})", number=number, pid=transport.pid)

    def _ended(self, worker: _Worker, reason: Failure) -> None:
        number = worker.number
        if self.workers.get(number, (None,))[0] is worker:
            del self.workers[number]
        if self._stopping:
            return
        how = _how(reason)
        now = self._reactor.seconds()
        while self._restarts and self._restarts[0] < now - RESTART_WINDOW:
            self._restarts.popleft()
        if len(self._restarts) >= self.maxRestarts:
            self.log.error(
                "worker {number} {how}; not restarting it: {count} restarts in the last "
                "minute (the limit)", number=number, how=how, count=len(self._restarts),
            )
            if not self.workers:
                self._onEmpty()
            return
        self._restarts.append(now)
        self.log.warn("worker {number} {how}; restarting it", number=number, how=how)
        self._reactor.callLater(RESTART_DELAY, self._spawn, number)

    def stopService(self) -> defer.Deferred[None]:
        """SIGTERM every worker; fires when all have ended."""
        super().stopService()
        self._stopping = True
        waiting = []
        for worker, transport in list(self.workers.values()):
            waiting.append(worker.ended)
            try:
                transport.signalProcess("TERM")
            except error.ProcessExitedAlready:
                continue
            kill = self._reactor.callLater(STOP_TIMEOUT, _kill, transport)
            worker.ended.addBoth(_cancel, kill)
        return defer.DeferredList(waiting).addCallback(lambda _: None)


def _cancel(result: object, call: Any) -> object:
    if call.active():
        call.cancel()
    return result


def _kill(transport: Any) -> None:
    try:
        transport.signalProcess("KILL")
    except error.ProcessExitedAlready:
        pass


def _how(reason: Failure) -> str:
    value = reason.value
    signal = getattr(value, "signal", None)
    if signal:
        return f"was killed by signal {signal}"
    return f"exited with status {getattr(value, 'exitCode', '?')}"


@implementer(IReadDescriptor)
class ParentWatch:
    """
    The read end of a pipe whose write end only the parent holds: when the
    parent dies (even by SIGKILL) it reads end-of-file and calls C{onGone}.
    """

    def __init__(self, reactor: Any, fd: int, onGone: Any) -> None:
        self._reactor = reactor
        self._fd = fd
        self._onGone = onGone

    def start(self) -> None:
        self._reactor.addReader(self)

    def stop(self) -> None:
        if self._fd >= 0:
            self._reactor.removeReader(self)
            os.close(self._fd)
            self._fd = -1

    def fileno(self) -> int:
        return self._fd

    def doRead(self) -> None:
        try:
            data = os.read(self._fd, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.stop()
            self._onGone()

    def connectionLost(self, reason: Failure) -> None:
        self.stop()
        self._onGone()

    def logPrefix(self) -> str:
        return "finger-parent-watch"
