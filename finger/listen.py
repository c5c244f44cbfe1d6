"""
Listening on endpoint strings, with errors a person can act on.

An endpoint that cannot be parsed or bound raises L{ListenError}, whose
message names the frontend, the endpoint and the likely fix (the tap layer
turns it into a start-up error).
"""

from __future__ import annotations

import errno
import os

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet.address import UNIXAddress
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure

from finger.errors import FingerConfigurationError
from finger.inherited import withoutSocketFileChanges
from finger.limits import DEFAULT_LIMITS, LimitedFactory, Limits
from finger.reactors import globalReactor

DISABLED = "none"


class ListenError(FingerConfigurationError):
    """An endpoint cannot be parsed or listened on; the message says why and what to do."""


def endpointDescriptions(given: list[str], default: list[str]) -> list[str]:
    """The endpoints asked for: the defaults if none, nothing for C{none}."""
    chosen = given or default
    return [d for d in chosen if d.strip().lower() != DISABLED]


def _hint(error: CannotListenError, description: str = "") -> str:
    code = getattr(error.socketError, "errno", None)
    if code == errno.EADDRINUSE and description.lower().startswith("unix:"):
        return (
            "a socket file is already there: another server may be using it; "
            "if none is, remove the file (or add :lockfile=1)"
        )
    if code == errno.EACCES:
        return (
            "ports below 1024 need root or CAP_NET_BIND_SERVICE "
            "(or choose a port above 1024, e.g. tcp:7979)"
        )
    if code == errno.EADDRINUSE:
        return "another program is using that port; stop it or choose another port"
    if code == errno.EADDRNOTAVAIL:
        return "that address is not on this machine; check the interface= part"
    if code == errno.ENOENT:
        return "the socket's directory does not exist; create it or choose another path"
    return "check the endpoint string"


class ListeningService(service.Service):
    """
    Listens on one endpoint for one frontend (as Twisted's
    C{StreamServerEndpointService}, with public APIs only).  A port that
    cannot be bound raises L{ListenError}, naming the endpoint and the
    likely fix; a successful bind is logged with the real address (useful
    with port 0).
    """

    log = Logger()

    def __init__(
        self,
        frontend: str,
        description: str,
        endpoint: IStreamServerEndpoint,
        factory: IProtocolFactory,
    ) -> None:
        self.frontend = frontend
        self.description = description
        self.endpoint = endpoint
        self.factory = factory
        # Fires with the listening port, or None if listening failed.
        self._port: defer.Deferred[IListeningPort | None] | None = None

    def privilegedStartService(self) -> None:
        """Listen now (twistd calls this before giving up root)."""
        super().privilegedStartService()
        self._listen()

    def startService(self) -> None:
        """Listen, unless L{privilegedStartService} did."""
        super().startService()
        if self._port is None:
            self._listen()

    def _listen(self) -> None:
        failedNow: list[Failure] = []
        starting = [True]

        def failed(failure: Failure) -> None:
            if starting[0]:
                failedNow.append(failure)
            elif not failure.check(defer.CancelledError):
                self.log.failure("{frontend} cannot listen", failure, frontend=self.frontend)

        self._port = self.endpoint.listen(self.factory).addCallbacks(self._listened, failed)
        starting[0] = False
        if failedNow:
            error = failedNow[0].value
            if isinstance(error, CannotListenError):
                raise ListenError(
                    f"cannot listen for {self.frontend} on {self.description!r}: "
                    f"{getattr(error.socketError, 'strerror', error.socketError)}; {_hint(error, self.description)}"
                ) from None
            failedNow[0].raiseException()

    def _listened(self, port: IListeningPort) -> IListeningPort:
        address = port.getHost()
        if isinstance(address, UNIXAddress):
            self.log.info(
                "{frontend} listening on {path} ({description})",
                frontend=self.frontend,
                path=os.fsdecode(address.name or b"?"),
                description=self.description,
            )
            return port
        self.log.info(
            "{frontend} listening on {host}:{port} ({description})",
            frontend=self.frontend,
            host=getattr(address, "host", address),
            port=getattr(address, "port", ""),
            description=self.description,
        )
        return port

    def whenListening(self) -> defer.Deferred[IListeningPort | None]:
        """
        Once started: a Deferred firing with the listening port (C{None} if
        listening failed).
        """
        if self._port is None:
            raise RuntimeError(f"the {self.frontend} listener is not started")
        result: defer.Deferred[IListeningPort | None] = defer.Deferred()

        def passOn(port: IListeningPort | None) -> IListeningPort | None:
            result.callback(port)
            return port

        self._port.addCallback(passOn)
        return result

    def stopService(self) -> defer.Deferred[None]:
        """Stop listening, or stop trying to; fires when the port is closed."""
        if self._port is None:
            super().stopService()
            return defer.succeed(None)
        port, self._port = self._port, None
        port.cancel()

        def stopListening(listening: IListeningPort | None) -> defer.Deferred[None]:
            stopping = listening.stopListening() if listening is not None else None
            return stopping if stopping is not None else defer.succeed(None)

        def stopped(result: None) -> None:
            self.running = False
            return result

        return port.addCallback(stopListening).addBoth(stopped)


def listen(
    parent: service.MultiService,
    frontend: str,
    description: str,
    factory: IProtocolFactory,
    reactor=None,
    limits: Limits | None = None,
) -> ListeningService:
    """
    Add a listener for C{factory} on C{description} to C{parent}.

    Every connection goes through a L{LimitedFactory} enforcing C{limits}
    (pass C{options.limits} from the command line; the defaults otherwise).
    """
    if reactor is None:
        reactor = globalReactor()
    try:
        # A UNIX socket from systemd: its file is systemd's to keep.
        endpoint = withoutSocketFileChanges(endpoints.serverFromString(reactor, description))
    except IndexError:  # systemd:...:index=N beyond what was inherited
        raise ListenError(
            f"bad {frontend} endpoint {description!r}: "
            "no socket was inherited from systemd at that index"
        ) from None
    except FingerConfigurationError:
        raise  # An endpoint parser's own message (e.g. finger-https:).
    except OSError as e:
        raise ListenError(
            f"cannot use {frontend} endpoint {description!r}: "
            f"{e.filename or ''}: {e.strerror or e}"
        ) from None
    except (ValueError, KeyError, TypeError) as e:
        raise ListenError(f"bad {frontend} endpoint {description!r}: {e}") from None
    limited = LimitedFactory(factory, limits or DEFAULT_LIMITS, frontend, clock=reactor)
    listener = ListeningService(frontend, description, endpoint, limited)
    listener.setServiceParent(parent)
    return listener
