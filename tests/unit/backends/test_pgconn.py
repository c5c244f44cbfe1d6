"""The DSN handling of the PostgreSQL store: parsing, describing, masking."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg")

from finger.backends.pgconn import CONNECT_TIMEOUT, Dsn, PostgresConfigurationError  # noqa: E402


def test_describeNamesHostsPortAndDatabaseButNotThePassword():
    dsn = Dsn("host=db1,db2 port=5432,5433 dbname=finger user=fingerd password=hunter2")
    assert dsn.describe() == "fingerd@db1,db2:5432,5433/finger"
    assert "hunter2" not in dsn.describe()


def test_urlsAreParsedToo():
    dsn = Dsn("postgresql://fingerd:hunter2@db.example.org:6543/statuses")
    assert dsn.describe() == "fingerd@db.example.org:6543/statuses"


def test_maskRemovesThePasswordAndTheWholeDsnFromMessages():
    raw = "postgresql://fingerd:hunter2@db/statuses"
    dsn = Dsn(raw)
    message = f"failed for {raw}\n\tpassword hunter2 rejected"
    masked = dsn.mask(message)
    assert "hunter2" not in masked
    assert "\n" not in masked


def test_defaultsAddedUnlessGiven():
    assert Dsn("host=db").parameters["connect_timeout"] == str(CONNECT_TIMEOUT)
    assert Dsn("host=db connect_timeout=30").parameters["connect_timeout"] == "30"
    assert Dsn("host=db").parameters["keepalives"] == "1"


def test_aMalformedDsnIsAConfigurationErrorWithoutTheDsn():
    with pytest.raises(PostgresConfigurationError) as caught:
        Dsn("host=db password=hunter2 this-is-not-a-pair")
    assert "bad PostgreSQL DSN" in str(caught.value)
    assert "hunter2" not in str(caught.value)
