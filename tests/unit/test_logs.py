"""
twistd's own logging options with the finger service: --logfile and --syslog
get the query events, --no-log-queries keeps them out,
--logger=finger.logs.jsonStdout writes every event as a line of JSON with
all its fields.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from finger.tap import Options
from tests.helpers.support import LOOPBACK0, TWISTD, finger, setStatus
from tests.helpers.systemdunits import withoutDefaultListeners

SERVICE = withoutDefaultListeners(
    ["--memory", "--user", "alice=Happy and well", "--finger", LOOPBACK0, "--setter", LOOPBACK0],
    str(Options()),
)
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
    # A write names its target and who asked (nobody: the open TCP setter).
    assert len(re.findall(r"setter write 'bob' of 'bob' by nobody from 127\.0\.0\.1:\d+: set \(", text)) == 1
    assert " query " not in service.log  # nothing went to standard output


def test_noLogQueriesKeepsQueriesOutOfTheLogfile(startFinger, tmp_path):
    service, logfile, ports = startWithLogfile(startFinger, tmp_path, "--no-log-queries")
    assert finger(ports["finger"], "alice") == "Happy and well\r\n"
    assert setStatus(ports["setter"], "bob", "Out to lunch") == "OK\r\n"
    service.stop()
    text = logfile.read_text()
    assert "Server Shut Down." in text  # the log was written to the end...
    assert "alice" not in text  # ...without the queries
    assert " query " not in text
    # Writes are the audit trail: logged anyway.
    assert len(re.findall(r"setter write 'bob' of 'bob' by nobody from 127\.0\.0\.1:\d+: set \(", text)) == 1


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


SYSLOG_SINK = """
import os, socket, sys
parent = os.getppid()
sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sink.bind("/dev/log")
sink.settimeout(0.2)
with open(sys.argv[1], "a") as out:
    while True:
        try:
            message = sink.recv(65536)
        except socket.timeout:
            if os.getppid() != parent:
                break  # The service (our parent) is gone and all it sent is read.
            continue
        out.write(message.decode("utf-8", "replace") + "\\n")
        out.flush()
"""

# In a private mount namespace: a /dev of our own whose /dev/log is a
# datagram socket that writes what it receives to $OUT; then the service.
PRIVATE_DEV_LOG = """
set -e
mount -t tmpfs tmpfs "$FAKEDEV"
for device in null zero random urandom; do
    touch "$FAKEDEV/$device"
    mount --bind "/dev/$device" "$FAKEDEV/$device"
done
mount --bind "$FAKEDEV" /dev
"$PYTHON" -c "$SINK" "$OUT" &
while [ ! -S /dev/log ]; do sleep 0.05; done
exec "$@"
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a private /dev/log needs root (unshare, mount)")
def test_syslogGetsQueryEvents(startFinger, tmp_path, monkeypatch):
    received = tmp_path / "syslog"
    fakedev = tmp_path / "dev"
    fakedev.mkdir()
    for name, value in [("FAKEDEV", fakedev), ("OUT", received), ("SINK", SYSLOG_SINK), ("PYTHON", sys.executable)]:
        monkeypatch.setenv(name, str(value))
    command = [
        "unshare", "--mount", "--propagation", "private", "sh", "-c", PRIVATE_DEV_LOG, "sh",
        *TWISTD, "--nodaemon", "--pidfile=", "--syslog", "--prefix=fingertest", "finger",
    ]
    service = startFinger(*SERVICE, expect=(), command=command)
    ports = waitForPorts(received, service)
    assert finger(ports["finger"], "alice") == "Happy and well\r\n"
    service.stop()
    deadline = time.monotonic() + 30
    while "fingertest: [-] Server Shut Down." not in received.read_text():
        assert time.monotonic() < deadline, f"the log never ended:\n{received.read_text()}"
        time.sleep(0.1)
    messages = received.read_text()
    assert len(re.findall(r"fingertest: .*finger query 'alice' from 127\.0\.0\.1:\d+: found", messages)) == 1
