"""finger.accounts.admin (finger-admin), in this process, on real store files."""

from __future__ import annotations

import io
import shutil
import sqlite3
import tempfile
from pathlib import Path
from unittest import mock

from twisted.trial import unittest

from finger.accounts import admin
from finger.accounts import sqlite as accountsql
from finger.accounts.hashing import PasswordHashing
from finger.accounts.tokens import tokenId, tokenMatches
from finger.backends.store import openDatabase


class Terminal(io.StringIO):
    def isatty(self):
        return True


class AdminTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        self.store = str(Path(directory) / "s.db")
        # Fast hashes: these tests are about the command, not argon2's cost.
        patcher = mock.patch.object(
            admin, "PasswordHashing",
            lambda runInThread: PasswordHashing(
                timeCost=1, memoryCost=64, parallelism=1, runInThread=runInThread
            ),
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def run_(self, *args, stdin=""):
        out, err = io.StringIO(), io.StringIO()
        source = stdin if isinstance(stdin, io.StringIO) else io.StringIO(stdin)
        status = admin.main(["--store", self.store, *args], source, out, err)
        return status, out.getvalue(), err.getvalue()

    def account(self, name):
        connection = openDatabase(self.store)
        try:
            return accountsql.getAccount(connection, name)
        finally:
            connection.close()

    def test_adduserFromStdin(self):
        status, out, err = self.run_("adduser", "alice", stdin="s3cret words\n")
        self.assertEqual((status, out), (0, ""))
        self.assertIn("created account alice", err)
        account = self.account("alice")
        self.assertFalse(account.admin)
        self.assertTrue(account.passwordHash.startswith("$argon2id$"))
        self.assertTrue(PasswordHashing(runInThread=lambda *a: None).verifyNow(account.passwordHash, "s3cret words"))

    def test_adduserAdmin(self):
        self.assertEqual(self.run_("adduser", "root", "--admin", stdin="pw\r\n")[0], 0)
        self.assertTrue(self.account("root").admin)

    def test_adduserFromTerminalAsksTwice(self):
        with mock.patch.object(admin.getpass, "getpass", side_effect=["pw", "pw"]) as asked:
            status, _, _ = self.run_("adduser", "alice", stdin=Terminal())
        self.assertEqual(status, 0)
        self.assertEqual(asked.call_count, 2)
        with mock.patch.object(admin.getpass, "getpass", side_effect=["pw", "other"]):
            status, _, err = self.run_("passwd", "alice", stdin=Terminal())
        self.assertEqual((status, err), (1, "finger-admin: the passwords do not match\n"))

    def test_errors(self):
        """One line on stderr and status 1."""
        self.run_("adduser", "alice", stdin="pw\n")
        cases = [
            (("adduser", "alice"), "pw\n", "finger-admin: account alice exists already\n"),
            (("adduser", "bob"), "\n", "finger-admin: the password is empty\n"),
            (("adduser", "bob"), "", "finger-admin: the password is empty\n"),
            (("adduser", "a b"), "pw\n", "finger-admin: invalid account name: the name contains ' '\n"),
            (("passwd", "bob"), "pw\n", "finger-admin: no such account: bob\n"),
            (("token", "bob"), "", "finger-admin: no such account: bob\n"),
            (("revoke", "alice", "000000000000"), "", "finger-admin: alice has no token 000000000000\n"),
            (("deluser", "bob"), "", "finger-admin: no such account: bob\n"),
        ]
        for args, stdin, expected in cases:
            status, out, err = self.run_(*args, stdin=stdin)
            self.assertEqual((status, out, err), (1, "", expected), args)

    def test_tooLongPassword(self):
        status, _, err = self.run_("adduser", "bob", stdin="x" * 5000 + "\n")
        self.assertEqual(status, 1)
        self.assertIn("longer than", err)

    def test_usage(self):
        with mock.patch("sys.stderr", io.StringIO()):
            self.assertEqual(admin.main(["list"], io.StringIO(), io.StringIO(), io.StringIO()), 2)
            self.assertEqual(admin.main(["--store", self.store, "frobnicate"]), 2)

    def test_unusableStore(self):
        out, err2 = io.StringIO(), io.StringIO()
        status = admin.main(["--store", "/nonexistent/dir/s.db", "list"], io.StringIO(), out, err2)
        self.assertEqual(status, 1)
        self.assertRegex(err2.getvalue(), r"\Afinger-admin: cannot open /nonexistent/dir/s.db: .*\n\Z")

    def test_tokenLifecycle(self):
        self.run_("adduser", "alice", stdin="pw\n")
        status, out, err = self.run_("token", "alice")
        self.assertEqual(status, 0)
        token = out.strip()
        identifier = tokenId(token)
        self.assertIsNotNone(identifier)
        self.assertIn(f"new token {identifier} for alice", err)
        self.assertNotIn(token, err)
        connection = openDatabase(self.store)
        self.addCleanup(connection.close)
        record = accountsql.getToken(connection, identifier)
        self.assertTrue(tokenMatches(token, record.tokenHash))
        # Only the hash is stored: the token appears nowhere in the file.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.assertNotIn(token.encode(), Path(self.store).read_bytes())
        status, out, _ = self.run_("list")
        self.assertIn(f"token {identifier}", out)
        self.assertEqual(self.run_("revoke", "alice", identifier)[2], "finger-admin: revoked 1 token of alice\n")
        self.assertIsNone(accountsql.getToken(connection, identifier))

    def test_revokeAll(self):
        self.run_("adduser", "alice", stdin="pw\n")
        self.run_("token", "alice")
        self.run_("token", "alice")
        self.assertEqual(self.run_("revoke", "alice")[2], "finger-admin: revoked 2 tokens of alice\n")

    def test_passwd(self):
        self.run_("adduser", "alice", stdin="old\n")
        before = self.account("alice").passwordHash
        self.assertEqual(self.run_("passwd", "alice", stdin="new\n")[0], 0)
        self.assertNotEqual(self.account("alice").passwordHash, before)

    def test_deluserAndList(self):
        self.run_("adduser", "alice", stdin="pw\n")
        self.run_("adduser", "root", "--admin", stdin="pw\n")
        out = self.run_("list")[1]
        self.assertRegex(out, r"(?m)^alice  created .*  last login never$")
        self.assertRegex(out, r"(?m)^root \(admin\)  created ")
        self.assertEqual(self.run_("deluser", "alice")[0], 0)
        self.assertNotIn("alice", self.run_("list")[1])

    def test_storeIsTheService(self):
        """finger-admin writes the tables the service reads (the current schema)."""
        self.run_("adduser", "alice", stdin="pw\n")
        connection = sqlite3.connect(self.store)
        self.addCleanup(connection.close)
        self.assertEqual(connection.execute("PRAGMA user_version").fetchone(), (3,))
