"""
Benchmark sections for the PostgreSQL store and --workers (see bench/run.py):

  - finger q/s with --workers 1 and --workers 2 (users file), interleaved;
  - 1,000,000 statuses in PostgreSQL: finger lookup latency (names spread
    over the table, so most miss the node's cache) and the first web page;
  - the time from a write through one node's setter to the event on the
    other node's /api/events stream.

PostgreSQL is Debian's (/usr/lib/postgresql/15/bin), started in a temporary
directory on a free port by tests/helpers/postgres.py (as nobody when run as
root), and removed afterwards.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from typing import Any

from run import (
    TWISTD,
    Bench,
    Row,
    Server,
    fingerOnce,
    firstPageTimes,
    load,
    median,
    progress,
)

LOOPBACK0 = "tcp:0:interface=127.0.0.1"


def workersService(bench: Bench, count: int) -> Server:
    log = bench.work / f"workers{count}.log"
    server = Server(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "finger", "--file", str(bench.users),
         "--finger", LOOPBACK0, "--web", "none", "--pb", "none", "--workers", str(count)],
        log, r"finger listening on 127\.0\.0\.1:(\d+) \(tcp",
    )
    deadline = time.monotonic() + 60
    while server.log().count("(adopt:fd=") < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers did not start:\n{server.log()[-3000:]}")
        time.sleep(0.05)
    return server


def workersThroughput(bench: Bench) -> list[Row]:
    args = bench.args
    servers = {n: workersService(bench, n) for n in (1, 2)}
    rows = []
    try:
        for concurrency in (8, 32):
            runs: dict[int, list[dict]] = {n: [] for n in servers}
            for _ in range(args.repeat):
                for n, server in servers.items():
                    runs[n].append(load(server.port, concurrency, args.seconds))
            one, two = median(runs[1]), median(runs[2])
            progress(f"workers, concurrency {concurrency}: 1: {one['qps']:.0f}, 2: {two['qps']:.0f} q/s")
            rows.append(Row(
                f"finger q/s, concurrency {concurrency}: --workers 1 / --workers 2 (users file)",
                service=f"{one['qps']:.0f} / {two['qps']:.0f} ({two['qps'] / one['qps']:.2f}x)",
                target=f"> 1x with {__import__('os').cpu_count()} cores",
            ))
    finally:
        for server in servers.values():
            server.stop()
    return rows


class Database:
    """A PostgreSQL server and one database filled with C{count} statuses."""

    def __init__(self, bench: Bench, count: int) -> None:
        from tests.helpers.postgres import PostgresServer

        self.server = PostgresServer()
        self.db = self.server.newDatabase(bench.work)
        self.count = count

    def fill(self, node: Server) -> float:
        """Insert the statuses (after a node made the schema); seconds taken."""
        started = time.monotonic()
        # A bulk load without the NOTIFY trigger (as an operator would:
        # otherwise every node hears, and publishes, a million changes).
        self.server.admin(
            "SET session_replication_role = replica; INSERT INTO statuses (name, status, set_at) SELECT "
            "'user' || lpad(i::text, 7, '0'), 'Status number ' || i || ' of the benchmark', "
            f"extract(epoch from now()) FROM generate_series(0, {self.count - 1}) AS i",
            database=self.db.name,
        )
        self.server.admin("ANALYZE statuses", database=self.db.name)
        return time.monotonic() - started

    def close(self) -> None:
        self.server.destroy()


def postgresNode(bench: Bench, database: Database, name: str) -> Server:
    import os

    os.environ["PGPASSFILE"] = str(database.db.passfile)
    return Server(
        [*TWISTD, "-n", "--pidfile=", "--logfile=-", "finger", "--postgres", database.db.dsn,
         "--finger", LOOPBACK0, "--setter", LOOPBACK0, "--web", LOOPBACK0, "--pb", "none",
         "--no-log-queries"],
        bench.work / f"{name}.log", r"finger listening on 127\.0\.0\.1:(\d+)",
    )


def portOf(server: Server, frontend: str) -> int:
    import re

    return int(re.search(frontend + r" listening on 127\.0\.0\.1:(\d+)", server.log()).group(1))


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    return f"{times[len(times) // 2]:.2f} / {times[max(0, int(len(times) * 0.99) - 1)]:.2f}"


def postgresScale(bench: Bench, lookups: int = 500, pages: int = 100) -> list[Row]:
    count = bench.args.users
    database = Database(bench, count)
    try:
        node = postgresNode(bench, database, "pgscale")
        try:
            progress(f"inserting {count:,} statuses into PostgreSQL")
            filled = database.fill(node)
            rng = random.Random(15)
            times = []
            for _ in range(lookups):
                name = f"user{rng.randrange(count):07d}"
                started = time.perf_counter()
                answer = fingerOnce(node.port, name)
                times.append((time.perf_counter() - started) * 1000)
                assert b"Status number" in answer, answer
            pageTimes = firstPageTimes(portOf(node, "web"), pages + 1, timeout=120)
        finally:
            node.stop()
    finally:
        database.close()
    return [
        Row(f"PostgreSQL, {count:,} statuses: insert (one INSERT ... SELECT) s", service=f"{filled:.1f}"),
        Row(f"PostgreSQL, {count:,} statuses: finger lookup p50 / p99 ms ({lookups} sequential, "
            "random names, mostly cache misses)", service=percentiles(times), target="p50 < 5"),
        Row(f"PostgreSQL, {count:,} statuses: first web page (/), first request ms "
            "(loads every name once)", service=f"{pageTimes[0]:.0f}"),
        Row(f"PostgreSQL, {count:,} statuses: first web page (/) p50 / p99 ms ({pages} more)",
            service=percentiles(pageTimes[1:]), target="p50 < 10"),
    ]


def notifyLatency(bench: Bench, samples: int = 50) -> list[Row]:
    from tests.helpers.support import setStatus

    database = Database(bench, 0)
    try:
        a = postgresNode(bench, database, "nodeA")
        b = postgresNode(bench, database, "nodeB")
        try:
            arrived: dict[str, float] = {}
            ready = threading.Event()

            def listen() -> None:
                connection = http.client.HTTPConnection("127.0.0.1", portOf(b, "web"), timeout=60)
                connection.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
                response: Any = connection.getresponse()
                ready.set()
                while len(arrived) < samples:
                    line = response.fp.readline().decode()
                    if not line:
                        return
                    for n in range(samples):
                        marker = f"mark-{n:03d}-end"
                        if marker in line and marker not in arrived:
                            arrived[marker] = time.perf_counter()

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            ready.wait(10)
            time.sleep(0.5)
            sent: dict[str, float] = {}
            for n in range(samples):
                marker = f"mark-{n:03d}-end"
                sent[marker] = time.perf_counter()
                assert setStatus(portOf(a, "setter"), "bench", marker).strip() == "OK"
                time.sleep(0.02)
            listener.join(10)
        finally:
            a.stop()
            b.stop()
    finally:
        database.close()
    delays = [(arrived[m] - sent[m]) * 1000 for m in sent if m in arrived]
    return [Row(f"write through node A's setter to the event on node B's /api/events, p50 / p99 ms "
                f"({len(delays)} of {samples} seen)", service=percentiles(delays), target="< 1000")]


SECTIONS = [workersThroughput, postgresScale, notifyLatency]
