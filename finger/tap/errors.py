"""
Start-up errors: the one place where a problem becomes a one-line message
and exit status 1.

Components raise their own exceptions, subclasses of
L{finger.errors.FingerConfigurationError}; the tap layer turns them into
L{StartupError}, when the service is built (L{startupErrors}) and when
twistd starts it (L{StartupService}).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from twisted.application import service

from finger.errors import FingerConfigurationError

__all__ = ["Prefixes", "StartupError", "StartupService", "prefixFor", "startupErrors"]

class StartupError(SystemExit, Exception):
    """
    The service cannot start; the message says why and what to do.

    Only the tap layer raises it.

    It is a C{SystemExit}, so that in the foreground twistd prints the one
    line and exits non-zero, with no traceback; and an C{Exception}, so that
    a daemonizing twistd's child reports it to the waiting parent (which
    catches C{Exception} only: with a bare C{SystemExit} the parent would
    wait forever) and the parent exits non-zero with the message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"finger: {message}")


# Exception type -> what goes before its message, e.g. the option it is about.
Prefixes = Mapping[type[FingerConfigurationError], str]


def prefixFor(error: Exception, prefixes: Prefixes) -> str:
    """What goes before C{error}'s message: the first entry it is an instance of."""
    for kind, prefix in prefixes.items():
        if isinstance(error, kind):
            return prefix
    return ""


@contextmanager
def startupErrors(prefixes: Prefixes | None = None) -> Iterator[None]:
    """
    Turn any L{FingerConfigurationError} raised inside into a
    L{StartupError} with the same message (after its prefix, if any).
    Also usable as a decorator.
    """
    try:
        yield
    except FingerConfigurationError as e:
        raise StartupError(f"{prefixFor(e, prefixes or {})}{e}") from None


class StartupService(service.MultiService):
    """
    The top service of C{twistd finger}: a component that fails to start
    (a port that cannot be bound, a database that cannot be opened) stops
    start-up with a one-line L{StartupError}.
    """

    def __init__(self, prefixes: Prefixes | None = None) -> None:
        super().__init__()
        self.prefixes: Prefixes = dict(prefixes or {})

    def privilegedStartService(self) -> None:
        with startupErrors(self.prefixes):
            super().privilegedStartService()

    def startService(self) -> None:
        with startupErrors(self.prefixes):
            super().startService()
