"""The bot's outgoing line queue on its own clock (finger.frontends.irc.pacing)."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial.unittest import TestCase

from finger.frontends.irc.pacing import LinePacer


class PacingTests(TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.sent: list[str] = []

    def pacer(self, interval: float | None) -> LinePacer:
        return LinePacer(self.sent.append, interval, self.clock)

    def test_oneLinePerInterval(self):
        pacer = self.pacer(0.5)
        for line in ("one", "two", "three"):
            pacer.put(line)
        self.assertEqual(self.sent, ["one"])  # the first at once
        self.assertEqual(pacer.waiting, 2)
        self.clock.advance(0.4)
        self.assertEqual(self.sent, ["one"])
        self.clock.advance(0.1)
        self.assertEqual(self.sent, ["one", "two"])
        self.assertEqual(pacer.waiting, 1)
        self.clock.advance(0.5)
        self.assertEqual(self.sent, ["one", "two", "three"])
        self.assertEqual(pacer.waiting, 0)

    def test_idlePacerSendsAtOnceAfterTheInterval(self):
        pacer = self.pacer(0.5)
        pacer.put("one")
        self.clock.advance(0.5)
        self.assertEqual(self.clock.getDelayedCalls(), [])  # idle: nothing scheduled
        pacer.put("two")
        self.assertEqual(self.sent, ["one", "two"])

    def test_lineSoonAfterAnotherWaits(self):
        pacer = self.pacer(2.0)
        pacer.put("one")
        self.clock.advance(1.0)
        pacer.put("two")
        self.assertEqual(self.sent, ["one"])
        self.clock.advance(1.0)
        self.assertEqual(self.sent, ["one", "two"])

    def test_noIntervalNoPacing(self):
        pacer = self.pacer(None)
        for line in ("one", "two", "three"):
            pacer.put(line)
        self.assertEqual(self.sent, ["one", "two", "three"])
        self.assertEqual(pacer.waiting, 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_stopDropsTheWaitingLines(self):
        pacer = self.pacer(0.5)
        for line in ("one", "two", "three"):
            pacer.put(line)
        pacer.stop()
        self.assertEqual(pacer.waiting, 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(5)
        self.assertEqual(self.sent, ["one"])
