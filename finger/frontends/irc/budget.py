"""The per-sender request budget: how the bot refuses to be flooded."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from twisted.internet.interfaces import IReactorTime

MAX_SENDERS = 1000  # Senders remembered by the budget before expired ones are pruned.

ALLOW, WARN, IGNORE = "allow", "warn", "ignore"


@dataclass
class _Sender:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False
    hinted: bool = False


class SenderBudget:
    """
    At most C{requests} requests per sender in any C{window} seconds.
    Every request counts, answered or not, so a sender who keeps flooding
    stays ignored; the first refusal of a run is a L{WARN} (answer with one
    notice), the rest L{IGNORE}.
    """

    def __init__(self, clock: IReactorTime, requests: int = 5, window: float = 10.0) -> None:
        self.clock = clock
        self.requests = requests
        self.window = window
        self._senders: dict[str, _Sender] = {}

    def __len__(self) -> int:
        """How many senders are remembered."""
        return len(self._senders)

    def remembered(self) -> list[str]:
        """The senders remembered, oldest first."""
        return list(self._senders)

    def _state(self, sender: str) -> _Sender:
        now = self.clock.seconds()
        if len(self._senders) >= MAX_SENDERS:
            for key in [k for k, s in self._senders.items() if self._expire(s, now)]:
                del self._senders[key]
        state = self._senders.get(sender)
        if state is None or self._expire(state, now):
            state = self._senders[sender] = _Sender(deque(maxlen=self.requests))
        return state

    def _expire(self, state: _Sender, now: float) -> bool:
        """Forget request times older than the window; true if none is left."""
        while state.times and state.times[0] <= now - self.window:
            state.times.popleft()
        return not state.times

    def check(self, sender: str) -> str:
        """Count a request from C{sender}: L{ALLOW}, L{WARN} or L{IGNORE}."""
        state = self._state(sender)
        full = len(state.times) >= self.requests
        state.times.append(self.clock.seconds())
        if not full:
            state.warned = False
            return ALLOW
        if state.warned:
            return IGNORE
        state.warned = True
        return WARN

    def firstHint(self, sender: str) -> bool:
        """True the first time C{sender} needs a usage hint (while remembered)."""
        state = self._state(sender)
        first = not state.hinted
        state.hinted = True
        return first
