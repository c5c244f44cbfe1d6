"""
twistd's own logging options with the finger service: --logfile gets the
query events, --no-log-queries keeps them out, --logger=finger.logs.jsonStdout
writes every event as a line of JSON with all its fields.
"""

import json
import re
import time
from pathlib import Path

from support import LOOPBACK0, TWISTD, finger, setStatus

SERVICE = ["--memory", "--user", "alice=Happy and well", "--finger", LOOPBACK0, "--setter", LOOPBACK0]
FILE_LISTENING = re.compile(r"\] (\S+) listening on 127\.0\.0\.1:(\d+) ")


def waitForPorts(path: Path, service, frontends=("finger", "setter"), timeout=30.0) -> dict[str, int]:
    """The ports the service logged to C{path} (twistd writes nothing to stdout then)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        ports = {m.group(1): int(m.group(2)) for m in FILE_LISTENING.finditer(text)}
        if all(f in ports for f in frontends):
            return ports
        exited = service.process.poll()
        assert exited is None and time.monotonic() < deadline, (
            f"no listeners in {path} (exit={exited}):\n{text}\n{service.log}"
        )
        time.sleep(0.1)


def startWithLogfile(startFinger, tmp_path, *extra):
    logfile = tmp_path / "finger.log"
    command = [*TWISTD, "--nodaemon", "--pidfile=", f"--logfile={logfile}", "finger"]
    service = startFinger(*SERVICE, *extra, expect=(), command=command)
    return service, logfile, waitForPorts(logfile, service)


def test_logfileGetsOneEventPerQuery(startFinger, tmp_path):
    service, logfile, ports = startWithLogfile(startFinger, tmp_path)
    assert finger(ports["finger"], "alice") == "Happy and well\r\n"
    assert setStatus(ports["setter"], "bob", "Out to lunch") == "OK\r\n"
    service.stop()
    text = logfile.read_text()
    assert "Server Shut Down." in text
    assert len(re.findall(r"finger query 'alice' from 127\.0\.0\.1:\d+: found \(", text)) == 1
    assert len(re.findall(r"setter query 'bob' from 127\.0\.0\.1:\d+: set \(", text)) == 1
    assert " query " not in service.log  # nothing went to standard output


def test_noLogQueriesKeepsQueriesOutOfTheLogfile(startFinger, tmp_path):
    service, logfile, ports = startWithLogfile(startFinger, tmp_path, "--no-log-queries")
    assert finger(ports["finger"], "alice") == "Happy and well\r\n"
    assert setStatus(ports["setter"], "bob", "Out to lunch") == "OK\r\n"
    service.stop()
    text = logfile.read_text()
    assert "Server Shut Down." in text  # the log was written to the end...
    assert "alice" not in text and "bob" not in text  # ...without the queries
    assert " query " not in text


def jsonEvents(service) -> list[dict]:
    """The JSON events on the service's output (one per line; stderr's lines are not JSON)."""
    return [json.loads(line) for line in service.log.splitlines() if line.startswith("{")]


def test_jsonLoggerWritesStructuredQueryEvents(startFinger):
    command = [*TWISTD, "--nodaemon", "--pidfile=", "--logger=finger.logs.jsonStdout", "finger"]
    service = startFinger(*SERVICE, expect=(), command=command)
    service.waitFor(lambda: service.log.count('"log_namespace": "finger.listen.') == 2, what="listeners")
    ports = {
        event["frontend"]: event["port"]
        for event in jsonEvents(service)
        if event["log_namespace"].startswith("finger.listen.")
    }

    assert finger(ports["finger"], "alice") == "Happy and well\r\n"
    assert finger(ports["finger"], "nobody") == "No such user: nobody\r\n"
    assert setStatus(ports["setter"], "bob", "Out to lunch") == "OK\r\n"
    assert finger(ports["finger"], "") == "alice: Happy and well\r\nbob: Out to lunch\r\n"
    service.stop()

    queries = [e for e in jsonEvents(service) if e["log_namespace"] == "finger.query"]
    assert [(e["frontend"], e["query"], e["outcome"]) for e in queries] == [
        ("finger", "alice", "found"),
        ("finger", "nobody", "no such user"),
        ("setter", "bob", "set"),
        ("finger", "", "listed 2 users"),
    ]
    for event in queries:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", event["peer"])
        assert isinstance(event["duration"], float) and event["duration"] >= 0
        assert event["log_level"]["name"] == "info"
