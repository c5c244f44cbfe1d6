"""
Announcements: C{alice is now: <status>} posted to the bot's channels when a
status changes (C{--irc-announce}).

A channel is not a log: changes are coalesced per user while they wait
(the last status wins, in the order users first changed), and at most
C{perMinute} announcements leave in any 60 seconds (L{ANNOUNCEMENTS_PER_MINUTE}
by default: each is one line per channel, and goes through the bot's
pacing like any reply).  At most L{MAX_PENDING_USERS} users wait; a change
for one more drops the longest-waiting user's announcement (counted in the
log), so a flood of changes costs bounded memory and at most a few lines a
minute.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from finger.feed import StatusChange
from finger.frontends.irc.text import roomForText, splitUTF8
from finger.text import printableLines, stripControls

ANNOUNCEMENTS_PER_MINUTE = 4
WINDOW_SECONDS = 60.0
MAX_PENDING_USERS = 100
ELLIPSIS = " …"


def announcementText(nickname: str, channel: str, name: str, status: str | None) -> str:
    """C{name is now: <status>} in one IRC line (the first line of the status, cut to fit)."""
    who = stripControls(name)
    if status is None:
        return f"{who} is no longer here"
    lines = printableLines(status) or [""]
    text = f"{who} is now: {lines[0]}"
    room = roomForText(nickname, "PRIVMSG", channel)
    pieces = splitUTF8(text, room - len(ELLIPSIS.encode("utf-8")))
    if len(pieces) > 1 or len(lines) > 1:
        return pieces[0] + ELLIPSIS
    return text


class Announcer:
    """
    Coalesces changes and lets at most C{perMinute} announcements out per
    minute through C{announce(name, status)}.
    """

    log = Logger()

    def __init__(
        self,
        announce: Callable[[str, str | None], object],
        clock: IReactorTime,
        perMinute: int = ANNOUNCEMENTS_PER_MINUTE,
        maxPending: int = MAX_PENDING_USERS,
    ) -> None:
        self.announce = announce
        self.clock = clock
        self.perMinute = perMinute
        self.maxPending = maxPending
        self.pending: OrderedDict[str, str | None] = OrderedDict()
        self.sentAt: deque[float] = deque()
        self.dropped = 0
        self._later: IDelayedCall | None = None

    def changed(self, change: StatusChange) -> None:
        """A change from the feed: remember it (the last one wins) and send what the budget allows."""
        if change.name not in self.pending and len(self.pending) >= self.maxPending:
            self.pending.popitem(last=False)
            self.dropped += 1
            if self.dropped == 1:
                self.log.info(
                    "irc bot: over {limit} users' announcements waiting; dropping the oldest",
                    limit=self.maxPending,
                )
        self.pending[change.name] = change.status
        self.flush()

    def flush(self) -> None:
        """Announce as many waiting changes as the budget allows; wait for the rest."""
        now = self.clock.seconds()
        while self.sentAt and self.sentAt[0] <= now - WINDOW_SECONDS:
            self.sentAt.popleft()
        while self.pending and len(self.sentAt) < self.perMinute:
            name, status = self.pending.popitem(last=False)
            self.sentAt.append(now)
            self.announce(name, status)
        if not self.pending:
            if self.dropped:
                self.log.info(
                    "irc bot: {count} announcements were dropped", count=self.dropped
                )
                self.dropped = 0
        elif self._later is None or not self._later.active():
            wait = self.sentAt[0] + WINDOW_SECONDS - now
            self._later = self.clock.callLater(max(wait, 0.0), self.flush)

    def stop(self) -> None:
        """Forget what waits (the connection ended)."""
        self.pending.clear()
        if self._later is not None and self._later.active():
            self._later.cancel()
        self._later = None
