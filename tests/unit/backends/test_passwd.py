"""The pwd backend, against real accounts and real files in their homes."""

from __future__ import annotations

import os
import pwd
import threading

from twisted.internet import defer
from twisted.logger import Logger
from twisted.trial import unittest

from finger.backends.passwd import MAX_HOME_FILE, Account, PasswordFingerService, describe
from finger.interfaces import IFingerService, IFingerVerboseService, UserNotFound
from tests.helpers.systemusers import SystemAccount, requireRoot


class PasswordBackendTests(unittest.TestCase):
    def setUp(self):
        requireRoot()
        self.events = []
        self.service = PasswordFingerService()
        self.service.log = Logger(observer=self.events.append)

    def account(self, fullName: str = "Test Person") -> SystemAccount:
        account = SystemAccount(fullName)
        self.addCleanup(account.delete)
        return account

    def rootSecret(self, account: SystemAccount):
        """A file only root may read, beside C{account}'s home."""
        secretFile = account.home.parent / f"{account.name}.secret"
        secretFile.write_text("root's secret\n")
        os.chmod(secretFile, 0o600)
        self.addCleanup(secretFile.unlink)
        return secretFile

    def warnings(self) -> list[str]:
        return [e["problem"] for e in self.events if "problem" in e]

    def test_interfaces(self):
        self.assertTrue(IFingerService.providedBy(self.service))
        self.assertTrue(IFingerVerboseService.providedBy(self.service))

    @defer.inlineCallbacks
    def test_nameProjectAndPlan(self):
        account = self.account("Alice Liddell,Room 1,,")
        account.write(".project", "Finding the rabbit\n")
        account.write(".plan", "Down the hole.\nThen tea.\n")
        status = yield self.service.getUser(account.name)
        self.assertEqual(
            status,
            "Alice Liddell\nProject: Finding the rabbit\nPlan:\nDown the hole.\nThen tea.",
        )

    @defer.inlineCallbacks
    def test_noPlan(self):
        account = self.account("Bob")
        self.assertEqual((yield self.service.getUser(account.name)), "Bob\nNo Plan.")

    @defer.inlineCallbacks
    def test_emptyFullNameShowsLoginName(self):
        account = self.account("")
        self.assertEqual((yield self.service.getUser(account.name)), f"{account.name}\nNo Plan.")

    @defer.inlineCallbacks
    def test_planSymlinkToRootOnlyFileRevealsNothing(self):
        account = self.account("Carol")
        secretFile = self.rootSecret(account)
        os.symlink(secretFile, account.home / ".plan")
        os.lchown(account.home / ".plan", account.uid, account.gid)
        os.symlink("/etc/shadow", account.home / ".project")
        status = yield self.service.getUser(account.name)
        self.assertEqual(status, "Carol\nNo Plan.")
        yield self.service.getUser(account.name)
        problems = self.warnings()
        self.assertEqual(len(problems), 2, problems)  # logged once each, not per query
        self.assertTrue(all("is a symbolic link" in p for p in problems), problems)

    @defer.inlineCallbacks
    def test_hardLinkToRootFileIsNotRead(self):
        account = self.account("Dave")
        secretFile = self.rootSecret(account)
        os.link(secretFile, account.home / ".plan")
        status = yield self.service.getUser(account.name)
        self.assertEqual(status, "Dave\nNo Plan.")
        self.assertIn("is owned by uid 0, not by the user", self.warnings()[0])

    @defer.inlineCallbacks
    def test_planOfAnotherUserIsNotRead(self):
        account = self.account("Erin")
        account.write(".plan", "not mine", owner=0)
        self.assertEqual((yield self.service.getUser(account.name)), "Erin\nNo Plan.")

    def test_fifoPlanDoesNotHang(self):
        account = self.account("Frank")
        fifo = account.home / ".plan"
        os.mkfifo(fifo)
        os.chown(fifo, account.uid, account.gid)
        result = []
        worker = threading.Thread(
            target=lambda: result.append(describe(Account.fromEntry(pwd.getpwnam(account.name)))),
            daemon=True,
        )
        worker.start()
        worker.join(60)
        if worker.is_alive():
            # Unblock the reader before failing, so the thread can end.
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            self.fail("reading a FIFO .plan blocked")
        lookup, = result
        self.assertEqual(lookup.status, "Frank\nNo Plan.")
        self.assertIn("is not a regular file", lookup.problems[0])

    @defer.inlineCallbacks
    def test_noFingerIsUnknown(self):
        account = self.account("Grace")
        other = self.account("Heidi")
        account.write(".plan", "hidden plan")
        account.write(".nofinger", "")
        with self.assertRaises(UserNotFound):
            yield self.service.getUser(account.name)
        names = yield self.service.getUsers()
        self.assertNotIn(account.name, names)
        self.assertIn(other.name, names)

    @defer.inlineCallbacks
    def test_hugePlanIsCapped(self):
        account = self.account("Ivan")
        account.write(".plan", b"x" * (10 * 1024 * 1024))
        status = yield self.service.getUser(account.name)
        self.assertEqual(status, "Ivan\nPlan:\n" + "x" * MAX_HOME_FILE)

    @defer.inlineCallbacks
    def test_planNotUtf8(self):
        account = self.account("Judy")
        account.write(".plan", b"caf\xe9\n")
        self.assertEqual((yield self.service.getUser(account.name)), "Judy\nPlan:\ncaf\ufffd")

    @defer.inlineCallbacks
    def test_systemAccountsAreUnknownUnlessNamed(self):
        with self.assertRaises(UserNotFound):
            yield self.service.getUser("root")
        with self.assertRaises(UserNotFound):
            yield self.service.getUser("daemon")
        named = PasswordFingerService(extraUsers=["daemon"])
        self.assertEqual((yield named.getUser("daemon")).splitlines()[0], "daemon")
        self.assertIn("daemon", (yield named.getUsers()))
        self.assertNotIn("daemon", (yield self.service.getUsers()))

    @defer.inlineCallbacks
    def test_unknownAndOddNames(self):
        for name in ["no-such-user-here", "", "a\x00b", "../root", "x" * 300]:
            with self.assertRaises(UserNotFound):
                yield self.service.getUser(name)

    @defer.inlineCallbacks
    def test_usersAreSortedAndRegular(self):
        first = self.account("Zed")
        second = self.account("Amy")
        names = yield self.service.getUsers()
        self.assertEqual(list(names), sorted(names))
        self.assertIn(first.name, names)
        self.assertIn(second.name, names)
        self.assertNotIn("root", names)
        self.assertNotIn("nobody", names)
        self.assertIs((yield self.service.getUsers()), names)  # unchanged: the same tuple
        third = self.account("New")
        self.assertIn(third.name, (yield self.service.getUsers()))

    @defer.inlineCallbacks
    def test_verboseOnlyWhenAllowed(self):
        account = self.account("Kim")
        quiet = yield self.service.getUserVerbose(account.name)
        self.assertEqual(quiet, "Kim\nNo Plan.")
        verbose = PasswordFingerService(verbose=True)
        status = yield verbose.getUserVerbose(account.name)
        self.assertEqual(
            status, f"Kim\nDirectory: {account.home}    Shell: /bin/sh\nNo Plan."
        )
        self.assertEqual((yield verbose.getUser(account.name)), "Kim\nNo Plan.")

    def test_missingExtraUsers(self):
        service = PasswordFingerService(extraUsers=["root", "no-such-account-x"])
        self.assertEqual(service.missingExtraUsers(), ["no-such-account-x"])
