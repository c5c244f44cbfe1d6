"""
Where the query log goes: L{finger.querylog}'s buffered access log when
twistd logs to standard output, its per-query log events otherwise.

twistd's own options (C{-n}, C{--logfile}, C{--syslog}, C{--logger}) are
read from the plugin's parent, as L{finger.tap.privileges} reads C{-u}/C{-g}.
"""

from __future__ import annotations

import sys
from typing import Any

from finger.metrics import Metrics
from finger.querylog import BufferedLineSink, EventSink, QueryLog


def twistdLogsToStdout(options: Any) -> bool:
    """
    Whether twistd writes its text log to standard output: C{--nodaemon}
    (or C{--logfile=-}) without C{--logfile=PATH}, C{--syslog} or C{--logger}.
    Without a twistd parent (the options parsed on their own), no.
    """
    parent = getattr(options, "parent", None)
    if parent is None:
        return False
    if parent.get("logger") or parent.get("syslog"):
        return False
    logfile = parent.get("logfile")
    if logfile == "-":
        return True
    return not logfile and bool(parent.get("nodaemon"))


def buildQueryLog(options: Any, metrics: Metrics | None) -> tuple[QueryLog, BufferedLineSink | None]:
    """
    The query log for these options, and its buffered sink if it has one (a
    service: add it to the top service first, so that it is stopped, and
    flushed, last).  The sink writes to the standard output twistd's text
    observer writes to (taken now, before twistd redirects C{sys.stdout}
    into the log).
    """
    enabled = not options["no-log-queries"]
    worker = options.get("worker-id")
    if enabled and twistdLogsToStdout(options):
        sink = BufferedLineSink(sys.stdout)
        return QueryLog(enabled, sink, metrics, worker), sink
    return QueryLog(enabled, EventSink(), metrics, worker), None
