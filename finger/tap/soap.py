"""
The SOAP endpoint's command line: C{--soap-address URL}, C{--soap-trace FILE}.

The endpoint itself (L{finger.frontends.web.soap}) is on every web and
HTTPS listener; these options only configure it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twisted.application import service
from twisted.python.logfile import LogFile

from finger.accounts.gate import Authenticator
from finger.adapt import frontend
from finger.frontends.web.soap import ISOAPResource, SOAPResource, SOAPSettings, SOAPTrace
from finger.tap.errors import StartupError


def soapAddress(value: str) -> str:
    """An absolute http(s) URL (an option's coercer: raises ValueError)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--soap-address wants an http:// or https:// URL, not {value!r}")
    return value


class SOAPOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["soap-address", None, None,
         "The SOAP service URL the WSDL gives, for deployments behind a proxy "
         "(default: the URL the client used).", soapAddress],
        ["soap-trace", None, None,
         "Write every SOAP request and response envelope to FILE (rotated like twistd's log)."],
    ]


class _CloseOnStop(service.Service):
    """Closes a file when the service stops."""

    def __init__(self, file: LogFile) -> None:
        self.file = file

    def stopService(self) -> None:
        super().stopService()
        self.file.close()


def soapResource(
    top: service.MultiService, backend, options, accounts: Authenticator | None = None
) -> SOAPResource:
    """
    The C{/soap} resource the options ask for (its trace file closed with
    C{top}); C{accounts} decide who may call C{setStatus}.
    """
    trace = None
    if options["soap-trace"]:
        try:
            logFile = LogFile.fromFullPath(options["soap-trace"])
        except OSError as e:
            raise StartupError(
                f"--soap-trace {options['soap-trace']!r}: {e.strerror or e}"
            ) from None
        _CloseOnStop(logFile).setServiceParent(top)
        trace = SOAPTrace(logFile)
    settings = SOAPSettings(address=options["soap-address"], trace=trace, accounts=accounts)
    return frontend(ISOAPResource, backend, settings)
