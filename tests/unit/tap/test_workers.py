"""The --workers command line (finger.tap.workers)."""

from __future__ import annotations

import pytest

from finger.tap import Options
from finger.tap.errors import StartupError
from finger.tap.workers import checkWorkers, pluginArguments


def test_listenerOptionsAndWorkersAreReplacedInTheWorkersArguments():
    argv = ["twistd", "-n", "finger", "--file", "users", "--finger", "tcp:79", "--web=tcp:80",
            "--workers", "4", "--no-list"]
    assert pluginArguments(argv) == ["--file", "users", "--no-list"]


@pytest.mark.parametrize("args, refused", [
    (["--memory"], "--memory"),
    (["--store", "x.db"], "--store"),
    (["--file", "u", "--https", "ssl:8443"], "--https"),
    (["--file", "u", "--irc-server", "tcp:localhost:6667"], "--irc-server"),
])
def test_whatCannotRunInSeveralProcessesIsRefused(args, refused):
    options = Options()
    options.parseOptions([*args, "--workers", "2"])
    with pytest.raises(StartupError) as caught:
        checkWorkers(options)
    assert refused in str(caught.value)


def test_readOnlyBackendsMayHaveWorkers():
    options = Options()
    options.parseOptions(["--file", "u", "--workers", "2"])
    checkWorkers(options)
