"""
Watching a file for changes: its signature (modification time, size,
inode: a file renamed over it is seen even within the same second) and a
check run every C{interval} seconds on a clock.  The users file
(L{finger.backends.file}) and the WebFinger file
(L{finger.frontends.web.webfingerfile}) both use these.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

FileSignature = tuple[int, int, int]


def fileSignature(st: os.stat_result) -> FileSignature:
    """What changes when a file is rewritten or replaced."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class PeriodicCheck:
    """Call C{check} on C{clock} every so often, from L{start} to L{stop}."""

    def __init__(self, check: Callable[[], object], clock: IReactorTime) -> None:
        self._call = LoopingCall(check)
        self._call.clock = clock

    @property
    def running(self) -> bool:
        return self._call.running

    def start(self, interval: float) -> None:
        """Check every C{interval} seconds, the first one C{interval} from now
        (the file was just read); a check's Deferred is waited for."""
        if not self._call.running:
            self._call.start(interval, now=False)

    def stop(self) -> None:
        if self._call.running:
            self._call.stop()
