"""
Perspective Broker login, and the account object a client gets.

A client logs in with C{root.callRemote("login", name, secret)} (the secret
is the account's password or one of its API tokens) and gets its own
account object: C{setStatus(status)} sets its own status,
C{setUser(name, status)} a status the accounts' one rule lets it write (an
admin's: anyone's), C{whoami()} says who it is logged in as.  Reading stays
on the root, anonymous (C{getUser}, C{getUsers}); the root has no write
method at all.

Why not PB's own cred login (C{pb.PBServerFactory} with a portal): its
challenge-response has the client send an MD5 of the password and a server
challenge, so the server must know the plain password; argon2id hashes
cannot answer it.  Here the secret travels as it is, which is safe only where
nobody can read the connection, so C{login} is offered only over TLS
(C{--pb ssl:...}) or to a client on this host (loopback, a UNIX socket):
the rule of every login (L{finger.accounts.gate.mayCarryCredentials}).  The
check is the accounts' own (L{finger.frontends.publish}): argon2id off the
reactor thread, throttled per name and per client address, the same answer
for an unknown name and a wrong password.

The account object is a C{pb.Referenceable} known only to the connection
that logged in: another connection cannot name it, and it goes with the
connection.  Each write checks again, through the accounts core
(L{finger.accounts.standing}), that the login still stands: after
C{finger-admin deluser}, C{passwd} (a password login) or C{revoke} (a token
login) the object's writes are refused ("log in again"), and an admin
demoted since writes only its own status.  Errors reach the client as
C{finger.frontends.pblogin.LoginRefused} (the login: no accounts, not TLS or loopback, bad credentials, throttled)
and C{finger.frontends.pblogin.WriteRefused} (a write: forbidden, a bad
status, not stored), each with a one-line message.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer
from twisted.spread import pb

from finger import querylog
from finger.accounts.cred import IAccountAvatar
from finger.accounts.gate import Authenticator
from finger.accounts.standing import LoginBasis, LoginLapsed, basisOf, confirm
from finger.frontends.publish import WriteRefused as Refused
from finger.frontends.publish import authenticate, authorise, store
from finger.interfaces import IFingerService
from finger.text import stripControls

MAX_SECRET_LENGTH = 1024


class LoginRefused(pb.Error):
    """C{login} was refused; the message says why (never which part was wrong)."""


class WriteRefused(pb.Error):
    """A write was refused (forbidden, a bad name or status, not stored)."""


class BadAccountCall(pb.Error):
    """An unknown method or wrong arguments on the account object."""


def _text(value: object, what: str, limit: int) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise LoginRefused(f"the {what} is not UTF-8 text") from None
    if not isinstance(value, str):
        raise LoginRefused(f"the {what} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise LoginRefused(f"the {what} is too long (limit {limit} characters)")
    return value


async def logIn(
    service: IFingerService,
    accounts: Authenticator | None,
    queryLog: querylog.QueryLog,
    transport: Any,
    secure: bool,
    name: object,
    secret: object,
) -> FingerPBAccount:
    """Check C{name} and C{secret}; the account object, or L{LoginRefused}."""
    name = _text(name, "name", 256)
    secret = _text(secret, "secret", MAX_SECRET_LENGTH)
    credentials = UsernamePassword(name.encode("utf-8"), secret.encode("utf-8"))
    try:
        avatar = await authenticate(accounts, credentials, transport.getPeer(), secure)
    except Refused as e:
        raise LoginRefused(str(e)) from None
    assert accounts is not None  # authenticate refuses without accounts
    if accounts.store is None:
        raise LoginRefused("this service cannot check logins again (no account store)")
    try:
        basis = await basisOf(accounts.store, avatar.name, secret)
    except LoginLapsed as e:
        raise LoginRefused(str(e)) from None
    return FingerPBAccount(avatar, service, accounts, queryLog, basis)


class FingerPBAccount(pb.Referenceable):
    """What a logged-in client holds: it writes as its account, nothing more."""

    def __init__(
        self,
        avatar: IAccountAvatar,
        service: IFingerService,
        accounts: Authenticator,
        queryLog: querylog.QueryLog,
        basis: LoginBasis,
    ) -> None:
        self.avatar = avatar
        self.service = service
        self.accounts = accounts
        self.queryLog = queryLog
        self.basis = basis

    async def _avatarNow(self) -> IAccountAvatar:
        """The account as it is now, if the login still stands (else L{WriteRefused})."""
        assert self.accounts.store is not None  # logIn refuses without a store
        try:
            self.avatar = await confirm(self.accounts.store, self.basis)
        except LoginLapsed as e:
            raise WriteRefused(str(e)) from None
        return self.avatar

    async def _write(self, peer: str, target: object, status: object) -> dict[str, Any]:
        started = time.monotonic()
        shown = target if isinstance(target, str) else repr(target)
        try:
            if not isinstance(target, str):
                raise WriteRefused("the user name must be a string")
            avatar = await self._avatarNow()
            try:
                authorise(self.accounts, avatar, target)
                written = await store(self.service, avatar.name, target, status)  # type: ignore[arg-type]
            except Refused as e:
                raise WriteRefused(str(e)) from None
        except WriteRefused as e:
            self.queryLog.record(
                "pb", peer, "setStatus", f"refused: {e}", started,
                account=self.avatar.name, target=shown,
            )
            raise
        self.queryLog.record(
            "pb", peer, "setStatus", "set", started, account=self.avatar.name, target=target
        )
        return {"name": written.name, "status": written.status, "setAt": written.setAt}

    def remote_setStatus(self, peer: str, status: str) -> defer.Deferred[dict[str, Any]]:
        """Set this account's own status."""
        return defer.ensureDeferred(self._write(peer, self.avatar.name, status))

    def remote_setUser(self, peer: str, name: str, status: str) -> defer.Deferred[dict[str, Any]]:
        """Set C{name}'s status, if the accounts' rule allows (an admin: anyone)."""
        return defer.ensureDeferred(self._write(peer, name, status))

    def remote_whoami(self, peer: str) -> str:
        """The account's name."""
        return str(self.avatar.name)

    _methods: dict[str, Callable[..., Any]] = {
        "setStatus": remote_setStatus,
        "setUser": remote_setUser,
        "whoami": remote_whoami,
    }

    def remoteMessageReceived(self, broker: Any, message: Any, args: Any, kw: Any) -> Any:
        """Dispatch to L{_methods} only; anything else is L{BadAccountCall}."""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        method = self._methods.get(message)
        if method is None:
            raise BadAccountCall(f"no such method: {stripControls(message)[:100]}")
        peer = querylog.peerName(broker.transport)
        try:
            args = broker.unserialize(args)
            kw = broker.unserialize(kw)
            kw = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in kw.items()}
            inspect.signature(method).bind(self, peer, *args, **kw)
        except Exception as e:
            raise BadAccountCall(f"bad arguments for {message}: {e}"[:300]) from None
        d = defer.maybeDeferred(method, self, peer, *args, **kw)
        broker.callStarted(d)
        return broker.serialize(d, None)
