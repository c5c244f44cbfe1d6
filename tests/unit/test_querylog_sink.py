"""
The buffered access log (finger.querylog.BufferedLineSink): lines wait in a
buffer, are written within a second, when the buffer is full and when the
service stops, and a query cannot forge a log line.
"""

import io

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from finger.querylog import FLUSH_SECONDS, BufferedLineSink, QueryLog


class BufferedLineSinkTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.out = io.StringIO()
        self.clock = task.Clock()
        self.sink = BufferedLineSink(self.out, self.clock, maxBuffered=1000)
        self.log = QueryLog(True, self.sink)

    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()

    def test_linesAreWrittenWithinASecond(self) -> None:
        self.log.record("finger", "127.0.0.1:4000", "alice", "found", 0.0)
        self.log.record("finger", "127.0.0.1:4001", "bob", "no such user", 0.0)
        self.clock.advance(FLUSH_SECONDS - 0.01)
        self.assertEqual(self.out.getvalue(), "")  # batched, not written per query
        self.clock.advance(0.01)
        [alice, bob] = self.lines()
        self.assertRegex(
            alice,
            r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[finger\.query#info\] "
            r"finger query 'alice' from 127\.0\.0\.1:4000: found \(\d+\.\d ms\)$",
        )
        self.assertIn("query 'bob' from 127.0.0.1:4001: no such user", bob)
        self.assertEqual(self.clock.getDelayedCalls(), [])  # no timer while idle

    def test_fullBufferIsWrittenAtOnce(self) -> None:
        for i in range(20):
            self.log.record("finger", "127.0.0.1:4000", f"user{i}" * 10, "found", 0.0)
        self.assertGreater(len(self.out.getvalue()), 1000)
        self.assertLessEqual(len(self.sink.buffer), 20)

    def test_stopFlushesAndLaterLinesAreWrittenAtOnce(self) -> None:
        self.sink.startService()
        self.log.record("finger", "127.0.0.1:4000", "alice", "found", 0.0)
        self.sink.stopService()
        self.assertEqual(len(self.lines()), 1)
        self.log.record("finger", "127.0.0.1:4000", "late", "idle timeout", 0.0)
        self.assertEqual(len(self.lines()), 2)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_queryCannotForgeALine(self) -> None:
        forged = "2026-01-01T00:00:00+0000 [finger.query#info] finger query 'root' from 10.0.0.1:1: found"
        for query in (f"x\n{forged}", f"x\r{forged}", f"x\u2028{forged}", f"x\x85{forged}",
                      f"x\x1b[2K\r{forged}"):
            self.log.record("finger", "127.0.0.1:4000", query, "found", 0.0)
        self.log.record("web", "127.0.0.1:4000", "GET /", f"200\n{forged}", 0.0)
        self.sink.flush()
        text = self.out.getvalue()
        self.assertEqual(text.count("\n"), 6)
        for line in text.splitlines():
            self.assertTrue(line.isprintable(), repr(line))
            self.assertNotRegex(line, r"^2026-01-01")
        self.assertEqual(len(text.splitlines()), 6)  # str.splitlines splits on U+2028 too

    def test_timestampIsFormattedOncePerSecond(self) -> None:
        self.assertIs(self.sink.timestamp(1000.2), self.sink.timestamp(1000.9))
        self.assertNotEqual(self.sink.timestamp(1000.9), self.sink.timestamp(1001.0))

    def test_disabledLogWritesNothing(self) -> None:
        QueryLog(False, self.sink).record("finger", "127.0.0.1:1", "alice", "found", 0.0)
        self.sink.flush()
        self.assertEqual(self.out.getvalue(), "")

    def test_unwritableOutputIsReportedNotRaised(self) -> None:
        self.out.close()
        self.log.record("finger", "127.0.0.1:4000", "alice", "found", 0.0)
        self.sink.flush()
        self.assertEqual(self.sink.buffer, [])
