"""finger.accounts.authorise: the one rule."""

from __future__ import annotations

from twisted.trial import unittest

from finger.accounts.authorise import mayWriteStatus
from finger.accounts.cred import AccountAvatar


class AuthoriseTests(unittest.TestCase):
    def test_own(self):
        self.assertTrue(mayWriteStatus(AccountAvatar("alice", False), "alice"))

    def test_notAnothers(self):
        self.assertFalse(mayWriteStatus(AccountAvatar("alice", False), "bob"))
        self.assertFalse(mayWriteStatus(AccountAvatar("alice", False), "Alice"))

    def test_admin(self):
        self.assertTrue(mayWriteStatus(AccountAvatar("root", True), "bob"))
