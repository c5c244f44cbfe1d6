"""finger.accounts.sqlite, through the SQLite store: the IAccountStore contract on a real file."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from twisted.trial import unittest

from finger.accounts import sqlite as accountsql
from finger.accounts.interfaces import NoSuchAccount
from finger.backends.store import SQLiteFingerService, openDatabase
from tests.helpers.accountstore import AccountStoreContract, AccountWebFingerContract


class SQLiteAccountStoreTests(AccountStoreContract, AccountWebFingerContract, unittest.TestCase):
    def makeStore(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        store = SQLiteFingerService(str(Path(directory) / "s.db"), clock=lambda: self.now)
        store.startService()
        self.addCleanup(store.stopService)
        return store


class QueryTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.connection = openDatabase(str(Path(directory) / "s.db"))
        self.addCleanup(self.connection.close)

    def test_failedWriteRollsBack(self):
        """A write that fails leaves no transaction open and nothing half-done."""
        self.assertRaises(
            NoSuchAccount, accountsql.addToken, self.connection, "bob", "i", "h", 1.0
        )
        self.assertFalse(self.connection.in_transaction)
        self.assertRaises(
            sqlite3.IntegrityError,
            self.connection.execute,
            "INSERT INTO tokens (id, name, token_hash, created_at) VALUES (NULL, 'x', 'h', 1)",
        )

    def test_secondConnectionSees(self):
        """finger-admin's connection and the service's see each other's writes (WAL)."""
        accountsql.createAccount(self.connection, "alice", "h", False, 1.0)
        path = self.connection.execute("PRAGMA database_list").fetchone()[2]
        other = openDatabase(path)
        self.addCleanup(other.close)
        self.assertEqual(accountsql.getAccount(other, "alice").name, "alice")
