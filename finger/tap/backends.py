"""
The backend options of C{twistd finger} and the builders that turn them
into backend services.

Each option that chooses a backend records C{(kind, argument)} in
C{options["backends"]}, in the order given; L{makeBackend} builds each with
its builder in L{BACKENDS} and chains them when there are several.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.python import usage

from finger import client
from finger.backends.chain import ChainFingerService
from finger.backends.file import FileFingerService, UsersFileError
from finger.backends.local import DEFAULT_PROGRAM, LocalFingerService
from finger.backends.memory import MemoryFingerService
from finger.backends.passwd import PasswordFingerService
from finger.backends.proxy import DEFAULT_ALLOWED, DEFAULT_HOPS, ProxyFingerService, allowedTarget
from finger.backends.store import (
    SQLiteFingerService,
    StoreOpenError,
    permissionHint,
    userName,
)
from finger.backends.webstatus import (
    DEFAULT_TIMEOUT,
    DEFAULT_TTL,
    TrustRootPolicy,
    WebStatusService,
    checkTemplate,
    loadTrustRoot,
)
from finger.coerce import nonNegativeSeconds, positiveInteger, positiveSeconds
from finger.interfaces import IFingerService
from finger.tap.errors import Prefixes, StartupError
from finger.tap.privileges import errorAs, twistdUser

# What goes before the message of a component's error raised when the
# service starts (see finger.tap.errors.StartupService).
ERROR_PREFIXES: Prefixes = {StoreOpenError: "--store: "}


class BackendChoice(usage.Options):
    """
    The backends chosen, in order: the base of the backend options mixins.
    (It has no options of its own, so that mixing several in lists none
    twice.)
    """

    def __init__(self) -> None:
        super().__init__()
        self["backends"] = []

    def addBackend(self, kind: str, argument: str | None = None) -> None:
        """Choose the backend C{kind} (a key of L{BACKENDS}) once."""
        if (kind, argument) not in self["backends"]:
            self["backends"].append((kind, argument))


class BackendOptions(BackendChoice):
    """The users file, memory and system backends' options."""

    optFlags = [
        ["pwd-verbose", None, "Let /W queries show --pwd users' home directory and shell."],
    ]
    optParameters = [
        ["refresh", None, 30.0, "Seconds between checks of the users file for changes.", positiveSeconds],
        ["local-program", None, DEFAULT_PROGRAM, "The finger program --local runs."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["users"] = {}
        self["pwd-users"] = []

    def opt_file(self, path: str) -> None:
        """Serve statuses from a users file (one 'name: status' per line)."""
        self.addBackend("file", path)

    def opt_memory(self) -> None:
        """Use a settable in-memory backend (see --user)."""
        self.addBackend("memory")

    def opt_user(self, assignment: str) -> None:
        """Seed the memory backend: NAME=STATUS (repeatable; implies --memory)."""
        name, sep, status = assignment.partition("=")
        if not sep or not name:
            raise usage.UsageError(f"--user wants NAME=STATUS, not {assignment!r}")
        try:
            assignment.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes on the command line
            raise usage.UsageError(f"--user {name!r}: not valid UTF-8") from None
        self["users"][name] = status
        self.addBackend("memory")

    def opt_pwd(self) -> None:
        """Serve system users (uid 1000-60000) and their ~/.project, ~/.plan."""
        self.addBackend("pwd")

    def opt_pwd_user(self, name: str) -> None:
        """Also serve this account with --pwd (repeatable; implies --pwd)."""
        self["pwd-users"].append(name)
        self.addBackend("pwd")

    def opt_local(self) -> None:
        """Ask the system's finger program (see --local-program)."""
        self.addBackend("local")

    def opt_store(self, path: str) -> None:
        """Keep settable statuses in an SQLite database (created on first start)."""
        self.addBackend("store", path)


def hopLimit(value: str) -> int:
    """L{positiveInteger}, worded for C{--forward-hops}."""
    int(value)  # Not a number: int's own message.
    try:
        return positiveInteger(value)
    except ValueError:
        raise ValueError(f"the hop limit must be at least 1, not {value!r}") from None


hopLimit.coerceDoc = "At least 1."  # type: ignore[attr-defined]  # read by usage.Options


class ProxyOptions(BackendChoice):
    """Forwarding and proxy options."""

    optFlags = [
        ["forward", None, "Forward user@host queries to host (RFC 1288 forwarding), "
         "to port 79 only unless --forward-allow says otherwise."],
    ]
    optParameters = [
        ["forward-timeout", None, client.DEFAULT_TIMEOUT,
         "Seconds a forwarded query may take (connecting and reading).", positiveSeconds],
        ["forward-hops", None, DEFAULT_HOPS,
         "Refuse forwarded queries with more '@' (hops) than this.", hopLimit],
    ]

    def opt_forward_allow(self, target: str) -> None:
        """Forward only to HOST[:PORT] (port 79 if omitted; '*' for any host or port; repeatable; implies --forward)."""
        try:
            allowedTarget(target)
        except ValueError as e:
            raise usage.UsageError(f"--forward-allow: {e}") from None
        self.setdefault("forward-allow", []).append(target)
        self["forward"] = True

    def opt_proxy(self) -> None:
        """Be a finger proxy: answer user@host by asking host (the backend)."""
        self.addBackend("proxy")
        self["forward"] = True


class WebStatusOptions(BackendChoice):
    """Options of the web status backend."""

    optParameters = [
        ["web-status-ttl", None, DEFAULT_TTL,
         "Seconds a fetched status (or 404) is reused.", nonNegativeSeconds],
        ["web-status-timeout", None, DEFAULT_TIMEOUT,
         "Seconds a status fetch may take.", positiveSeconds],
        ["web-status-ca", None, None,
         "PEM file of CA certificates to trust for HTTPS instead of the system's."],
    ]

    def opt_web_status(self, template: str) -> None:
        """Fetch statuses from a URL template, e.g. https://status.example.org/{user}.txt"""
        problem = checkTemplate(template)
        if problem:
            raise usage.UsageError(f"--web-status: {problem}")
        self.addBackend("webstatus", template)


# Builders: (argument recorded by the option, all options) -> backend service.


def fileBackend(path: str, options: usage.Options) -> FileFingerService:
    """C{--file PATH}: read once now, so that a bad file stops start-up."""
    metrics = getattr(options, "metrics", None)  # finger.tap.Options sets it
    backend = FileFingerService(
        path, refresh=options["refresh"], onLoad=metrics.reloaded if metrics else None
    )
    try:
        backend.loadNow()
    except UsersFileError as e:
        raise StartupError(str(e)) from None
    return backend


def memoryBackend(argument: None, options: usage.Options) -> MemoryFingerService:
    """C{--memory}, seeded by C{--user}."""
    return MemoryFingerService(options["users"])


def pwdBackend(argument: None, options: usage.Options) -> PasswordFingerService:
    """C{--pwd} (and C{--pwd-user}, C{--pwd-verbose})."""
    backend = PasswordFingerService(options["pwd-users"], verbose=options["pwd-verbose"])
    missing = backend.missingExtraUsers()
    if missing:
        raise StartupError(f"--pwd-user: no such account: {', '.join(missing)}")
    return backend


def localBackend(argument: None, options: usage.Options) -> LocalFingerService:
    """C{--local}: the program must be there now."""
    program = options["local-program"]
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        raise StartupError(
            f"--local-program {program!r} is not an executable file "
            "(on Debian: apt-get install finger)"
        )
    return LocalFingerService(program)


def checkStoreAs(store: SQLiteFingerService, uid: int | None, gid: int | None, euid: bool) -> None:
    """
    C{store.check()} as the user and group twistd will switch to (in a
    child process); raise L{StoreOpenError} saying who could not.
    """
    error = errorAs(store.check, uid, gid, euid)
    if error is not None:
        user = userName(uid) if uid is not None else f"group {gid}"
        raise StoreOpenError(
            f"{error} (checked as {user}, who will run the service{permissionHint(error)})"
        )


def storeBackend(path: str, options: usage.Options) -> SQLiteFingerService:
    """
    C{--store PATH}: checked now (creating nothing), as the user twistd
    C{-u}/C{-g} will switch to; opened by C{startService}, as that user.
    """
    metrics = getattr(options, "metrics", None)  # finger.tap.Options sets it
    backend = SQLiteFingerService(path, onWrite=metrics.stored if metrics else None)
    uid, gid, euid = twistdUser(options)
    try:
        if uid is None and gid is None:
            backend.check()
        else:
            checkStoreAs(backend, uid, gid, euid)
    except StoreOpenError as e:
        raise StartupError(f"--store: {e}") from None
    return backend


def proxyFromOptions(options: usage.Options) -> ProxyFingerService:
    """A proxy configured by the C{--forward*} options."""
    return ProxyFingerService(
        allowed=options.get("forward-allow") or DEFAULT_ALLOWED,
        timeout=options["forward-timeout"],
        maxHops=options["forward-hops"],
    )


def proxyBackend(argument: None, options: usage.Options) -> ProxyFingerService:
    """C{--proxy}: the whole service is a finger proxy."""
    return proxyFromOptions(options)


def forwarderFor(backend: IFingerService, options: usage.Options) -> IFingerService | None:
    """The service answering C{@} queries: C{None} (refused) unless C{--forward}."""
    if not options.get("forward"):
        return None
    if isinstance(backend, ProxyFingerService):
        return backend
    return proxyFromOptions(options)


def webStatusBackend(template: str, options: usage.Options) -> WebStatusService:
    """C{--web-status URL}: the CA file, if any, must be readable now."""
    policy = None
    if options.get("web-status-ca"):
        try:
            policy = TrustRootPolicy(loadTrustRoot(options["web-status-ca"]))
        except ValueError as e:
            raise StartupError(f"--web-status-ca: {e}") from None
    return WebStatusService(
        template,
        ttl=options["web-status-ttl"],
        timeout=options["web-status-timeout"],
        policy=policy,
    )


# Backend kind (as recorded by the options) -> builder(argument, options).
BACKENDS: dict[str, Callable[[Any, usage.Options], IFingerService]] = {
    "file": fileBackend,
    "memory": memoryBackend,
    "proxy": proxyBackend,
    "webstatus": webStatusBackend,
    "pwd": pwdBackend,
    "local": localBackend,
    "store": storeBackend,
}


def makeBackend(options: usage.Options) -> IFingerService:
    """
    Build the backend service the options ask for: one backend, or a chain
    of them in the order given.
    """
    backends = [BACKENDS[kind](argument, options) for kind, argument in options["backends"]]
    if len(backends) == 1:
        return backends[0]
    return ChainFingerService(backends)
