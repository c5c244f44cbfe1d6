"""Fixtures shared by the end-to-end tests (see support.py)."""

from __future__ import annotations

import pytest

from tests.helpers.irc import ircServer  # noqa: F401 (a fixture for every test)
from tests.helpers.localsetter import sharedDirectory  # noqa: F401 (a fixture for every test)
from tests.helpers.support import FingerProcess
from tests.helpers.systemusers import makeAccount  # noqa: F401 (a fixture for every test)


@pytest.fixture
def startFinger(tmp_path):
    """
    Start C{twistd -n finger ARGS}; every process started is stopped at the
    end of the test.  Returns a function taking the arguments (and
    L{FingerProcess} keywords).
    """
    started: list[FingerProcess] = []

    def start(*args: str, **kwargs) -> FingerProcess:
        kwargs.setdefault("cwd", tmp_path)
        process = FingerProcess(args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (tests/helpers/postgres.py)."""
    from tests.helpers.postgres import postgresServer

    yield from postgresServer()


@pytest.fixture
def pgDatabase(postgres, tmp_path):
    """A new database (and password file) on the session's PostgreSQL server."""
    return postgres.newDatabase(tmp_path)
