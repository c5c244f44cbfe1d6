"""The event streams' hub and streams: numbering, backlog, filters, back-pressure, keep-alives."""

from __future__ import annotations

import json

from twisted.internet import task
from twisted.logger import Logger
from twisted.trial import unittest

from finger.backends.memory import MemoryFingerService
from finger.feed import StatusChange
from finger.frontends.web.events import (
    KEEP_ALIVE,
    BadRequest,
    EventHub,
    EventSettings,
    EventStream,
    encodeChange,
    followedUsers,
)
from tests.helpers.fakes import FakeStreamRequest


def events(text: str) -> list[dict]:
    """The status events in a stream's text, as their data."""
    found = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if lines.get("event") == "status":
            found.append({"id": int(lines["id"]), **json.loads(lines["data"])})
    return found


class HubTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.backend = MemoryFingerService(clock=lambda: 7.0)
        self.settings = EventSettings(
            keepAlive=20, backlog=3, queueEvents=2, queueBytes=10_000, stallKeepAlives=2, clock=self.clock
        )
        self.hub = EventHub(self.backend, self.settings)
        EventStream.log = Logger(observer=lambda event: None)

    def open(self, users=frozenset()):
        request = FakeStreamRequest()
        stream = EventStream(self.hub, request, users)
        self.hub.add(stream)
        return stream, request

    def set(self, name, status):
        self.successResultOf(self.backend.setUser(name, status))

    def test_eventsAreNumberedFromTheStartTime(self):
        stream, request = self.open()
        self.set("alice", "one\nline\x07two")
        self.set("bob", "b")
        got = events(request.text)
        self.assertEqual([e["id"] for e in got], [1_000_000, 1_000_001])
        self.assertEqual(got[0], {"id": 1_000_000, "name": "alice", "status": "one\nlinetwo", "setAt": 7.0})
        # One data line per event, whatever the status holds.
        self.assertEqual(request.text.count("data: "), 2)

    def test_removedUserIsNull(self):
        text = encodeChange(5, StatusChange("alice", None, 1.0)).decode()
        self.assertIn('"status":null', text)

    def test_followsOnlyTheUsersAsked(self):
        stream, request = self.open(frozenset({"bob"}))
        self.set("alice", "a")
        self.set("bob", "b")
        self.assertEqual([e["name"] for e in events(request.text)], ["bob"])

    def test_backlogIsBoundedAndResumes(self):
        for n in range(5):
            self.set("alice", str(n))
        first = self.hub.firstId
        self.assertEqual([e.id for e in self.hub.backlog], [first + 2, first + 3, first + 4])
        self.assertEqual([e.id for e in self.hub.since(first + 2)], [first + 3, first + 4])
        self.assertEqual(self.hub.since(first + 4), [])
        self.assertIsNone(self.hub.since(first), "too old: gone from the backlog")
        self.assertIsNone(self.hub.since(first + 5), "from the future")
        self.assertIsNone(self.hub.since(12), "from an earlier run")

    def test_backlogIsBoundedInBytes(self):
        hub = EventHub(self.backend, EventSettings(backlogBytes=300, clock=self.clock))
        for _ in range(5):
            self.set("alice", "x" * 100)
        self.assertLessEqual(sum(len(e.text) for e in hub.backlog), 300)
        self.assertGreaterEqual(len(hub.backlog), 1)

    def test_pausedStreamQueuesThenCatchesUp(self):
        stream, request = self.open()
        stream.pauseProducing()
        self.set("alice", "1")
        self.set("alice", "2")
        self.assertEqual(events(request.text), [])
        stream.resumeProducing()
        self.assertEqual([e["status"] for e in events(request.text)], ["1", "2"])
        self.assertFalse(request.aborted)

    def test_streamThatFallsTooFarBehindIsCutOffWhileOthersGoOn(self):
        slow, slowRequest = self.open()
        fast, fastRequest = self.open()
        slow.pauseProducing()
        for n in range(3):
            self.set("alice", str(n))
        self.assertTrue(slowRequest.aborted)
        self.assertTrue(slowRequest.outcome.startswith("cut off: fell behind by 3 events"))
        self.assertNotIn(slow, self.hub.streams)
        self.set("alice", "later")
        self.assertEqual([e["status"] for e in events(fastRequest.text)], ["0", "1", "2", "later"])
        self.assertFalse(fastRequest.aborted)

    def test_queueIsBoundedInBytes(self):
        stream, request = self.open()
        stream.pauseProducing()
        self.set("alice", "x" * 20_000)
        self.assertTrue(request.aborted)

    def test_keepAlivesWhileReadingAndStalledStreamsAreCut(self):
        stream, request = self.open()
        idle, idleRequest = self.open()
        self.clock.advance(20)
        self.assertEqual(request.written, [KEEP_ALIVE])
        idle.pauseProducing()
        self.clock.advance(20)
        self.assertFalse(idleRequest.aborted)
        self.clock.advance(20)
        self.assertTrue(idleRequest.aborted)
        self.assertEqual(idleRequest.outcome, "cut off: not reading for 40 s")
        self.assertEqual(request.written, [KEEP_ALIVE] * 3)

    def test_keepAliveTimerRunsOnlyWhileStreamsAreOpen(self):
        stream, request = self.open()
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        stream.finished()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.set("alice", "after")
        self.assertEqual(request.written, [])

    def test_followedUsersValidated(self):
        self.assertEqual(followedUsers([b"alice", b"bob"]), frozenset({"alice", "bob"}))
        self.assertRaises(BadRequest, followedUsers, [b"a b"])
        self.assertRaises(BadRequest, followedUsers, [b"u%d" % n for n in range(101)])
