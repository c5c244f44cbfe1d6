"""
The manhole: a Python console inside the running service, over SSH
(C{twisted.conch}), for its administrators.

Only public-key authentication exists: the portal has one checker,
L{SSHPublicKeyChecker}, so the server offers C{publickey} and nothing else
(no password, no keyboard-interactive).  The keys are those of an OpenSSH
C{authorized_keys} file, read once (L{readAuthorizedKeys}); any login name
is accepted with one of them.  The host key is kept in a file, created
(Ed25519, mode 0600) on first start and reused after
(L{loadOrCreateHostKey}), so clients see the same fingerprint.

In the console, C{service} is the backend (as in Twisted's finger
tutorial) and C{top} the top-level service; a Deferred is shown with its
result when it fires, e.g. C{service.getUser("alice")}.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.cred.portal import IRealm, Portal
from zope.interface import Interface, implementer

# twisted.conch (22.4 with Debian 12's cryptography and Python 3.11) warns on
# import about ciphers it still lists and the spwd module: nothing finger
# uses (public keys only), so not worth a line on every start.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", module=r"twisted\.conch(\..*)?$")
    from twisted.conch import manhole, manhole_ssh
    from twisted.conch.checkers import IAuthorizedKeysDB, SSHPublicKeyChecker
    from twisted.conch.insults import insults
    from twisted.conch.ssh.keys import BadKeyError, Key

from finger.adapt import registerFrontend
from finger.errors import FingerConfigurationError

# The key types an authorized_keys line may start with (OpenSSH's, those conch reads).
KEY_TYPES = (
    b"ssh-ed25519",
    b"ssh-rsa",
    b"ssh-dss",
    b"ecdsa-sha2-nistp256",
    b"ecdsa-sha2-nistp384",
    b"ecdsa-sha2-nistp521",
)


class ManholeError(FingerConfigurationError):
    """The manhole cannot be set up; the message says why (one line)."""


def readAuthorizedKeys(path: str) -> tuple[Key, ...]:
    """
    The public keys of an OpenSSH C{authorized_keys} file: one key a line
    (C{TYPE BASE64 [COMMENT]}), C{#} comments and blank lines allowed.  A
    line with options (C{from="..."}, C{command="..."}) is refused rather
    than served without its restriction.  Raises L{ManholeError}.
    """
    try:
        with open(path, "rb") as file:
            lines = file.read().splitlines()
    except OSError as e:
        raise ManholeError(f"cannot read {path}: {e.strerror or e}") from None
    found = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        if not line.startswith(KEY_TYPES):
            raise ManholeError(
                f"{path} line {number}: not a public key "
                "(key options such as from= or command= are not supported)"
            )
        try:
            found.append(Key.fromString(line))
        except (BadKeyError, ValueError, IndexError) as e:
            raise ManholeError(f"{path} line {number}: unreadable key ({e})") from None
    if not found:
        raise ManholeError(f"{path} holds no key")
    return tuple(found)


def loadOrCreateHostKey(path: str) -> Key:
    """
    The SSH host key kept in C{path}; created (Ed25519, mode 0600) if the
    file does not exist.  A key file others may read is refused, as OpenSSH
    does.  Raises L{ManholeError}.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _loadHostKey(path)
    except OSError as e:
        raise ManholeError(f"cannot create the host key {path}: {e.strerror or e}") from None
    key = Key(ed25519.Ed25519PrivateKey.generate())
    with os.fdopen(fd, "wb") as file:
        file.write(key.toString("openssh"))
    return key


def _loadHostKey(path: str) -> Key:
    try:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ManholeError(
                f"the host key {path} is accessible by others (mode {stat.S_IMODE(mode):04o}); "
                f"chmod 600 {path}"
            )
        with open(path, "rb") as file:
            key = Key.fromString(file.read())
    except OSError as e:
        raise ManholeError(f"cannot read the host key {path}: {e.strerror or e}") from None
    except (BadKeyError, ValueError) as e:
        raise ManholeError(f"{path} is not an SSH private key ({e})") from None
    if key.isPublic():
        raise ManholeError(f"{path} is a public key; the host key must be a private key")
    return key


@implementer(IAuthorizedKeysDB)
class AuthorizedKeys:
    """The same keys for every login name."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self.keys = tuple(keys)

    def getAuthorizedKeys(self, username: bytes) -> Iterable[Key]:
        return self.keys


@implementer(IRealm)
class ConsoleRealm(manhole_ssh.TerminalRealm):
    """Gives each SSH session a manhole over C{namespace} (a copy, per session)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.namespace = namespace

    def chainedProtocolFactory(self) -> insults.ServerProtocol:  # type: ignore[override]
        # TerminalRealm declares it as a class attribute (a protocol class);
        # a method is called the same way, with no argument.
        return insults.ServerProtocol(manhole.ColoredManhole, dict(self.namespace))


class IManholeFactory(Interface):
    """The manhole: an SSH server factory for a console on a service."""


@dataclass(frozen=True)
class ManholeSettings:
    """
    C{authorizedKeys}: who may log in; C{hostKey}: the server's private
    key; C{namespace}: more names for the console (e.g. C{top}).
    """

    authorizedKeys: tuple[Key, ...]
    hostKey: Key
    namespace: dict[str, Any] = field(default_factory=dict)


@implementer(IManholeFactory)
class ManholeFactory(manhole_ssh.ConchFactory):
    """An SSH server whose sessions are manhole consoles (public keys only)."""

    def __init__(self, service: object, settings: ManholeSettings) -> None:
        namespace = {**settings.namespace, "service": service}
        portal = Portal(ConsoleRealm(namespace), [SSHPublicKeyChecker(
            AuthorizedKeys(settings.authorizedKeys)
        )])
        super().__init__(portal)
        key = settings.hostKey
        # Instance attributes: ConchFactory's class-level dicts are shared.
        # (Twisted annotates them dict[bytes, bytes]; SSHFactory uses Key objects.)
        self.publicKeys = {key.sshType(): key.public()}
        self.privateKeys = {key.sshType(): key}  # type: ignore[dict-item]


registerFrontend(ManholeFactory, ManholeSettings, IManholeFactory)
