"""Listening on endpoint strings, with start-up errors a person can act on."""

from __future__ import annotations

import errno

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import endpoints
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IProtocolFactory
from twisted.logger import Logger

from finger.errors import FingerConfigurationError
from finger.limits import DEFAULT_LIMITS, LimitedFactory, Limits

DISABLED = "none"


class StartupError(SystemExit, Exception):
    """
    The service cannot start; the message says why and what to do.

    It is a C{SystemExit}, so that in the foreground twistd prints the one
    line and exits non-zero, with no traceback; and an C{Exception}, so that
    a daemonizing twistd's child reports it to the waiting parent (which
    catches C{Exception} only: with a bare C{SystemExit} the parent would
    wait forever) and the parent exits non-zero with the message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"finger: {message}")


def endpointDescriptions(given: list[str], default: list[str]) -> list[str]:
    """The endpoints asked for: the defaults if none, nothing for C{none}."""
    chosen = given or default
    return [d for d in chosen if d.strip().lower() != DISABLED]


def _hint(error: CannotListenError) -> str:
    code = getattr(error.socketError, "errno", None)
    if code == errno.EACCES:
        return (
            "ports below 1024 need root or CAP_NET_BIND_SERVICE "
            "(or choose a port above 1024, e.g. tcp:7979)"
        )
    if code == errno.EADDRINUSE:
        return "another program is using that port; stop it or choose another port"
    if code == errno.EADDRNOTAVAIL:
        return "that address is not on this machine; check the interface= part"
    return "check the endpoint string"


class ListeningService(StreamServerEndpointService):
    """
    Listens on one endpoint for one frontend.  A port that cannot be bound
    stops start-up with a message naming the endpoint and the likely fix;
    a successful bind is logged with the real address (useful with port 0).
    """

    log = Logger()

    def __init__(self, frontend: str, description: str, endpoint, factory) -> None:
        super().__init__(endpoint, factory)
        self.frontend = frontend
        self.description = description
        self._raiseSynchronously = True

    def privilegedStartService(self) -> None:
        try:
            super().privilegedStartService()
        except CannotListenError as e:
            raise StartupError(
                f"cannot listen for {self.frontend} on {self.description!r}: "
                f"{getattr(e.socketError, 'strerror', e.socketError)}; {_hint(e)}"
            ) from None
        self._waitingForPort.addCallback(self._listening)

    def _listening(self, port):
        address = port.getHost()
        self.log.info(
            "{frontend} listening on {host}:{port} ({description})",
            frontend=self.frontend,
            host=getattr(address, "host", address),
            port=getattr(address, "port", ""),
            description=self.description,
        )
        return port


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
        from twisted.internet import reactor
    try:
        endpoint = endpoints.serverFromString(reactor, description)
    except OSError as e:
        raise StartupError(
            f"cannot use {frontend} endpoint {description!r}: "
            f"{e.filename or ''}: {e.strerror or e}"
        ) from None
    except FingerConfigurationError as e:  # e.g. --https's key: the message says it all
        raise StartupError(str(e)) from None
    except (ValueError, KeyError, TypeError) as e:
        raise StartupError(f"bad {frontend} endpoint {description!r}: {e}") from None
    limited = LimitedFactory(factory, limits or DEFAULT_LIMITS, frontend, clock=reactor)
    listener = ListeningService(frontend, description, endpoint, limited)
    listener.setServiceParent(parent)
    return listener
