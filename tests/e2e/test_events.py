"""
/api/events end to end: a real service, statuses set through the real
setter, read with C{curl -N} and with a Python HTTP client.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.helpers.sse import EventClient, nonReadingStream
from tests.helpers.support import LOOPBACK0, setStatus


@pytest.fixture
def live(startFinger):
    return startFinger(
        "--memory", "--user", "alice=Happy",
        "--finger", "none",
        "--setter", LOOPBACK0,
        "--web", LOOPBACK0,
        "--events-keepalive", "1",
        "--timeout", "2",
        expect=("web", "setter"),
    )


def test_curlPrintsAChange(live):
    curl = subprocess.Popen(
        ["curl", "-sN", "-m", "8", f"http://127.0.0.1:{live.port('web')}/api/events"],
        stdout=subprocess.PIPE,
    )
    try:
        first = curl.stdout.readline()  # the stream is open once its first line arrives
        assert first == b"retry: 3000\n"
        assert setStatus(live.port("setter"), "alice", "Gone fishing") == "OK\r\n"
        lines = []
        while not any(line.startswith(b"data: ") for line in lines):
            lines.append(curl.stdout.readline())
    finally:
        curl.kill()
        curl.wait()
    assert b"event: status\n" in lines
    data = [line for line in lines if line.startswith(b"data: ")][0]
    assert data.startswith(b'data: {"name":"alice","status":"Gone fishing","setAt":')


def test_headersAndCORS(live):
    done = subprocess.run(
        ["curl", "-sN", "-m", "2", "-D", "-", "-o", "/dev/null",
         f"http://127.0.0.1:{live.port('web')}/api/events"],
        capture_output=True,
    )
    headers = done.stdout.decode().lower()
    assert "content-type: text/event-stream" in headers
    assert "access-control-allow-origin: *" in headers
    assert "cache-control: no-cache" in headers


def test_followOneUserAndResumeWithLastEventId(live):
    port, setter = live.port("web"), live.port("setter")
    everyone = EventClient(port)
    bobOnly = EventClient(port, "/api/events?user=bob")
    try:
        time.sleep(0.5)  # both streams are registered
        for name, status in [("alice", "a1"), ("bob", "b1"), ("alice", "a2"), ("bob", "b2")]:
            assert setStatus(setter, name, status) == "OK\r\n"
        got = [everyone.next() for _ in range(4)]
        assert [e.json["status"] for e in got] == ["a1", "b1", "a2", "b2"]
        ids = [int(e.id) for e in got]
        assert ids == sorted(ids) and len(set(ids)) == 4
        assert [bobOnly.next().json["status"] for _ in range(2)] == ["b1", "b2"]
    finally:
        everyone.close()
        bobOnly.close()
    # Reconnecting after the second event replays what came after it.
    resumed = EventClient(port, headers={"Last-Event-ID": got[1].id})
    try:
        assert [resumed.next().json["status"] for _ in range(2)] == ["a2", "b2"]
        assert setStatus(setter, "alice", "a3") == "OK\r\n"
        assert resumed.next().json["status"] == "a3"
    finally:
        resumed.close()
    # An id the backlog does not know gets a reset, then live events.
    stale = EventClient(port, headers={"Last-Event-ID": "1"})
    try:
        reset = stale.next()
        assert reset.event == "reset"
        assert "too old" in reset.json["reason"]
    finally:
        stale.close()


def test_keepAlivesKeepAnIdleStreamOpenPastTheTimeout(live):
    stream = EventClient(live.port("web"))
    try:
        time.sleep(4.5)  # over twice --timeout 2, with keep-alives every second
        assert stream.comments.count(": keep-alive") >= 3
        assert setStatus(live.port("setter"), "alice", "still here") == "OK\r\n"
        assert stream.next().json["status"] == "still here"
    finally:
        stream.close()


def test_badParametersAreClearErrors(live):
    done = subprocess.run(
        ["curl", "-s", "-w", "%{http_code}", f"http://127.0.0.1:{live.port('web')}/api/events?user=a%20b"],
        capture_output=True, timeout=10,
    )
    assert done.stdout.endswith(b"400")
    assert b"the name contains ' '" in done.stdout


def test_aClientThatNeverReadsIsCutOffWhileOthersKeepReceiving(startFinger, tmp_path):
    # A users file whose every line changes at once: one reload publishes
    # 6,000 changes of 1 KB, more than the socket buffers (about 4 MB on
    # loopback), the transport's buffer and the stream's queue (1 MB) hold.
    users = tmp_path / "users"
    count = 6000
    users.write_text("".join(f"u{n:04}: short\n" for n in range(count)))
    service = startFinger(
        "--file", str(users), "--refresh", "0.2",
        "--finger", "none", "--web", LOOPBACK0,
        expect=("web",),
    )
    port = service.port("web")
    stuck = nonReadingStream(port)
    reader = EventClient(port)
    try:
        time.sleep(0.5)
        replacement = tmp_path / "users.new"
        replacement.write_text("".join(f"u{n:04}: {n} {'x' * 1000}\n" for n in range(count)))
        replacement.rename(users)
        got = [reader.next(timeout=30).json for _ in range(count)]
        assert [event["name"] for event in got] == [f"u{n:04}" for n in range(count)]
        assert got[-1]["status"].startswith(f"{count - 1} xxx")
        service.waitForLog(r"event stream to 127\.0\.0\.1:\d+ cut off: fell behind by \d+ events")
        service.waitForLog(r"events query 'GET /api/events' from .*: .*cut off: fell behind")
        # The stuck client's connection was closed by the server.
        stuck.settimeout(10)
        received = 0
        while chunk := stuck.recv(1 << 20):
            received += len(chunk)
        assert received < count * 1000
    except ConnectionResetError:
        pass  # aborted with unread data: a reset is how the cut shows
    finally:
        stuck.close()
        reader.close()


def rss(pid: int) -> float:
    """The resident memory of C{pid}, in MiB."""
    for line in open(f"/proc/{pid}/status").read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise KeyError("VmRSS")


def test_aThousandStreamsHeldWithBoundedMemoryWithinTheConnectionLimit(startFinger):
    import selectors
    import socket

    count = 1000
    service = startFinger(
        "--memory", "--finger", "none", "--setter", LOOPBACK0, "--web", LOOPBACK0,
        "--max-connections", str(count), "--max-connections-per-peer", str(count),
        expect=("web", "setter"),
    )
    port = service.port("web")
    before = rss(service.process.pid)
    streams = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: test\r\n\r\n")
            streams.append(s)
        for s in streams:
            data = b""
            while b": connected" not in data:
                data += s.recv(65536)
        grown = rss(service.process.pid) - before
        assert grown < 25, f"{grown:.1f} MiB for {count} streams"  # about 7 measured
        # The connection limit applies to streams: one more is refused.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(b"GET /api/events HTTP/1.1\r\nHost: test\r\n\r\n")
            assert extra.recv(65536) == b""
        # One set reaches every stream.
        assert setStatus(service.port("setter"), "alice", "to everyone") == "OK\r\n"
        selector = selectors.DefaultSelector()
        for s in streams:
            selector.register(s, selectors.EVENT_READ, bytearray())
        waiting = count
        while waiting:
            ready = selector.select(timeout=20)
            assert ready, f"{waiting} streams got nothing"
            for key, _ in ready:
                key.data.extend(key.fileobj.recv(65536))
                if b'"status":"to everyone"' in key.data:
                    selector.unregister(key.fileobj)
                    waiting -= 1
        selector.close()
    finally:
        for s in streams:
            s.close()


def test_overHTTP2PastTheTimeout(startFinger, tmp_path):
    from tests.helpers.tlsfiles import makeCertificates

    files = makeCertificates(str(tmp_path / "tls"))
    service = startFinger(
        "--memory", "--finger", "none", "--setter", LOOPBACK0, "--web", "none",
        "--https", f"ssl:0:interface=127.0.0.1:privateKey={files.key}:certKey={files.cert}",
        "--events-keepalive", "1", "--timeout", "2",
        expect=("https", "setter"),
    )
    curl = subprocess.Popen(
        ["curl", "-sN", "--http2", "-m", "8", "--cacert", files.ca, "-w", "%{http_version}",
         f"https://localhost:{service.port('https')}/api/events"],
        stdout=subprocess.PIPE,
    )
    try:
        assert curl.stdout.readline() == b"retry: 3000\n"
        time.sleep(4)  # twice --timeout, with keep-alives every second
        assert setStatus(service.port("setter"), "alice", "over h2") == "OK\r\n"
        out, _ = curl.communicate(timeout=15)
    finally:
        curl.kill()
    assert b'"status":"over h2"' in out
    assert out.count(b": keep-alive") >= 3
    assert out.endswith(b"2")  # curl's %{http_version}: HTTP/2
