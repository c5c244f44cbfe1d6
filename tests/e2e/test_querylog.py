"""
End to end: the buffered query log of a real C{twistd -n finger} (standard
output, as under systemd) loses nothing on a clean stop, lines come without
a stop, a query cannot forge a line, and C{--metrics} serves counters that a
real Prometheus text parser reads and that move.
"""

import json
import re
import socket
import subprocess
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.support import LOOPBACK0, TWISTD, finger, query, serviceEnvironment, setStatus

QUERY_LINE = re.compile(r"^\S+ \[finger\.query#info\] finger query ")


def queryLines(log: str) -> list[str]:
    return [line for line in log.splitlines() if QUERY_LINE.match(line)]


def test_cleanStopLosesNoLine(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: Happy\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0)
    count = 300
    for i in range(count):
        assert finger(service.port(), "alice" if i % 2 else f"nobody{i}").endswith("\r\n")
    service.stop()  # SIGTERM at once: most lines are still buffered
    lines = queryLines(service.log)
    assert len(lines) == count
    assert sum(": found (" in line for line in lines) == count // 2


def test_linesComeWithoutAStop(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: Happy\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0)
    finger(service.port(), "alice")
    service.waitForLog(r"\[finger\.query#info\] finger query 'alice' from 127\.0\.0\.1:\d+: found")
    assert service.process.poll() is None


def test_queryCannotForgeALogLine(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: Happy\n")
    service = startFinger("--file", str(users), "--finger", LOOPBACK0)
    forged = "2026-01-01T00:00:00+0000 [finger.query#info] finger query 'root' from 10.9.9.9:1: found"
    for separator in (b"\r", b"\x0b", b"\x0c", b"\x1c", "\u2028".encode(), "\x85".encode()):
        query(service.port(), b"alice" + separator + forged.encode() + b"\r\n")
    service.stop()
    lines = queryLines(service.log)
    assert len(lines) == 6
    assert "10.9.9.9" not in "\n".join(
        line for line in service.log.splitlines() if not QUERY_LINE.match(line)
    )
    assert not any(line.startswith("2026-01-01") for line in service.log.splitlines())


def test_jsonLoggerStillGetsEveryField(tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: Happy\n")
    process = subprocess.Popen(
        [*TWISTD, "-n", "--pidfile=", "--logger=finger.logs.jsonStdout", "finger",
         "--file", str(users), "--finger", LOOPBACK0, "--web", "none", "--pb", "none"],
        cwd=tmp_path, env=serviceEnvironment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        port = None
        for raw in process.stdout:
            event = json.loads(raw)
            if event.get("log_format", "").startswith("{frontend} listening on"):
                port = event["port"]
                break
        assert port, "no listening event"
        finger(port, "alice")
        for raw in process.stdout:
            event = json.loads(raw)
            if event.get("log_namespace") == "finger.query":
                assert (event["query"], event["outcome"], event["peer"].split(":")[0]) == (
                    "alice", "found", "127.0.0.1")
                break
    finally:
        process.terminate()
        process.wait(15)


def scrape(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metricsCountersMove(startFinger, tmp_path):
    store = tmp_path / "statuses.db"
    service = startFinger(
        "--store", str(store), "--finger", LOOPBACK0, "--setter", LOOPBACK0,
        "--metrics", LOOPBACK0, "--max-connections-per-peer", "1",
        expect=("finger", "setter", "metrics"),
    )
    metricsPort = service.port("metrics")
    before = scrape(metricsPort)
    found = (("frontend", "finger"), ("outcome", "found"))
    assert before.get(("finger_queries_total", found), 0) == 0
    assert setStatus(service.port("setter"), "alice", "Gone fishing") == "OK\r\n"
    assert finger(service.port(), "alice") == "Gone fishing\r\n"
    assert finger(service.port(), "alice") == "Gone fishing\r\n"
    listener = (("frontend", "finger"), ("listener", LOOPBACK0))
    with socket.create_connection(("127.0.0.1", service.port())) as held:
        service.waitFor(lambda: scrape(metricsPort)[("finger_open_connections", listener)] == 1,
                        what="one open connection")
        refused = query(service.port(), b"alice\r\n")  # over the per-client limit
        assert refused.startswith(b"Too many connections")
        held.sendall(b"alice\r\n")
        assert held.recv(100) == b"Gone fishing\r\n"
    after = scrape(metricsPort)
    assert after[("finger_queries_total", found)] == 3
    setter = [v for (name, labels), v in after.items()
              if name == "finger_queries_total" and ("frontend", "setter") in labels]
    assert setter == [1]
    assert after[("finger_query_duration_seconds_count", (("frontend", "finger"),))] >= 3
    assert after[("finger_refused_connections_total", listener)] == 1
    assert after[("finger_store_writes_total", ())] == 1
    assert after[("finger_store_write_failures_total", ())] == 0


def test_metricsCountUsersFileReloads(startFinger, tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: Happy\n")
    service = startFinger("--file", str(users), "--refresh", "0.2", "--finger", LOOPBACK0,
                          "--metrics", LOOPBACK0, expect=("finger", "metrics"))
    port = service.port("metrics")
    assert scrape(port)[("finger_users_file_reloads_total", ())] == 1  # the first load
    (tmp_path / "users.new").write_text("alice: Happy\nbob: Here\n")
    (tmp_path / "users.new").replace(users)
    service.waitFor(lambda: scrape(port)[("finger_users_file_reloads_total", ())] == 2,
                    what="a reload counted")
    assert scrape(port)[("finger_users_file_reload_seconds_count", ())] == 2
