"""The per-sender request budget (finger.frontends.irc.budget)."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial.unittest import TestCase

from finger.frontends.irc.budget import ALLOW, IGNORE, MAX_SENDERS, WARN, SenderBudget


class BudgetTests(TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()

    def test_overTheBudgetOneWarningThenIgnored(self):
        budget = SenderBudget(self.clock, requests=2, window=10)
        verdicts = [budget.check("alice") for _ in range(5)]
        self.assertEqual(verdicts, [ALLOW, ALLOW, WARN, IGNORE, IGNORE])
        self.assertEqual(budget.check("bob"), ALLOW)
        self.clock.advance(10)
        self.assertEqual(budget.check("alice"), ALLOW)

    def test_firstHintOncePerRememberedSender(self):
        budget = SenderBudget(self.clock)
        budget.check("alice")  # the bot counts every request before hinting
        self.assertTrue(budget.firstHint("alice"))
        budget.check("alice")
        self.assertFalse(budget.firstHint("alice"))
        budget.check("bob")
        self.assertTrue(budget.firstHint("bob"))
        self.clock.advance(10)  # alice forgotten: a new hint
        budget.check("alice")
        self.assertTrue(budget.firstHint("alice"))

    def test_budgetForgetsOldSenders(self):
        budget = SenderBudget(self.clock, requests=1, window=10)
        for n in range(MAX_SENDERS):
            budget.check(f"nick{n}")
        self.assertEqual(len(budget), MAX_SENDERS)
        self.clock.advance(11)
        budget.check("newcomer")
        self.assertEqual(budget.remembered(), ["newcomer"])
