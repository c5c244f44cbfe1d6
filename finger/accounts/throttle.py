"""
Login throttling: the one policy for failed logins, on every frontend.

After C{maxFailures} failed logins within C{window} seconds for one account
name, or from one client address, further attempts for that name or from
that address are refused without being checked, until the oldest of those
failures is C{window} seconds old.  Names are counted whether or not an
account exists (so the answer is the same for an unknown name and a wrong
password).  A refusal is L{Throttled}, which says how long to wait.

Memory is bounded: at most C{maxTracked} names and addresses are counted;
beyond that the least recently failed are forgotten.  Which part of an
address is counted is the caller's choice (C{finger.limits.peerKey}).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from typing import Any

from finger.reactors import globalReactor

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW = 15 * 60.0  # seconds
MAX_TRACKED = 100_000


class Throttled(Exception):
    """Too many failed logins; C{retryAfter} is whole seconds to wait."""

    def __init__(self, retryAfter: float) -> None:
        self.retryAfter = max(1, math.ceil(retryAfter))
        super().__init__(
            f"too many failed logins; try again in {self.retryAfter} seconds"
        )


class LoginThrottle:
    """
    Counts failed logins per account name and per client address.

    @param clock: an C{IReactorTime} (default: the global reactor).
    """

    def __init__(
        self,
        maxFailures: int = DEFAULT_MAX_FAILURES,
        window: float = DEFAULT_WINDOW,
        clock: Any = None,
        maxTracked: int = MAX_TRACKED,
    ) -> None:
        self.maxFailures = maxFailures
        self.window = window
        self._clock = globalReactor() if clock is None else clock
        self._maxTracked = maxTracked
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    @staticmethod
    def _keys(name: str | None, peer: str | None) -> list[tuple[str, str]]:
        keys = []
        if name is not None:
            keys.append(("name", name))
        if peer is not None:
            keys.append(("peer", peer))
        return keys

    def retryAfter(self, name: str | None, peer: str | None) -> float | None:
        """Seconds until a login for C{name} from C{peer} is checked again, or C{None}."""
        now = self._clock.seconds()
        wait = 0.0
        for key in self._keys(name, peer):
            times = self._failures.get(key)
            if times is None:
                continue
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[key]
            elif len(times) >= self.maxFailures:
                wait = max(wait, times[0] + self.window - now)
        return wait if wait > 0 else None

    def check(self, name: str | None, peer: str | None) -> None:
        """Raise L{Throttled} if a login for C{name} from C{peer} must wait."""
        wait = self.retryAfter(name, peer)
        if wait is not None:
            raise Throttled(wait)

    def failed(self, name: str | None, peer: str | None) -> None:
        """Count a failed login for C{name} from C{peer}."""
        now = self._clock.seconds()
        for key in self._keys(name, peer):
            times = self._failures.pop(key, None)
            if times is None:
                times = deque(maxlen=self.maxFailures)
            times.append(now)
            self._failures[key] = times  # Now the most recent.
        while len(self._failures) > self._maxTracked:
            self._failures.popitem(last=False)
