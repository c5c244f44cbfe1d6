"""The SQLite store backend, on real database files."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from twisted.internet import defer
from twisted.logger import Logger
from twisted.trial import unittest

from finger.backends.store import (
    MAX_STATUS,
    SCHEMA_VERSION,
    SQLiteFingerService,
    StoreOpenError,
    openDatabase,
)
from finger.errors import FingerConfigurationError
from finger.interfaces import (
    IFingerDetails,
    IFingerService,
    IFingerSetterService,
    StoreError,
    UserNotFound,
)


class StoreTestCase(unittest.TestCase):
    def setUp(self):
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory)
        self.path = self.directory / "status.db"
        self.now = 1700000000.0

    def start(self) -> SQLiteFingerService:
        service = SQLiteFingerService(str(self.path), clock=lambda: self.now)
        self.events = []
        service.log = Logger(observer=self.events.append)
        service.startService()
        self.addCleanup(lambda: service.running and service.stopService())
        return service

    def peek(self, sql: str):
        connection = sqlite3.connect(self.path)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


class StoreTests(StoreTestCase):
    def test_interfaces(self):
        service = SQLiteFingerService(str(self.path))
        for interface in (IFingerService, IFingerSetterService, IFingerDetails):
            self.assertTrue(interface.providedBy(service), interface)

    def test_createdOnFirstStart(self):
        self.assertFalse(self.path.exists())
        self.start()
        self.assertEqual(self.peek("PRAGMA user_version"), [(SCHEMA_VERSION,)])
        self.assertEqual(self.peek("PRAGMA journal_mode"), [("wal",)])
        self.assertEqual(self.peek("SELECT * FROM statuses"), [])

    @defer.inlineCallbacks
    def test_setThenGet(self):
        service = self.start()
        yield service.setUser("alice", "Gone fishing")
        yield service.setUser("bob", "Caf\u00e9 \u2615\nsecond line")
        self.assertEqual((yield service.getUser("alice")), "Gone fishing")
        self.assertEqual((yield service.getUser("bob")), "Caf\u00e9 \u2615\nsecond line")
        with self.assertRaises(UserNotFound):
            yield service.getUser("carol")

    @defer.inlineCallbacks
    def test_detailsRecordWhenSet(self):
        service = self.start()
        yield service.setUser("alice", "first")
        self.assertEqual(
            (yield service.getUserDetails("alice")), {"status": "first", "setAt": self.now}
        )
        self.now += 60
        yield service.setUser("alice", "second")
        self.assertEqual(
            (yield service.getUserDetails("alice")), {"status": "second", "setAt": self.now}
        )
        with self.assertRaises(UserNotFound):
            yield service.getUserDetails("bob")

    @defer.inlineCallbacks
    def test_survivesRestart(self):
        service = self.start()
        yield service.setUser("alice", "durable")
        service.stopService()
        again = self.start()
        self.assertEqual((yield again.getUser("alice")), "durable")
        self.assertEqual((yield again.getUsers()), ("alice",))

    @defer.inlineCallbacks
    def test_usersSortedAndCached(self):
        service = self.start()
        for name in ["carol", "alice", "bob"]:
            yield service.setUser(name, "here")
        names = yield service.getUsers()
        self.assertEqual(names, ("alice", "bob", "carol"))
        self.assertIs((yield service.getUsers()), names)
        yield service.setUser("bob", "changed")
        self.assertIs((yield service.getUsers()), names)  # no new name: same tuple
        yield service.setUser("aaron", "new")
        self.assertEqual((yield service.getUsers()), ("aaron", "alice", "bob", "carol"))
        self.assertEqual(names, ("alice", "bob", "carol"))  # the shared tuple is not mutated

    @defer.inlineCallbacks
    def test_newNameDuringFirstListing(self):
        service = self.start()
        yield service.setUser("bob", "here")
        listing = service.getUsers()  # Both in flight: the load runs first...
        setting = service.setUser("alice", "new")
        self.assertEqual((yield listing), ("bob",))
        yield setting
        self.assertEqual((yield service.getUsers()), ("alice", "bob"))  # ...and is updated.

    @defer.inlineCallbacks
    def test_invalidNameRefused(self):
        service = self.start()
        for name in ["", "a b", "a:b", "x" * 65, "a\x00"]:
            with self.assertRaises(StoreError):
                yield service.setUser(name, "status")
        self.assertEqual(self.peek("SELECT count(*) FROM statuses"), [(0,)])

    @defer.inlineCallbacks
    def test_statusTooLong(self):
        service = self.start()
        with self.assertRaises(StoreError) as caught:
            yield service.setUser("alice", "x" * (MAX_STATUS + 1))
        self.assertIn("too long", str(caught.exception))
        yield service.setUser("alice", "x" * MAX_STATUS)
        self.assertEqual(len((yield service.getUser("alice"))), MAX_STATUS)

    @defer.inlineCallbacks
    def test_writeFailureIsStoreError(self):
        service = self.start()
        yield service.setUser("alice", "before")
        connection = sqlite3.connect(self.path)
        connection.execute(
            "CREATE TRIGGER fail BEFORE UPDATE ON statuses "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
        connection.commit()
        connection.close()
        with self.assertRaises(StoreError) as caught:
            yield service.setUser("alice", "after")
        self.assertIn("disk on fire", str(caught.exception))
        self.assertEqual((yield service.getUser("alice")), "before")
        self.assertIn("disk on fire", self.events[-1]["error"])
        yield service.setUser("bob", "inserts still work")  # the connection is usable

    @defer.inlineCallbacks
    def test_concurrentSetsEndWithTheLast(self):
        service = self.start()
        values = [f"value {i}" for i in range(50)]
        yield defer.gatherResults([service.setUser("alice", v) for v in values])
        self.assertEqual((yield service.getUser("alice")), values[-1])
        self.assertEqual(self.peek("SELECT count(*) FROM statuses"), [(1,)])

    def test_notRunning(self):
        service = SQLiteFingerService(str(self.path))
        self.failureResultOf(service.getUser("alice"), StoreError)


class OpenTests(StoreTestCase):
    def assertOpenFails(self, expected: str) -> None:
        with self.assertRaises(StoreOpenError) as caught:
            openDatabase(str(self.path))
        self.assertIn(expected, str(caught.exception))
        self.assertIn(str(self.path), str(caught.exception))

    def test_garbageFile(self):
        self.path.write_bytes(b"this is not a database, just text\n" * 200)
        self.assertOpenFails("file is not a database")

    def test_corruptPages(self):
        connection = openDatabase(str(self.path))
        connection.executemany(
            "INSERT INTO statuses VALUES (?, ?, 0)",
            [(f"user{i}", "x" * 200) for i in range(500)],
        )
        connection.close()
        data = bytearray(self.path.read_bytes())
        data[4096 * 2 : 4096 * 4] = b"\xff" * 8192  # smash pages in the middle
        self.path.write_bytes(bytes(data))
        with self.assertRaises(StoreOpenError) as caught:
            openDatabase(str(self.path))
        self.assertRegex(str(caught.exception), "corrupt|malformed")

    def test_someoneElsesDatabase(self):
        connection = sqlite3.connect(self.path)
        connection.execute("CREATE TABLE invoices (n)")
        connection.close()
        self.assertOpenFails("not a finger status database (it has tables invoices)")

    def test_newerSchema(self):
        openDatabase(str(self.path)).close()
        connection = sqlite3.connect(self.path)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        connection.close()
        self.assertOpenFails("is newer than this program's")

    def test_directoryMissing(self):
        self.path = self.directory / "missing" / "status.db"
        self.assertOpenFails("unable to open database file")

    def test_pathIsADirectory(self):
        self.path.mkdir()
        self.assertOpenFails("unable to open database file")

    def test_reopenKeepsData(self):
        connection = openDatabase(str(self.path))
        connection.execute("INSERT INTO statuses VALUES ('alice', 'kept', 1.5)")
        connection.close()
        connection = openDatabase(str(self.path))
        self.assertEqual(
            connection.execute("SELECT * FROM statuses").fetchall(), [("alice", "kept", 1.5)]
        )
        self.assertEqual(connection.execute("PRAGMA synchronous").fetchone(), (2,))  # FULL
        connection.close()


class StartupTests(StoreTestCase):
    """
    C{check} (when the service is built, maybe as root) creates nothing;
    C{startService} (after twistd dropped privileges) creates the database.
    """

    def test_checkCreatesNothingAndStartServiceCreates(self):
        service = SQLiteFingerService(str(self.path))
        service.check()
        self.assertEqual(list(self.directory.iterdir()), [])
        self.start()
        self.assertEqual(self.peek("PRAGMA user_version"), [(SCHEMA_VERSION,)])

    def test_checkStillChecksAnExistingDatabase(self):
        self.path.write_bytes(b"this is not a database, just text\n" * 200)
        with self.assertRaises(StoreOpenError) as caught:
            SQLiteFingerService(str(self.path)).check()
        self.assertIn("file is not a database", str(caught.exception))

    def test_checkWantsTheDirectory(self):
        path = self.directory / "missing" / "status.db"
        with self.assertRaises(StoreOpenError) as caught:
            SQLiteFingerService(str(path)).check()
        self.assertEqual(str(caught.exception), f"cannot create {path}: No such file or directory")

    def test_startServiceFailureSaysWhoCouldNotOpenIt(self):
        # The directory is there when the service is built, gone when it starts.
        # (The tap layer adds "finger: --store: ": tests/unit/tap/test_backends.py.)
        self.path = self.directory / "going" / "status.db"
        self.path.parent.mkdir()
        service = SQLiteFingerService(str(self.path))
        service.check()
        self.path.parent.rmdir()
        with self.assertRaises(StoreOpenError) as caught:
            service.startService()
        self.assertRegex(
            str(caught.exception),
            rf"^cannot \w+ {self.path}: unable to open database file "
            r"\(running as (user|uid) \S+: it must be able to write the database and the "
            r"directory it is in\)$",
        )
        self.assertIsInstance(caught.exception, FingerConfigurationError)
        self.assertFalse(service.running)


# Version 1's schema, as finger 1.x (before accounts) created it.
V1_SCHEMA = """
    CREATE TABLE statuses (
        name TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        set_at REAL NOT NULL
    )
"""


class MigrationTests(StoreTestCase):
    def makeV1(self):
        connection = sqlite3.connect(self.path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(V1_SCHEMA)
        connection.execute("INSERT INTO statuses VALUES ('alice', 'Gone fishing', 1600000000.5)")
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
        connection.close()

    @defer.inlineCallbacks
    def test_v1ToCurrent(self):
        """A version 1 database gets the accounts tables and keeps its statuses."""
        self.makeV1()
        service = self.start()
        self.assertEqual(SCHEMA_VERSION, 3)
        self.assertEqual(self.peek("PRAGMA user_version"), [(3,)])
        tables = {row[0] for row in self.peek("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertEqual(tables, {"statuses", "accounts", "tokens"})
        details = yield service.getUserDetails("alice")
        self.assertEqual(details, {"status": "Gone fishing", "setAt": 1600000000.5})
        account = yield service.createAccount("alice", "hash", False)
        self.assertEqual(account.name, "alice")

    def test_migratedOnce(self):
        """Opening a migrated database again changes nothing."""
        self.makeV1()
        openDatabase(str(self.path)).close()
        before = self.peek("SELECT sql FROM sqlite_master ORDER BY name")
        openDatabase(str(self.path)).close()
        self.assertEqual(self.peek("SELECT sql FROM sqlite_master ORDER BY name"), before)

    @defer.inlineCallbacks
    def test_realV2FileToV3(self):
        """
        A database made by the previous release (schema 2: finger-admin
        adduser alice, then a status) gains the WebFinger column and keeps
        the account, its password hash and the status.
        """
        shutil.copy(Path(__file__).with_name("store-v2.sqlite"), self.path)
        self.assertEqual(self.peek("PRAGMA user_version"), [(2,)])
        before = self.peek("SELECT name, password_hash, admin, created_at FROM accounts")
        service = self.start()
        self.assertEqual(self.peek("PRAGMA user_version"), [(3,)])
        self.assertEqual(
            self.peek("SELECT name, password_hash, admin, created_at FROM accounts"), before
        )
        details = yield service.getUserDetails("alice")
        self.assertEqual(details["status"], "Made by finger 2026-11 (schema 2)")
        self.assertIsNone((yield service.getWebFinger("alice")))
        yield service.setWebFinger("alice", '{"links": []}')
        self.assertEqual((yield service.getWebFinger("alice")), '{"links": []}')
        account = yield service.getAccount("alice")
        self.assertEqual(account.passwordHash, before[0][1])

    def test_newDatabaseIsCurrent(self):
        openDatabase(str(self.path)).close()
        self.assertEqual(self.peek("PRAGMA user_version"), [(3,)])
        self.assertEqual(self.peek("SELECT count(*) FROM accounts"), [(0,)])


class ClearTests(StoreTestCase):
    @defer.inlineCallbacks
    def test_clear(self):
        from finger.interfaces import IFingerClearService

        service = self.start()
        self.assertTrue(IFingerClearService.providedBy(service))
        yield service.setUser("alice", "x")
        yield service.setUser("bob", "y")
        self.assertEqual(list((yield service.getUsers())), ["alice", "bob"])
        yield service.clearUser("alice")
        yield self.assertFailure(service.getUser("alice"), UserNotFound)
        self.assertEqual(list((yield service.getUsers())), ["bob"])
        self.assertEqual(self.peek("SELECT name FROM statuses"), [("bob",)])
        yield service.clearUser("nobody")  # nothing to clear: fine


class StoreChangeFeedTests(StoreTestCase):
    @defer.inlineCallbacks
    def test_aStoredStatusIsPublishedOnceOnDisk(self):
        from finger.feed import StatusChange
        from finger.interfaces import IFingerChangeFeed

        service = self.start()
        self.assertTrue(IFingerChangeFeed.providedBy(service))
        seen = []

        def onDisk(change):
            rows = self.peek(f"SELECT status FROM statuses WHERE name = '{change.name}'")
            seen.append((change, rows))

        service.subscribe(onDisk)
        yield service.setUser("alice", "Gone fishing")
        self.assertEqual(seen, [(StatusChange("alice", "Gone fishing", self.now), [("Gone fishing",)])])

    @defer.inlineCallbacks
    def test_aFailedWriteIsNotPublished(self):
        service = self.start()
        seen = []
        service.subscribe(seen.append)
        with self.assertRaises(StoreError):
            yield service.setUser("alice", "x" * (MAX_STATUS + 1))
        self.assertEqual(seen, [])


class ClearFeedTests(StoreTestCase):
    @defer.inlineCallbacks
    def test_clearPublishesARemoval(self):
        service = self.start()
        changes = []
        service.subscribe(changes.append)
        yield service.setUser("alice", "x")
        yield service.clearUser("alice")
        yield service.clearUser("alice")  # nothing left: nothing published
        self.assertEqual([(c.name, c.status) for c in changes], [("alice", "x"), ("alice", None)])
