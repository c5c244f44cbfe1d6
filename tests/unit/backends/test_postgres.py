"""
The PostgreSQL store's cache and change notifications, without a server
(the end-to-end tests in tests/e2e/test_postgres.py use a real one).  The
service is not started, so every query fails as when the database is away.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("psycopg")

from twisted.internet.task import Clock  # noqa: E402

from finger.backends.postgres import PostgresFingerService  # noqa: E402
from finger.interfaces import LookupFailed, StoreError, UserNotFound  # noqa: E402


def result(d):
    outcome = []
    d.addBoth(outcome.append)
    return outcome[0]


@pytest.fixture
def store():
    service = PostgresFingerService("host=db.invalid dbname=finger", reactor=Clock())
    changes = []
    service.subscribe(changes.append)
    service.changes = changes
    return service


def test_aNotificationIsPublishedAndUpdatesWhatIsCached(store):
    store._listener.connected = True
    store._remember("alice", ("Old", 1.0))
    store._notified(json.dumps({"n": "alice", "s": "New", "t": 2.0}))
    assert [(c.name, c.status, c.setAt) for c in store.changes] == [("alice", "New", 2.0)]
    assert result(store.getUserDetails("alice")) == {"status": "New", "setAt": 2.0}


def test_aRemovalIsPublishedAndCachedAsUnknown(store):
    store._listener.connected = True
    store._names.load(["alice", "bob"])
    store._notified(json.dumps({"n": "alice", "d": True}))
    assert [(c.name, c.status) for c in store.changes] == [("alice", None)]
    assert result(store.getUsers()) == ("bob",)
    assert result(store.getUser("alice")).check(UserNotFound)


def test_aMalformedNotificationIsIgnored(store):
    store._notified("not json")
    store._notified(json.dumps({"s": "no name"}))
    assert store.changes == []


def test_whileNotListeningTheCacheIsServedOnlyWhenTheDatabaseFails(store):
    store._remember("alice", ("Cached", 1.0))
    assert store._trusted() is False
    assert result(store.getUser("alice")) == "Cached"
    failure = result(store.getUser("bob"))
    assert failure.check(LookupFailed)
    assert str(failure.value) == "Error: status store unavailable"


def test_writesAreRefusedWhileTheDatabaseIsAway(store):
    failure = result(store.setUser("alice", "x"))
    assert failure.check(StoreError)
    assert str(failure.value) == "status store unavailable"
    assert result(store.setUser("bad name", "x")).check(StoreError)
