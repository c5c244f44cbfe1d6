"""
Log observer factories for twistd's C{--logger} option.

    twistd --nodaemon --logger=finger.logs.jsonStdout finger ...

writes every log event as one line of JSON on standard output (under
systemd, one journal entry per event), with all of its fields: a query
event (C{log_namespace} C{finger.query}) carries C{frontend}, C{peer},
C{query}, C{outcome} and C{duration}.  C{twisted.logger.eventsFromJSONLogFile}
reads such a file back .
"""

from __future__ import annotations

import sys

from twisted.logger import FileLogObserver, jsonFileLogObserver


def jsonStdout() -> FileLogObserver:
    """An observer writing each event as a line of JSON to standard output."""
    return jsonFileLogObserver(sys.stdout, recordSeparator="")
