"""finger.accounts.memory: the IAccountStore contract."""

from __future__ import annotations

from twisted.trial import unittest

from finger.accounts.memory import MemoryAccountStore
from tests.helpers.accountstore import AccountStoreContract


class MemoryAccountStoreTests(AccountStoreContract, unittest.TestCase):
    def makeStore(self):
        return MemoryAccountStore(clock=lambda: self.now)
