"""Announcements: coalesced per user, at most a few a minute, one line each."""

from twisted.internet import task
from twisted.logger import Logger
from twisted.trial import unittest

from finger.feed import StatusChange
from finger.frontends.irc.announce import Announcer, announcementText
from finger.frontends.irc.text import MAX_LINE_BYTES, roomForText


class AnnouncerTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.sent = []
        self.announcer = Announcer(
            lambda name, status: self.sent.append((self.clock.seconds(), name, status)),
            self.clock,
            perMinute=2,
            maxPending=3,
        )
        self.announcer.log = Logger(observer=lambda event: None)

    def change(self, name, status):
        self.announcer.changed(StatusChange(name, status, 0.0))

    def test_atMostPerMinuteAndTheLastStatusWins(self):
        self.change("alice", "1")
        self.change("bob", "b")
        self.change("alice", "2")  # waits
        self.change("alice", "3")  # replaces it
        self.change("carol", None)
        self.assertEqual(self.sent, [(0, "alice", "1"), (0, "bob", "b")])
        self.clock.advance(59)
        self.assertEqual(len(self.sent), 2)
        self.clock.advance(1)
        self.assertEqual(self.sent[2:], [(60, "alice", "3"), (60, "carol", None)])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_pendingUsersAreBounded(self):
        self.change("a", "1")
        self.change("b", "1")
        for name in "cdefg":
            self.change(name, "1")
        self.assertEqual(list(self.announcer.pending), ["e", "f", "g"])
        self.assertEqual(self.announcer.dropped, 2)

    def test_stopForgetsEverything(self):
        for name in "abc":
            self.change(name, "1")
        self.announcer.stop()
        self.clock.advance(120)
        self.assertEqual(len(self.sent), 2)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class TextTests(unittest.TestCase):
    def test_oneLineCutToFit(self):
        self.assertEqual(announcementText("bot", "#c", "alice", "Gone fishing"), "alice is now: Gone fishing")
        self.assertEqual(announcementText("bot", "#c", "alice", None), "alice is no longer here")
        self.assertEqual(announcementText("bot", "#c", "alice", "one\ntwo"), "alice is now: one …")
        long = announcementText("bot", "#c", "alice", "é" * 1000)
        self.assertTrue(long.endswith(" …"))
        self.assertLessEqual(len(long.encode("utf-8")), roomForText("bot", "PRIVMSG", "#c"))
        self.assertLess(roomForText("bot", "PRIVMSG", "#c"), MAX_LINE_BYTES)
        self.assertEqual(announcementText("bot", "#c", "alice", "bell\x07 rings"), "alice is now: bell rings")
