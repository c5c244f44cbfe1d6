"""
Unit tests of the WebFinger file (finger.frontends.web.webfingerfile): what
it accepts, clear one-line errors, and reloads on a task.Clock that keep the
last good data when a new version is bad.
"""

from __future__ import annotations

import json
import os

from twisted.internet import task
from twisted.logger import Logger
from twisted.trial.unittest import TestCase

from finger.errors import FingerConfigurationError
from finger.frontends.web.webfingerfile import (
    WebFingerFile,
    WebFingerFileError,
    parseWebFinger,
)
from tests.helpers.webclient import temporaryDirectory

ALICE = {
    "alice": {
        "aliases": ["https://social.example/@alice"],
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": "https://social.example/users/alice"}],
    }
}


class ParseTests(TestCase):
    def test_good(self):
        data = parseWebFinger(json.dumps(ALICE).encode())
        entry = data.entryFor("alice")
        self.assertEqual(entry.aliases, ("https://social.example/@alice",))
        self.assertEqual(entry.links[0]["href"], "https://social.example/users/alice")
        self.assertIsNone(data.entryFor("bob"))
        self.assertEqual(data.nameForAlias("https://social.example/@alice"), "alice")

    def test_problemsAreNamed(self):
        for document, fragment in [
            (b"[1]", "JSON object keyed by user name"),
            (b"{", "not valid JSON"),
            (b"\xff", "not valid UTF-8"),
            ({"alice": []}, "'alice': must be a JSON object"),
            ({"alice": {"link": []}}, "unknown member 'link'"),
            ({"alice": {"aliases": "x"}}, "'alice'.aliases: must be a list"),
            ({"alice": {"aliases": ["not a uri"]}}, "'alice'.aliases[0]: must be an absolute URI"),
            ({"alice": {"links": [{"href": "https://x.example/"}]}}, 'needs a "rel"'),
            ({"alice": {"links": [{"rel": "self", "hreff": "x"}]}}, "unknown member 'hreff'"),
            ({"alice": {"links": [{"rel": "self", "titles": {"en": 1}}]}}, "titles.en: must be a string"),
            ({"alice": {"properties": {"p": 1}}}, "must be a string or null"),
            ({"": {}}, "user name is empty"),
        ]:
            raw = document if isinstance(document, bytes) else json.dumps(document).encode()
            with self.assertRaises(ValueError) as caught:
                parseWebFinger(raw)
            self.assertIn(fragment, str(caught.exception), document)
            self.assertNotIn("\n", str(caught.exception))


class ReloadTests(TestCase):
    def setUp(self):
        self.path = os.path.join(temporaryDirectory(self), "webfinger.json")
        self.stamp = 1_000_000_000
        self.write(json.dumps(ALICE).encode())
        self.clock = task.Clock()
        self.file = WebFingerFile(self.path, refresh=30, reactor=self.clock)
        self.events = []
        self.file.log = Logger(observer=self.events.append)

    def write(self, raw: bytes) -> None:
        with open(self.path, "wb") as f:
            f.write(raw)
        self.stamp += 1
        os.utime(self.path, ns=(self.stamp * 10**9, self.stamp * 10**9))

    def errors(self):
        return [e for e in self.events if e["log_level"].name == "error"]

    def test_badFileAtStartIsAConfigurationError(self):
        self.write(b"{nope")
        with self.assertRaises(WebFingerFileError) as caught:
            self.file.startService()
        self.assertIsInstance(caught.exception, FingerConfigurationError)
        self.assertIn(self.path, str(caught.exception))
        os.remove(self.path)
        self.assertRaises(WebFingerFileError, self.file.loadNow)

    def test_changesAreLoadedOnTheClock(self):
        self.file.startService()
        self.addCleanup(self.file.stopService)
        self.assertIsNotNone(self.file.entryFor("alice"))
        self.write(json.dumps({"bob": {}}).encode())
        self.assertIsNotNone(self.file.entryFor("alice"))  # not before the next check
        self.clock.advance(30)
        self.assertIsNone(self.file.entryFor("alice"))
        self.assertIsNotNone(self.file.entryFor("bob"))

    def test_badVersionKeepsTheLastGoodDataAndLogsOneLine(self):
        self.file.startService()
        self.addCleanup(self.file.stopService)
        self.write(b'{"alice": {"links": [{"href": "https://x.example/"}]}}')
        for _ in range(3):
            self.clock.advance(30)
        self.assertEqual(self.file.entryFor("alice").links[0]["rel"], "self")
        [error] = self.errors()
        message = error["log_format"].format(**error)
        self.assertIn('needs a "rel"', message)
        self.assertIn("keeping the last good WebFinger data (1 users)", message)
        os.remove(self.path)
        self.clock.advance(30)
        self.clock.advance(30)
        self.assertEqual(len(self.errors()), 2)
        self.assertIsNotNone(self.file.entryFor("alice"))
        self.write(json.dumps({"carol": {}}).encode())
        self.clock.advance(30)
        self.assertIsNotNone(self.file.entryFor("carol"))

    def test_tooLarge(self):
        self.write(b" " * (1024 * 1024 + 1))
        with self.assertRaises(WebFingerFileError) as caught:
            self.file.loadNow()
        self.assertIn("larger than", str(caught.exception))
