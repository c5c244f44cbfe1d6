"""
The status setter frontend: an adapter from L{IFingerSetterService} to
L{IFingerSetterFactory}.

The classic protocol: the first line is the user name, the second the
status.  The server answers one line, C{OK} or C{ERROR <reason>}, and closes.
A status sent without a final newline is accepted when the client half-closes.
Configured by a L{SetterSettings}.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.python import components
from zope.interface import implementer

from finger.adapt import registerFrontend
from finger.frontends.linebased import LineQueryProtocol, LineSettings
from finger.interfaces import IFingerSetterFactory, IFingerSetterService, StoreError
from finger.text import stripControls


@dataclass(frozen=True)
class SetterSettings(LineSettings):
    """The setter frontend's settings: those of every line-based frontend."""


class FingerSetterProtocol(LineQueryProtocol):
    """Reads a name and a status, stores them, answers OK or ERROR."""

    log = Logger()
    frontend = "setter"
    encodingErrorMessage = "ERROR not valid UTF-8"
    lineTooLongMessage = "ERROR line too long (limit {limit} bytes)"
    name: str | None = None

    def textReceived(self, text: str) -> None:
        """The first line is the name, the second the status."""
        if self.name is None:
            self.name = self.query = text.strip()
            return
        self.answering()
        status = stripControls(text).strip()
        d = defer.maybeDeferred(self.factory.service.setUser, self.name, status)
        d.addCallbacks(lambda _: (["OK"], "set"), self._setFailed)
        d.addCallback(lambda result: self.answer(*result))

    def _setFailed(self, failure) -> tuple[list[str], str]:
        if failure.check(StoreError):
            message = f"ERROR {stripControls(failure.getErrorMessage())}"
            return [message], message
        self.log.failure("Setting the status of {name!r} failed", failure, name=self.name)
        return ["ERROR the status could not be stored"], "error"

    def inputEnded(self) -> None:
        """The client stopped before sending both lines."""
        if self.name is None:
            self.refuse("ERROR expected a user name line and a status line")
        else:
            self.refuse("ERROR expected a status line after the user name")


@implementer(IFingerSetterFactory)
class FingerSetterFactoryFromService(protocol.ServerFactory):
    """A setter server for any L{IFingerSetterService}."""

    protocol = FingerSetterProtocol
    refusalMessage = "ERROR too many connections, try again later"

    def __init__(
        self, service: IFingerSetterService, settings: SetterSettings = SetterSettings()
    ) -> None:
        self.service = service
        self.settings = settings


components.registerAdapter(
    FingerSetterFactoryFromService, IFingerSetterService, IFingerSetterFactory
)
registerFrontend(FingerSetterFactoryFromService, SetterSettings, IFingerSetterFactory)
