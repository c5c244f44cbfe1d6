"""
The C{twistd finger} command: options and L{makeService}.

Backends are chosen by options, in the order given; frontends are adapted
from the backend and listen on Twisted endpoint strings.

Everything about the command line lives in this package: the backend
options and builders in L{finger.tap.backends}, twistd's C{-u}/C{-g} in
L{finger.tap.privileges}, and in L{finger.tap.errors} the one place where a
component's error (a L{finger.errors.FingerConfigurationError}) becomes a
one-line start-up error and exit status 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.application import service
from twisted.python import usage
from twisted.web.resource import IResource

from finger.accounts.gate import Authenticator

# Importing a frontend's module registers its adapters.
from finger.adapt import frontend
from finger.coerce import positiveInteger, positiveSeconds
from finger.frontends.finger import FingerSettings
from finger.frontends.web.events import EventSettings
from finger.frontends.web.root import WebSettings
from finger.frontends.web.site import FingerSite
from finger.frontends.web.templates import Templates
from finger.frontends.web.tls import httpsDescription
from finger.interfaces import IFingerFactory
from finger.limits import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER
from finger.listen import endpointDescriptions, listen
from finger.tap.accounts import AccountsOptions, authenticatorFor
from finger.tap.backends import (
    BACKENDS,
    ERROR_PREFIXES,
    BackendOptions,
    ProxyOptions,
    WebStatusOptions,
    forwarderFor,
    makeBackend,
)
from finger.tap.errors import StartupError, StartupService, startupErrors
from finger.tap.irc import IRCOptions, addIRCBot
from finger.tap.limits import ClientNetworkOptions, limitsFromOptions
from finger.tap.manhole import ManholeOptions, addManhole
from finger.tap.metrics import MetricsOptions, addMetrics
from finger.tap.pb import PBOptions, addPBListeners
from finger.tap.postgres import PostgresOptions, postgresBackend
from finger.tap.querylog import buildQueryLog
from finger.tap.setter import addSetterListeners
from finger.tap.soap import SOAPOptions, soapResource
from finger.tap.webfinger import WebFingerOptions, trustedProxies, webfingerSettings, webLimits
from finger.tap.websessions import WebSessionOptions, webSessions
from finger.tap.workers import WorkersOptions, addParentWatch, makeWorkersParent

BACKENDS["postgres"] = postgresBackend

__all__ = ["BACKENDS", "Options", "StartupError", "makeBackend", "makeService"]

DEFAULT_FINGER = ["tcp:79"]
DEFAULT_WEB = ["tcp:8000"]


class Options(
    BackendOptions, ProxyOptions, WebStatusOptions, PBOptions, IRCOptions, SOAPOptions,
    ManholeOptions, WebFingerOptions, ClientNetworkOptions, AccountsOptions,
    WebSessionOptions, PostgresOptions, WorkersOptions, MetricsOptions, usage.Options,
):
    synopsis = "[options]"
    longdesc = (
        "Serve users' statuses over RFC 1288 finger (and the other frontends). "
        "Choose a backend: --file PATH or --memory (seeded with --user). "
        "System backends: --pwd (users' ~/.plan), --local (the finger program), "
        "--store PATH (SQLite), --postgres DSN (PostgreSQL, shared by many nodes). Several backends are chained in the order given. "
        "Endpoints are Twisted endpoint strings, e.g. tcp:79 or "
        "tcp:7979:interface=127.0.0.1; 'none' disables a frontend."
    )

    optFlags = [
        ["no-list", None, "Refuse the empty query (list of all users)."],
        ["no-log-queries", None, "Do not log each query (who fingered whom)."],
    ]
    optParameters = [
        ["timeout", None, 60.0, "Idle timeout for clients, in seconds.", positiveSeconds],
        ["templates", None, None, "Directory of customised web templates (each looked up there first)."],
        # Limits (finger.limits): every listener enforces the connection limits.
        ["max-connections", None, DEFAULT_MAX_CONNECTIONS,
         "Most connections one listener accepts at once.", positiveInteger],
        ["max-connections-per-peer", None, DEFAULT_MAX_CONNECTIONS_PER_PEER,
         "Most connections one listener accepts at once from one client address.",
         positiveInteger],
        ["max-connection-time", None, 300.0,
         "Longest a finger or setter connection may last, in seconds.", positiveSeconds],
        ["events-keepalive", None, 20.0,
         "Seconds between keep-alive comments on /api/events streams.", positiveSeconds],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["finger"] = []
        self["setter"] = []
        self["web"] = []
        self["https"] = []

    def opt_finger(self, description: str) -> None:
        """Endpoint for the finger frontend (repeatable; default tcp:79)."""
        self["finger"].append(description)

    def opt_setter(self, description: str) -> None:
        """Endpoint for the status setter (repeatable; default: the local UNIX
        socket /run/finger/setter.sock as root, $XDG_RUNTIME_DIR/finger/setter.sock
        otherwise, when the backend is settable; tcp:... lets anyone who can
        connect set any status)."""
        self["setter"].append(description)

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
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
                "--postgres DSN, --proxy or --web-status URL"
            )
        # Counted by the query log (and the backends) when --metrics is given.
        self.metrics = self.metricsWanted()
        # The buffered sink (a service) is started first and stopped last.
        self.queryLog, self.queryLogSink = buildQueryLog(self, self.metrics)
        # Pass to every listen(..., limits=options.limits).
        self.limits = limitsFromOptions(self)


def addFingerListeners(top: service.MultiService, backend, options: Options) -> None:
    """Add the finger listeners the options ask for (default tcp:79) to C{top}."""
    settings = FingerSettings(
        listUsers=not options["no-list"],
        timeout=options["timeout"],
        timeLimit=options["max-connection-time"],
        queryLog=options.queryLog,
        forwarder=forwarderFor(backend, options),
    )
    for description in endpointDescriptions(options["finger"], DEFAULT_FINGER):
        factory = frontend(IFingerFactory, backend, settings)
        listen(top, "finger", description, factory, limits=options.limits)


def addWebListeners(
    top: service.MultiService, backend, options: Options, accounts: Authenticator | None = None
) -> None:
    """
    One site serves every web (HTTP) and HTTPS listener; C{accounts} decide
    who may write (C{None}: nobody).
    """
    web = endpointDescriptions(options["web"], DEFAULT_WEB)
    https = endpointDescriptions(options["https"], [])
    if not web and not https:
        return
    templates = Templates(options["templates"] or None)
    soap = soapResource(top, backend, options, accounts)
    webfinger = webfingerSettings(top, options, backend)
    events = EventSettings(keepAlive=options["events-keepalive"])
    settings = WebSettings(
        templates=templates,
        soap=soap,
        webfinger=webfinger,
        events=events,
        accounts=accounts,
        sessions=webSessions(options),
    )
    root = frontend(IResource, backend, settings)
    proxies = trustedProxies(options)
    site = FingerSite(
        root, timeout=options["timeout"], queryLog=options.queryLog, trustedProxies=proxies
    )
    limits = webLimits(options.limits, proxies)
    for description in web:
        listen(top, "web", description, site, limits=limits)
    for description in https:
        listen(top, "https", httpsDescription(description), site, limits=limits)


@startupErrors()
def makeService(options: Options) -> service.MultiService:
    """
    Compose the backend and the frontends into one service (or, with
    C{--workers N}, a parent running N processes that each do: see
    L{finger.tap.workers}).  A component that cannot be set up, now or when
    twistd starts the service, stops start-up with a one-line L{StartupError}.
    """
    if options["workers"]:
        return makeWorkersParent(options, buildService)
    top = buildService(options)
    addParentWatch(top, options)
    return top


def buildService(options: Options) -> service.MultiService:
    """The service of one process: the backend and every frontend."""
    top = StartupService(ERROR_PREFIXES)
    if options.queryLogSink is not None:
        options.queryLogSink.setServiceParent(top)
    backend = makeBackend(options)
    service.IService(backend).setServiceParent(top)
    addFingerListeners(top, backend, options)
    addSetterListeners(top, backend, options)
    accounts = authenticatorFor(backend, options)
    addWebListeners(top, backend, options, accounts)
    addPBListeners(top, backend, options, accounts)
    addIRCBot(top, backend, options)
    addManhole(top, backend, options)
    addMetrics(top, options.metrics, options)
    return top
