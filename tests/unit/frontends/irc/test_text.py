"""Replies split into IRC lines (finger.frontends.irc.text)."""

from __future__ import annotations

from twisted.trial.unittest import TestCase

from finger.frontends.irc.text import (
    MAX_LINE_BYTES,
    MAX_REPLY_LINES,
    replyLines,
    roomForText,
    splitUTF8,
)


class SplittingTests(TestCase):
    def test_splitUTF8OnCharacterBoundaries(self):
        text = "aé€😀" * 100  # 1, 2, 3 and 4 bytes
        for limit in range(4, 40):
            pieces = splitUTF8(text, limit)
            self.assertEqual("".join(pieces), text)
            for piece in pieces:
                self.assertLessEqual(len(piece.encode("utf-8")), limit)
            for piece in pieces[:-1]:
                self.assertGreater(len(piece.encode("utf-8")), limit - 4)

    def test_splitUTF8NeedsRoomForOneCharacter(self):
        self.assertRaises(ValueError, splitUTF8, "abc", 3)

    def test_roomForTextLeavesRoomForTheRelayedPrefix(self):
        room = roomForText("fingerbot", "PRIVMSG", "#finger")
        longest = ":fingerbot!" + "u" * 11 + "@" + "h" * 63 + " PRIVMSG #finger :" + "x" * room
        self.assertEqual(len((longest + "\r\n").encode("utf-8")), MAX_LINE_BYTES)


class ReplyLinesTests(TestCase):
    def test_labelledAndStripped(self):
        self.assertEqual(
            replyLines("fingerbot", "tester", "mal\x07lory", "red\x1b[31m\nsecond"),
            ["mallory: red[31m", "mallory: second"],
        )

    def test_longLinesFitAndAreSummarised(self):
        lines = replyLines("fingerbot", "#finger", "erin", "x" * 10_000)
        self.assertEqual(len(lines), MAX_REPLY_LINES)
        room = roomForText("fingerbot", "PRIVMSG", "#finger")
        for line in lines:
            self.assertLessEqual(len(line.encode("utf-8")), room)
        self.assertRegex(lines[-1], r"^erin: \[\d+ more lines not shown\]$")
