"""
The status setter frontend: an adapter from L{IFingerSetterService} to
L{IFingerSetterFactory}.

The classic protocol: the first line is the user name, the second the
status.  The server answers one line, C{OK} or C{ERROR <reason>}, and closes.
A status sent without a final newline is accepted when the client half-closes.

Who may set what: on a UNIX socket the kernel tells who connected
(C{SO_PEERCRED}, L{finger.peercred}); a local user may set only the status
named by their own login name, root anyone's.  Any other connection (TCP) is
refused unless the settings say C{allowUnauthenticated}: the classic,
unauthenticated setter, where anyone who can connect can set any status.
Configured by a L{SetterSettings}.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.python import components
from zope.interface import implementer

from finger.accounts.authorise import mayWriteStatus
from finger.accounts.cred import AccountAvatar
from finger.adapt import registerFrontend
from finger.frontends.linebased import LineQueryProtocol, LineSettings
from finger.interfaces import IFingerSetterFactory, IFingerSetterService, StoreError
from finger.peercred import PeerCredentials, peerCredentials
from finger.text import stripControls

NOT_LOCAL = "ERROR this setter takes local connections only (its UNIX socket; see finger-set)"


@dataclass(frozen=True)
class SetterSettings(LineSettings):
    """
    The setter frontend's settings: those of every line-based frontend, and

    @ivar allowUnauthenticated: let connections that are not on a UNIX
        socket (TCP) set any status, unchecked (C{--setter tcp:...}).
    """

    allowUnauthenticated: bool = False


def localAvatar(credentials: PeerCredentials) -> AccountAvatar | None:
    """
    The identity of a local process: its login name, an admin if it is
    root; C{None} for a uid without a login name.
    """
    name = credentials.accountName()
    if name is None:
        return None
    return AccountAvatar(name=name, admin=credentials.isRoot)


def localRefusal(credentials: PeerCredentials, name: str) -> str | None:
    """
    Why the local process with C{credentials} may not set C{name}'s status,
    or C{None} if it may: the accounts' one rule
    (L{finger.accounts.authorise.mayWriteStatus}) for its login name, root
    being the admin.
    """
    avatar = localAvatar(credentials)
    if avatar is None:
        if credentials.isRoot:
            return None
        return f"ERROR uid {credentials.uid} has no login name, so no status of its own"
    if not mayWriteStatus(avatar, name):
        return f"ERROR you are {avatar.name}: you may set only your own status"
    return None


class FingerSetterProtocol(LineQueryProtocol):
    """Reads a name and a status, checks who may set it, stores it, answers OK or ERROR."""

    log = Logger()
    frontend = "setter"
    encodingErrorMessage = "ERROR not valid UTF-8"
    lineTooLongMessage = "ERROR line too long (limit {limit} bytes)"
    name: str | None = None
    credentials: PeerCredentials | None = None

    @property
    def settings(self) -> SetterSettings:
        """The factory's settings."""
        settings: SetterSettings = self.factory.settings
        return settings

    def connectionMade(self) -> None:
        super().connectionMade()
        self.credentials = peerCredentials(self.transport)

    def peerName(self) -> str:
        """The local user (C{uid 1000 (alice)}) on the UNIX socket, else the address."""
        if self.credentials is not None:
            return self.credentials.describe()
        return super().peerName()

    def record(self, outcome: str) -> None:
        """
        Log the connection: once the name is read, as a write (its target,
        and the local account that asked; logged even with
        C{--no-log-queries}).
        """
        self.recorded = True
        account = None
        if self.credentials is not None:
            avatar = localAvatar(self.credentials)
            account = avatar.name if avatar is not None else f"uid {self.credentials.uid}"
        self.settings.queryLog.record(
            self.frontend, self.peerName(), self.query, outcome, self.started,
            account=account, target=self.name,
        )

    def refusalFor(self, name: str) -> str | None:
        """Why this connection may not set C{name}'s status, or C{None}."""
        if self.credentials is None:
            return None if self.settings.allowUnauthenticated else NOT_LOCAL
        return localRefusal(self.credentials, name)

    def textReceived(self, text: str) -> None:
        """The first line is the name, the second the status."""
        if self.name is None:
            self.name = self.query = text.strip()
            refusal = self.refusalFor(self.name)
            if refusal is not None:
                self.refuse(refusal)
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
