"""
The web frontend's sign-in sessions, kept in memory on the server.

A session is made at sign-in, always with a fresh random id (a session id a
client brings is never adopted: no fixation), and ends at sign-out, when it
has been idle for C{idle} seconds, or C{lifetime} seconds after sign-in,
whichever comes first.  The store is bounded: at most C{perAccount}
sessions per account and C{capacity} in all; the least recently used go
first.  Each session carries its CSRF token (bound to it: a token from
another or an ended session is refused) and whether it began over HTTPS
(a session begun over HTTPS is never accepted over plain HTTP, nor the
reverse).

Ids are C{secrets.token_urlsafe(32)} (256 bits).  The table is keyed by the
SHA-256 of the id, so a lookup's timing depends on a digest the client
cannot steer, and the digest found is compared with
C{hmac.compare_digest}.  Only digests are kept: the ids themselves are in
the clients' cookies and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from twisted.internet.interfaces import IReactorTime

from finger.reactors import globalReactor

# An idle session ends after 2 hours; any session after 12 hours.
DEFAULT_IDLE = 2 * 60 * 60.0
DEFAULT_LIFETIME = 12 * 60 * 60.0
DEFAULT_CAPACITY = 10_000
DEFAULT_PER_ACCOUNT = 10
# The longest session id a client may send (token_urlsafe(32) is 43 characters).
MAX_ID_LENGTH = 128


def digestOf(sessionId: str) -> bytes:
    """The SHA-256 of a session id: what the store keeps."""
    return hashlib.sha256(sessionId.encode("utf-8", "surrogateescape")).digest()


@dataclass(eq=False)
class Session:
    """
    One signed-in browser.

    @ivar name: the account signed in.
    @ivar admin: whether it was an administrator at sign-in (for showing
        forms; each write is authorised again).
    @ivar secure: whether it began over HTTPS.
    @ivar csrf: the token every form of this session must carry.
    """

    digest: bytes = field(repr=False)
    name: str
    admin: bool
    secure: bool
    csrf: str = field(repr=False)
    started: float
    lastUsed: float

    def csrfMatches(self, token: str | None) -> bool:
        """Whether C{token} is this session's CSRF token (in constant time)."""
        if token is None:
            return False
        return hmac.compare_digest(
            self.csrf.encode("utf-8"), token.encode("utf-8", "surrogateescape")
        )


class SessionStore:
    """
    The sessions of one site.  C{clock} (default: the global reactor) gives
    the time; nothing is scheduled on it: expired sessions are dropped when
    met and when the store is full.
    """

    def __init__(
        self,
        clock: IReactorTime | None = None,
        idle: float = DEFAULT_IDLE,
        lifetime: float = DEFAULT_LIFETIME,
        capacity: int = DEFAULT_CAPACITY,
        perAccount: int = DEFAULT_PER_ACCOUNT,
    ) -> None:
        self.clock: IReactorTime = clock if clock is not None else globalReactor()
        self.idle = idle
        self.lifetime = lifetime
        self.capacity = capacity
        self.perAccount = perAccount
        # digest -> session, least recently used first.
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def begin(self, name: str, admin: bool, secure: bool) -> tuple[str, Session]:
        """
        A new session for C{name}; returns its id (for the cookie: it is
        kept nowhere else) and the session.
        """
        now = self.clock.seconds()
        sessionId = secrets.token_urlsafe(32)
        session = Session(
            digestOf(sessionId), name, admin, secure, secrets.token_urlsafe(32), now, now
        )
        self._makeRoom(name, now)
        self._sessions[session.digest] = session
        return sessionId, session

    def find(self, sessionId: str, secure: bool) -> Session | None:
        """
        The live session with this id that began over the same kind of
        connection (HTTPS or not), or C{None}.  Finding it counts as a use.
        """
        if not sessionId or len(sessionId) > MAX_ID_LENGTH:
            return None
        digest = digestOf(sessionId)
        session = self._sessions.get(digest)
        if session is None or not hmac.compare_digest(session.digest, digest):
            return None
        now = self.clock.seconds()
        if self._expired(session, now):
            del self._sessions[digest]
            return None
        if session.secure != secure:
            return None
        session.lastUsed = now
        self._sessions.move_to_end(digest)
        return session

    def end(self, session: Session) -> None:
        """End C{session} (sign-out); ending it twice is harmless."""
        self._sessions.pop(session.digest, None)

    def endAllFor(self, name: str) -> int:
        """End every session of account C{name}; returns how many there were."""
        doomed = [d for d, s in self._sessions.items() if s.name == name]
        for digest in doomed:
            del self._sessions[digest]
        return len(doomed)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.lastUsed >= self.idle or now - session.started >= self.lifetime

    def _makeRoom(self, name: str, now: float) -> None:
        """Before adding a session for C{name}: enforce both caps."""
        mine = [d for d, s in self._sessions.items() if s.name == name]
        for digest in mine[: max(0, len(mine) - self.perAccount + 1)]:
            del self._sessions[digest]
        if len(self._sessions) < self.capacity:
            return
        for digest in [d for d, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[digest]
        while len(self._sessions) >= self.capacity:
            self._sessions.popitem(last=False)
