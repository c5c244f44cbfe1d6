"""
A bounded cache of rendered answers, one per user, valid for one status.

Rendering a user's page with C{twisted.web.template} costs several times
what sending it does, and the JSON document and its entity tag are the same
bytes for every reader until the status changes.  L{RenderCache} keeps, for
each user name, the status an answer was made from and the answer itself:
L{RenderCache.get} gives it back only when asked with that same status.

The status is still looked up on every request (that is what makes a
change show at once on every backend: stores with a change feed, a users
file reloaded, a chain, a remote status server, another node's write), so
the cache never decides what a reader sees, only how often it is rendered.
Only answers that are the same for every reader belong here: the anonymous
page, never one with a signed-in account's bar or edit form (they carry
that session's CSRF token).

The cache is bounded by entries and by bytes (least recently used first
out), so a crawler walking every user, or users with 64 KiB statuses,
cannot grow it without end.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

Answer = TypeVar("Answer")

MAX_ENTRIES = 4096
MAX_BYTES = 8 * 1024 * 1024
# An answer larger than this is rendered each time (a huge status is rare).
MAX_ANSWER = 256 * 1024


class RenderCache(Generic[Answer]):
    """
    C{name -> (status, answer)}, at most C{maxEntries} of them and about
    C{maxBytes} of answers (each answer's size is given to L{put}).
    """

    def __init__(
        self,
        maxEntries: int = MAX_ENTRIES,
        maxBytes: int = MAX_BYTES,
        maxAnswer: int = MAX_ANSWER,
    ) -> None:
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxAnswer = min(maxAnswer, maxBytes)
        self.size = 0  # bytes of the answers kept
        self._entries: OrderedDict[str, tuple[str, Answer, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str, status: str) -> Answer | None:
        """The answer kept for C{name} if it was made from C{status}; else C{None}."""
        entry = self._entries.get(name)
        if entry is None or entry[0] != status:
            return None
        self._entries.move_to_end(name)
        return entry[1]

    def put(self, name: str, status: str, answer: Answer, size: int) -> None:
        """Keep C{answer} (C{size} bytes) for C{name} at C{status}, replacing what was kept."""
        self.discard(name)
        if size > self.maxAnswer:
            return
        self._entries[name] = (status, answer, size)
        self.size += size
        while len(self._entries) > self.maxEntries or self.size > self.maxBytes:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.size -= dropped

    def discard(self, name: str) -> None:
        """Forget what is kept for C{name}, if anything."""
        entry = self._entries.pop(name, None)
        if entry is not None:
            self.size -= entry[2]
