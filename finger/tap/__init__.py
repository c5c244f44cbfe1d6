"""
The C{twistd finger} command: options and L{makeService}.

Backends are chosen by options, in the order given; frontends are adapted
from the backend and listen on Twisted endpoint strings.
"""

from __future__ import annotations

import os

from twisted.application import service
from twisted.python import usage

from finger.backends.chain import ChainFingerService
from finger.backends.file import FileFingerService, UsersFileError
from finger.backends.local import DEFAULT_PROGRAM, LocalFingerService
from finger.backends.memory import MemoryFingerService
from finger.backends.passwd import PasswordFingerService
from finger.backends.proxy import ProxyOptions, forwarderFor, proxyBackend
from finger.backends.store import SQLiteFingerService, StoreOpenError, twistdUser
from finger.backends.webstatus import WebStatusOptions, webStatusBackend
from finger.tap.irc import IRCOptions, addIRCBot
from finger.frontends.pb import PBOptions, addPBListeners
from finger.interfaces import IFingerFactory, IFingerSetterFactory, IFingerSetterService
from finger.coerce import positiveInteger, positiveSeconds
from finger.querylog import QueryLog
from finger.limits import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER, Limits
from finger.listen import StartupError, endpointDescriptions, listen

# Importing a frontend registers its adapter.
import finger.frontends.finger  # noqa: F401, E402
import finger.frontends.setter  # noqa: F401, E402
import finger.frontends.web.root  # noqa: F401, E402
from finger.adapt import frontend
from finger.frontends.web.root import WebSettings
from finger.frontends.web.site import FingerSite
from finger.frontends.web.templates import TemplateError, Templates
from finger.frontends.web.tls import TLSConfigurationError, httpsDescription
from twisted.web.resource import IResource

DEFAULT_FINGER = ["tcp:79"]
DEFAULT_SETTER = ["tcp:1079:interface=127.0.0.1"]
DEFAULT_WEB = ["tcp:8000"]


class Options(ProxyOptions, WebStatusOptions, PBOptions, IRCOptions, usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Serve users' statuses over RFC 1288 finger (and the other frontends). "
        "Choose a backend: --file PATH or --memory (seeded with --user). "
        "System backends: --pwd (users' ~/.plan), --local (the finger program), "
        "--store PATH (SQLite). Several backends are chained in the order given. "
        "Endpoints are Twisted endpoint strings, e.g. tcp:79 or "
        "tcp:7979:interface=127.0.0.1; 'none' disables a frontend."
    )

    optFlags = [
        ["no-list", None, "Refuse the empty query (list of all users)."],
        ["no-log-queries", None, "Do not log each query (who fingered whom)."],
        ["pwd-verbose", None, "Let /W queries show --pwd users' home directory and shell."],
    ]
    optParameters = [
        ["refresh", None, 30.0, "Seconds between checks of the users file for changes.", positiveSeconds],
        ["timeout", None, 60.0, "Idle timeout for clients, in seconds.", positiveSeconds],
        ["local-program", None, DEFAULT_PROGRAM, "The finger program --local runs."],
        ["templates", None, None, "Directory of customised web templates (each looked up there first)."],
        # Limits (finger.limits): every listener enforces the connection limits.
        ["max-connections", None, DEFAULT_MAX_CONNECTIONS,
         "Most connections one listener accepts at once.", positiveInteger],
        ["max-connections-per-peer", None, DEFAULT_MAX_CONNECTIONS_PER_PEER,
         "Most connections one listener accepts at once from one client address.",
         positiveInteger],
        ["max-connection-time", None, 300.0,
         "Longest a finger or setter connection may last, in seconds.", positiveSeconds],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["backends"]: list[tuple[str, str | None]] = []
        self["users"]: dict[str, str] = {}
        self["pwd-users"]: list[str] = []
        self["finger"] = []
        self["setter"] = []
        self["web"] = []
        self["https"] = []

    def _addBackend(self, kind: str, argument: str | None = None) -> None:
        if (kind, argument) not in self["backends"]:
            self["backends"].append((kind, argument))

    def opt_file(self, path: str) -> None:
        """Serve statuses from a users file (one 'name: status' per line)."""
        self._addBackend("file", path)

    def opt_memory(self) -> None:
        """Use a settable in-memory backend (see --user)."""
        self._addBackend("memory")

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
        self._addBackend("memory")

    def opt_pwd(self) -> None:
        """Serve system users (uid 1000-60000) and their ~/.project, ~/.plan."""
        self._addBackend("pwd")

    def opt_pwd_user(self, name: str) -> None:
        """Also serve this account with --pwd (repeatable; implies --pwd)."""
        self["pwd-users"].append(name)
        self._addBackend("pwd")

    def opt_local(self) -> None:
        """Ask the system's finger program (see --local-program)."""
        self._addBackend("local")

    def opt_store(self, path: str) -> None:
        """Keep settable statuses in an SQLite database (created on first start)."""
        self._addBackend("store", path)

    def opt_finger(self, description: str) -> None:
        """Endpoint for the finger frontend (repeatable; default tcp:79)."""
        self["finger"].append(description)

    def opt_setter(self, description: str) -> None:
        """Endpoint for the status setter (repeatable; default
        tcp:1079:interface=127.0.0.1 when the backend is settable)."""
        self["setter"].append(description)

    def parseOptions(self, options=None) -> None:
        """
        Turn usage errors into a one-line message and exit status 1 (twistd
        22.4 would print the whole help and exit 0).
        """
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            raise StartupError(f"{e} (see: twistd finger --help)") from None

    def opt_web(self, description: str) -> None:
        """Endpoint for the web frontend (repeatable; default tcp:8000)."""
        self["web"].append(description)

    def opt_https(self, description: str) -> None:
        """HTTPS endpoint, e.g. ssl:8443:privateKey=key.pem:certKey=cert.pem
        (repeatable; off by default; TLS 1.2 or newer)."""
        self["https"].append(description)

    def postOptions(self) -> None:
        if not self["backends"]:
            raise usage.UsageError(
                "choose a backend: --file PATH, --memory, --pwd, --local, --store PATH, "
                "--proxy or --web-status URL"
            )
        self.queryLog = QueryLog(enabled=not self["no-log-queries"])
        # Pass to every listen(..., limits=options.limits).
        self.limits = Limits(self["max-connections"], self["max-connections-per-peer"])


def fileBackend(path: str, options: Options) -> FileFingerService:
    backend = FileFingerService(path, refresh=options["refresh"])
    try:
        backend.loadNow()
    except UsersFileError as e:
        raise StartupError(str(e)) from None
    return backend


def memoryBackend(argument: None, options: Options) -> MemoryFingerService:
    return MemoryFingerService(options["users"])


def pwdBackend(argument: None, options: Options) -> PasswordFingerService:
    backend = PasswordFingerService(options["pwd-users"], verbose=options["pwd-verbose"])
    missing = backend.missingExtraUsers()
    if missing:
        raise StartupError(f"--pwd-user: no such account: {', '.join(missing)}")
    return backend


def localBackend(argument: None, options: Options) -> LocalFingerService:
    program = options["local-program"]
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        raise StartupError(
            f"--local-program {program!r} is not an executable file "
            "(on Debian: apt-get install finger)"
        )
    return LocalFingerService(program)


def storeBackend(path: str, options: Options) -> SQLiteFingerService:
    backend = SQLiteFingerService(path)
    try:
        backend.check(*twistdUser(options))  # as the user twistd -u will switch to
    except StoreOpenError as e:
        raise StartupError(f"--store: {e}") from None
    return backend


# Backend kind (as recorded by Options) -> builder(argument, options).
BACKENDS = {
    "file": fileBackend,
    "memory": memoryBackend,
    "proxy": proxyBackend,
    "webstatus": webStatusBackend,
    "pwd": pwdBackend,
    "local": localBackend,
    "store": storeBackend,
}


def makeBackend(options: Options):
    """
    Build the backend service the options ask for: one backend, or a chain
    of them in the order given.
    """
    backends = [BACKENDS[kind](argument, options) for kind, argument in options["backends"]]
    if len(backends) == 1:
        return backends[0]
    return ChainFingerService(backends)


def addFingerListeners(top: service.MultiService, backend, options: Options) -> None:
    forwarder = forwarderFor(backend, options)
    for description in endpointDescriptions(options["finger"], DEFAULT_FINGER):
        factory = IFingerFactory(backend)
        factory.listUsers = not options["no-list"]
        factory.timeout = options["timeout"]
        factory.timeLimit = options["max-connection-time"]
        factory.queryLog = options.queryLog
        factory.forwarder = forwarder
        listen(top, "finger", description, factory, limits=options.limits)


def addSetterListeners(top: service.MultiService, backend, options: Options) -> None:
    settable = IFingerSetterService.providedBy(backend)
    if not settable:
        if endpointDescriptions(options["setter"], []):
            raise StartupError(
                "--setter needs a settable backend (e.g. --memory); "
                "this backend cannot be written"
            )
        return
    for description in endpointDescriptions(options["setter"], DEFAULT_SETTER):
        factory = IFingerSetterFactory(backend)
        factory.timeout = options["timeout"]
        factory.timeLimit = options["max-connection-time"]
        factory.queryLog = options.queryLog
        listen(top, "setter", description, factory, limits=options.limits)


def addWebListeners(top: service.MultiService, backend, options: Options) -> None:
    """One site serves every web (HTTP) and HTTPS listener."""
    web = endpointDescriptions(options["web"], DEFAULT_WEB)
    https = endpointDescriptions(options["https"], [])
    if not web and not https:
        return
    try:
        templates = Templates(options["templates"] or None)
    except TemplateError as e:
        raise StartupError(str(e)) from None
    root = frontend(IResource, backend, WebSettings(templates=templates))
    site = FingerSite(root, timeout=options["timeout"], queryLog=options.queryLog)
    for description in web:
        listen(top, "web", description, site, limits=options.limits)
    for description in https:
        try:
            endpoint = httpsDescription(description)
        except TLSConfigurationError as e:
            raise StartupError(str(e)) from None
        listen(top, "https", endpoint, site, limits=options.limits)


def makeService(options: Options) -> service.MultiService:
    """Compose the backend and the frontends into one service."""
    top = service.MultiService()
    backend = makeBackend(options)
    backend.setServiceParent(top)
    addFingerListeners(top, backend, options)
    addSetterListeners(top, backend, options)
    addWebListeners(top, backend, options)
    addPBListeners(top, backend, options)
    addIRCBot(top, backend, options)
    return top
