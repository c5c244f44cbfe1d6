"""
The bot's outgoing lines, paced on its own clock.

IRC servers disconnect clients that send too fast (ngircd and most others
throttle at about two lines a second), so the bot sends one line, then
waits C{interval} seconds before the next.  The lines waiting are counted,
so that the bot can stop answering while too many are queued.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime

MAX_QUEUED_LINES = 30  # Outgoing lines waiting; beyond, queries are dropped.


class LinePacer:
    """
    Sends lines through C{send} at most one per C{interval} seconds of
    C{clock}: the first at once, the rest queued.  With C{interval} C{None},
    every line is sent at once.
    """

    def __init__(
        self, send: Callable[[str], object], interval: float | None, clock: IReactorTime
    ) -> None:
        self.send = send
        self.interval = interval
        self.clock = clock
        self._lines: deque[str] = deque()
        self._next: IDelayedCall | None = None

    @property
    def waiting(self) -> int:
        """Lines queued and not sent yet."""
        return len(self._lines)

    def put(self, line: str) -> None:
        """Send C{line} now if the pace allows, or queue it."""
        if self.interval is None:
            self.send(line)
            return
        self._lines.append(line)
        if self._next is None:
            self._sendNext()

    def _sendNext(self) -> None:
        if not self._lines:
            self._next = None
            return
        assert self.interval is not None
        self.send(self._lines.popleft())
        self._next = self.clock.callLater(self.interval, self._sendNext)

    def stop(self) -> None:
        """Drop the lines waiting and stop sending (the connection ended)."""
        self._lines.clear()
        if self._next is not None and self._next.active():
            self._next.cancel()
        self._next = None
