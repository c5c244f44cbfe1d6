"""finger.tap.querylog: the buffered access log only where twistd writes its text log to stdout."""

import pytest
from twisted.scripts.twistd import ServerOptions

from finger.querylog import BufferedLineSink, EventSink


def parsed(*twistdArgs: str):
    config = ServerOptions()
    config.parseOptions([*twistdArgs, "finger", "--memory", "--web", "none", "--pb", "none"])
    return config.subOptions


@pytest.mark.parametrize(
    ("args", "buffered"),
    [
        (["--nodaemon"], True),
        (["--nodaemon", "--logfile=-"], True),
        (["--logfile=-"], True),
        (["--nodaemon", "--logfile=finger.log"], False),
        (["--nodaemon", "--syslog"], False),
        (["--nodaemon", "--logger=finger.logs.jsonStdout"], False),
        ([], False),  # a daemon logs to twistd.log
    ],
)
def test_sinkFollowsTwistdsLogDestination(args, buffered) -> None:
    options = parsed(*args)
    assert isinstance(options.queryLog.sink, BufferedLineSink if buffered else EventSink)
    assert (options.queryLogSink is not None) == buffered


def test_noLogQueriesNeedsNoSink() -> None:
    config = ServerOptions()
    config.parseOptions(["--nodaemon", "finger", "--memory", "--no-log-queries"])
    assert config.subOptions.queryLogSink is None
    assert not config.subOptions.queryLog.enabled


def test_metricsAreCountedEvenWithoutTheLog() -> None:
    config = ServerOptions()
    config.parseOptions(["--nodaemon", "finger", "--memory", "--no-log-queries",
                         "--metrics", "tcp:0:interface=127.0.0.1"])
    queryLog = config.subOptions.queryLog
    assert queryLog.wanted
    queryLog.record("finger", "127.0.0.1:1", "alice", "found", 0.0)
    assert queryLog.metrics.queries == {("finger", "found"): 1}
