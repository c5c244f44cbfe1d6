"""Nicknames, channels and addressing (finger.frontends.irc.names)."""

from __future__ import annotations

from twisted.trial.unittest import TestCase

from finger.frontends.irc.names import (
    addressedQuery,
    channelProblem,
    ircLower,
    isChannel,
    nickProblem,
)


class NamesTests(TestCase):
    def test_addressedQuery(self):
        self.assertEqual(addressedQuery("fingerbot: alice", "fingerbot"), "alice")
        self.assertEqual(addressedQuery("fingerbot,alice ", "fingerbot"), "alice")
        # RFC 1459 case folding: [ and { are the same letter.
        self.assertEqual(addressedQuery("finger[bot: alice", "finger{bot"), "alice")
        self.assertIsNone(addressedQuery("fingerbot alice", "fingerbot"))
        self.assertIsNone(addressedQuery("fingerbots: alice", "fingerbot"))
        self.assertIsNone(addressedQuery("fingerbot", "fingerbot"))

    def test_ircLower(self):
        self.assertEqual(ircLower("Finger[Bot]~\\"), "finger{bot}^|")

    def test_nickProblem(self):
        for good in ("fingerbot", "[bot]", "a-1", "_x^{|}`"):
            self.assertIsNone(nickProblem(good), good)
        for bad in ("9lives", "finger bot", "-bot", "", "bot!"):
            self.assertIn("a nickname starts with", nickProblem(bad) or "", bad)

    def test_channelProblem(self):
        for good in ("#finger", "&local", "+modeless", "!12345chan"):
            self.assertIsNone(channelProblem(good), good)
        self.assertIn("a channel name starts with", channelProblem("finger") or "")
        self.assertIn("a channel name starts with", channelProblem("") or "")
        for bad in ("#a,#b", "#a b", "#bell\x07", "#" + "x" * 50):
            self.assertIn("no spaces, commas", channelProblem(bad) or "", bad)

    def test_isChannel(self):
        self.assertTrue(isChannel("#finger"))
        self.assertTrue(isChannel("&local"))
        self.assertFalse(isChannel("tester"))
