"""finger.accounts.memory: the IAccountStore contract."""

from __future__ import annotations

from twisted.trial import unittest

from finger.accounts.memory import MemoryAccountStore
from tests.helpers.accountstore import AccountStoreContract, AccountWebFingerContract


class MemoryAccountStoreTests(AccountStoreContract, AccountWebFingerContract, unittest.TestCase):
    def makeStore(self):
        return MemoryAccountStore(clock=lambda: self.now)
