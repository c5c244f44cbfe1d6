"""
C{--workers N}: one C{twistd finger} runs N worker processes sharing every
listening socket, so that one host uses all its cores.

The parent builds the whole service as a single process would (so every
configuration error is still a one-line start-up error), but starts only
its listeners: it binds every socket (before dropping privileges), stops
accepting on them, and runs the workers (L{finger.workers.WorkerPool}):
the same C{twistd finger} command line, with each listener replaced by
C{adopt:fd=N:family=...} (L{finger.inherited}) and C{--worker-id K} (which the
query log shows).  Each worker loads file backends itself; statuses set
through one worker reach the others only through a store they share
(C{--postgres}): C{--memory} and C{--store} are refused.  Connection limits
(C{--max-connections...}) apply per worker.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import protocol
from twisted.logger import Logger

from finger.inherited import adoptDescription
from finger.listen import ListeningService
from finger.reactors import globalReactor
from finger.tap.errors import StartupError, StartupService
from finger.workers import DEFAULT_MAX_RESTARTS, ParentWatch, WorkerPool

log = Logger()

# Frontend (as finger.listen names it) -> the option that gives its endpoints.
LISTENER_OPTIONS = {"finger": "--finger", "setter": "--setter", "web": "--web", "pb": "--pb"}
# Options that the parent replaces in the workers' command line.
_REPLACED = {*LISTENER_OPTIONS.values(), "--workers", "--worker-id", "--worker-max-restarts"}
# Backends whose statuses live in one process (they cannot be shared).
UNSHARED = {"memory": "--memory", "store": "--store"}
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"must be 0 or more, not {value!r}")
    return number


class WorkersOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["workers", None, 0,
         "Run this many worker processes sharing the listening sockets (0: answer in "
         "this process). Needs a shareable backend (--postgres, or read-only ones).",
         _count],
        ["worker-max-restarts", None, DEFAULT_MAX_RESTARTS,
         "Most worker restarts in a minute; a worker dying more often stays stopped.",
         _count],
        ["worker-id", None, None, "(Set by --workers for each worker.)", int],
    ]


def checkWorkers(options: Any) -> None:
    """Refuse C{--workers} with what cannot run in several processes; raise L{StartupError}."""
    for kind, _ in options["backends"]:
        if kind in UNSHARED:
            raise StartupError(
                f"--workers cannot be used with {UNSHARED[kind]}: its statuses live in one "
                "process, so a status set through one worker would not reach the others "
                "(use --postgres DSN to share them)"
            )
    refused = {
        "https": "--https (terminate TLS in front of the workers, e.g. nginx)",
        "manhole": "--manhole (one console per worker makes no sense)",
        "irc-server": "--irc-server (every worker would join; run the bot in its own twistd)",
    }
    for option, why in refused.items():
        if options.get(option):
            raise StartupError(f"--workers cannot be used with {why}")


def pluginArguments(argv: Sequence[str], subCommand: str = "finger") -> list[str]:
    """The arguments after twistd's own options and the plugin name, without those replaced."""
    args = list(argv[argv.index(subCommand) + 1:]) if subCommand in argv else []
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _REPLACED:
            skip = "=" not in arg
            continue
        kept.append(arg)
    return kept


def twistdArguments(parent: Any) -> list[str]:
    """The workers' own twistd options: in the foreground, logging as the parent does."""
    args = ["--nodaemon", "--pidfile="]
    if parent is None:
        return args
    logfile = parent.get("logfile")
    if logfile and logfile != "-":
        args.append(f"--logfile={logfile}")
    if parent.get("syslog"):
        args += ["--syslog", f"--prefix={parent.get('prefix') or 'twisted'}"]
    return args


def _portsOf(listeners: list[ListeningService]) -> list[tuple[str, Any]]:
    ports: list[tuple[str, Any]] = []

    def bound(port: Any, frontend: str) -> None:
        if port is not None:
            ports.append((frontend, port))

    for listener in listeners:
        listener.whenListening().addCallback(bound, listener.frontend)
    return ports


def makeWorkersParent(
    options: Any, build: Callable[[Any], service.MultiService], argv: Sequence[str] | None = None
) -> service.MultiService:
    """The parent of C{--workers N}."""
    checkWorkers(options)
    single = build(options)  # every check a single process makes; never started
    top = StartupService(single.prefixes if isinstance(single, StartupService) else {})
    listeners: list[ListeningService] = []
    for child in single:
        if isinstance(child, ListeningService):
            placeholder = ListeningService(
                child.frontend, child.description, child.endpoint, protocol.ServerFactory()
            )
            placeholder.setServiceParent(top)
            listeners.append(placeholder)
    if not listeners:
        raise StartupError("--workers: there is no listener to share")
    reactor = globalReactor()
    bound: list[tuple[str, Any]] = []

    def fds() -> list[int]:
        if not bound:
            bound.extend(_portsOf(listeners))
            for _, port in bound:
                port.stopReading()  # the workers accept, not the parent
        return [port.fileno() for _, port in bound]

    arguments = pluginArguments(sys.argv if argv is None else argv)
    twistd = twistdArguments(getattr(options, "parent", None))

    def command(number: int) -> list[str]:
        fds()
        listen: list[str] = []
        given = {frontend for frontend, _ in bound}
        for frontend, port in bound:
            listen += [LISTENER_OPTIONS[frontend], adoptDescription(port.fileno(), port.addressFamily)]
        for frontend, option in LISTENER_OPTIONS.items():
            if frontend not in given:
                listen += [option, "none"]
        return [*TWISTD, *twistd, "finger", *arguments, *listen, "--worker-id", str(number)]

    pool = WorkerPool(
        options["workers"], command, fds, dict(os.environ), onEmpty=lambda: reactor.stop(),
        maxRestarts=options["worker-max-restarts"], reactor=reactor,
    )
    pool.setServiceParent(top)
    return top


class ParentWatchService(service.Service):
    """Runs a L{ParentWatch} on standard input while started."""

    def __init__(self, reactor: Any, onGone: Callable[[], object]) -> None:
        self._watch = ParentWatch(reactor, 0, onGone)

    def startService(self) -> None:
        super().startService()
        os.set_blocking(0, False)
        self._watch.start()

    def stopService(self) -> None:
        super().stopService()
        self._watch.stop()


def addParentWatch(top: service.MultiService, options: Any) -> None:
    """In a worker: stop when the parent is gone (its pipe on standard input ends)."""
    if options["worker-id"] is None:
        return
    reactor = globalReactor()

    def gone() -> None:
        log.warn("worker {number}: the parent process is gone; stopping", number=options["worker-id"])
        if reactor.running:
            reactor.stop()

    ParentWatchService(reactor, gone).setServiceParent(top)
