"""
One structured log event per query, so an admin can see who fingered whom
(RFC 1288 section 3.2.7); C{--no-log-queries} turns it off for privacy.

Every frontend records through a L{QueryLog}; the event has the fields
C{frontend}, C{peer}, C{query}, C{outcome} and C{duration} (seconds); a
write also has C{account} (who logged in, or C{None}) and C{target} (whose
status it writes).
"""

from __future__ import annotations

import time
from typing import Any

from twisted.logger import Logger

from finger.text import stripControls

MAX_LOGGED_QUERY = 200


def peerName(transport: Any) -> str:
    """C{host:port} of a transport's peer, or its repr for other address kinds."""
    try:
        peer = transport.getPeer()
    except Exception:
        return "?"
    host = getattr(peer, "host", None)
    return f"{host}:{peer.port}" if host is not None else str(peer)


class QueryLog:
    """Records queries as C{finger.query} log events (or not, when disabled)."""

    def __init__(self, enabled: bool = True, worker: int | None = None) -> None:
        self.enabled = enabled
        # With --workers: which worker answered (a "worker" field, a prefix).
        self.worker = worker
        self._prefix = "" if worker is None else f"worker {worker}: "
        self.log = Logger(namespace="finger.query")

    def record(
        self,
        frontend: str,
        peer: str,
        query: str,
        outcome: str,
        started: float,
        account: str | None = None,
        target: str | None = None,
    ) -> None:
        """
        Log one query; C{started} is a C{time.monotonic()} reading.  For a
        write, C{target} is whose status it writes and C{account} who logged
        in (C{None} before a successful login).  Writes are logged even when
        queries are not (C{--no-log-queries}): they are the audit trail.
        """
        if not self.enabled and target is None:
            return
        shown = stripControls(query)
        if len(shown) > MAX_LOGGED_QUERY:
            shown = shown[:MAX_LOGGED_QUERY] + "..."
        duration = time.monotonic() - started
        what = f"query {shown!r}"
        extra: dict[str, str | None] = {}
        if target is not None:
            target = stripControls(target)[:MAX_LOGGED_QUERY]
            who = "nobody" if account is None else stripControls(account)
            what = f"write {shown!r} of {target!r} by {who}"
            extra = {"account": account, "target": target}
        if self.worker is not None:
            extra["worker"] = str(self.worker)
        text = f"{self._prefix}{frontend} {what} from {peer}: {outcome} ({duration * 1000:.1f} ms)"
        self.log.info(
            # Rendered here, as a format with no fields: Twisted's generic
            # formatting of five fields costs more than answering a query.
            text.replace("{", "{{").replace("}", "}}"),
            frontend=frontend,
            peer=peer,
            query=shown,
            outcome=outcome,
            duration=duration,
            milliseconds=duration * 1000,
            **extra,
        )


ENABLED = QueryLog(True)
