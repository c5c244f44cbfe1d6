"""
Abuse of the web frontend, end to end against a real C{twistd -n finger}:
oversized bodies (plain HTTP and XML-RPC), entity expansion and deep
nesting in XML-RPC documents, and clients that connect and say nothing.
"""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client

import pytest

from tests.helpers.abuse import Trickler, connect, readAll, waitAllClosed
from tests.helpers.support import LOOPBACK0

WEB = ("--memory", "--user", "alice=Happy and well", "--finger", "none", "--setter", "none")
MB = 1024 * 1024
# Generous: the shared test machines are slow, and nothing here is timed.
TIMEOUT = 30


@pytest.fixture
def web(startFinger):
    service = startFinger(*WEB, "--web", LOOPBACK0, expect=("web",))
    service.base = f"http://127.0.0.1:{service.port('web')}"
    return service


def memory(service, field: str) -> int:
    """A C{/proc/PID/status} memory figure of the service, in bytes."""
    with open(f"/proc/{service.process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{service.process.pid}/status")


def streamBody(port: int, head: bytes, chunks, timeout: float = TIMEOUT) -> tuple[int, bytes]:
    """
    Send C{head}, then C{chunks} until they run out or the server stops
    taking them; return how many body bytes were sent and the reply.
    """
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return sent, readAll(sock)


def assertHealthy(service) -> None:
    proxy = xmlrpc.client.ServerProxy(f"{service.base}/RPC2")
    assert proxy.getUser("alice") == "Happy and well"
    assert service.process.poll() is None
    assert "Traceback" not in service.log
    assert "Unhandled Error" not in service.log


@pytest.mark.parametrize("version", [b"\x00", b"HTTP/9.9", b"\x1b[2J"])
def test_garbageHTTPVersionIsABadRequest(web, version):
    """Not echoed back in the status line, as Twisted 22.4 alone would."""
    with socket.create_connection(("127.0.0.1", web.port("web")), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET / " + version + b"\r\nHost: x\r\n\r\n")
        reply = readAll(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply[:200]
    assert version not in reply
    assertHealthy(web)


def test_declaredHugeBodyIsRefusedBeforeItIsSent(web):
    """A Content-Length of 100 MB gets a 413 as soon as the headers are in."""
    head = (
        b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        b"Content-Length: %d\r\n\r\n" % (100 * MB,)
    )
    with socket.create_connection(("127.0.0.1", web.port("web")), timeout=TIMEOUT) as sock:
        sock.sendall(head)
        reply = readAll(sock)  # not one byte of the body was sent
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b"Request body too large (limit 1048576 bytes)" in reply
    web.waitForLog(r"web query 'POST /RPC2' from 127\.0\.0\.1:\d+: 413 body too large")
    assertHealthy(web)


def test_streamed100MegabyteBodyIsRefusedWithBoundedMemory(web):
    """
    100 MB of XML-RPC call in chunked encoding (no length announced): the
    server answers 413 and closes, and its memory never holds the body.
    """
    baseline = memory(web, "VmRSS")
    piece = b"x" * (256 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    head = (
        b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    opening = b"<?xml version='1.0'?><methodCall><methodName>getUser</methodName><params><param><value><string>"
    openingChunk = b"%x\r\n%s\r\n" % (len(opening), opening)
    chunks = [openingChunk, *[chunk] * (100 * MB // len(piece))]
    sent, reply = streamBody(web.port("web"), head, chunks)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    # The peak resident memory of the whole process, against where it started.
    assert memory(web, "VmHWM") - baseline < 50 * MB, (sent, baseline, memory(web, "VmHWM"))
    assertHealthy(web)


def test_hugeXMLRPCCallIsRefused(web):
    """A well-formed 20 MB XML-RPC call through the classic client: 413."""
    proxy = xmlrpc.client.ServerProxy(f"{web.base}/RPC2")
    with pytest.raises(xmlrpc.client.ProtocolError) as refused:
        proxy.getUser("x" * (20 * MB))
    assert refused.value.errcode == 413
    assertHealthy(web)


LAUGHS = (
    "<?xml version='1.0'?><!DOCTYPE methodCall ["
    '<!ENTITY lol0 "lololololololololololol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]><methodCall><methodName>getUser</methodName><params><param><value>"
    "<string>&lol9;</string></value></param></params></methodCall>"
)


def test_billionLaughsIsAFaultAndMemoryStaysBounded(web):
    """
    An entity-expansion document of under 1 kB (expanding to ~20 GB):
    a fault, not an expansion; the service answers normally afterwards.
    """
    assert len(LAUGHS) < 1024
    baseline = memory(web, "VmRSS")
    status, body = post(web, LAUGHS.encode("utf-8"))
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(body)
    assert "Can't deserialize input" in fault.value.faultString
    assert memory(web, "VmHWM") - baseline < 50 * MB
    assertHealthy(web)


def test_deeplyNestedArrayDoesNotCrashTheServer(web):
    """
    24,000 nested arrays (as deep as fits under the body limit, far past
    Python's recursion limit): a clear fault, no recursion crash.
    """
    depth = 24_000
    opening, closing = b"<value><array><data>", b"</data></array></value>"
    document = (
        b"<?xml version='1.0'?><methodCall><methodName>getUser</methodName><params><param>"
        + opening * depth
        + closing * depth
        + b"</param></params></methodCall>"
    )
    assert len(document) < MB
    status, body = post(web, document)
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(body)
    assert fault.value.faultString == "getUser: the name must be a string"
    assertHealthy(web)


def post(service, body: bytes) -> tuple[int, bytes]:
    """POST C{body} to C{/RPC2}; return the status code and the reply body."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port("web"), timeout=TIMEOUT)
    try:
        connection.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_silentClientsAreClosedByTheIdleTimeoutWhileOthersAreServed(startFinger):
    """
    200 connections that send nothing: a normal request is still answered,
    and every silent one is closed by the idle timeout (--timeout 2).
    The clients come from 10 loopback addresses, 20 from each, so that a
    per-address connection limit does not close them first.
    """
    service = startFinger(*WEB, "--timeout", "2", "--web", LOOPBACK0, expect=("web",))
    port = service.port("web")
    silent = []
    try:
        for n in range(200):
            sock = socket.socket()
            sock.settimeout(TIMEOUT)
            sock.bind((f"127.0.0.{2 + n % 10}", 0))
            sock.connect(("127.0.0.1", port))
            silent.append(sock)
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        with sock:
            sock.sendall(b"GET /api/users/alice HTTP/1.0\r\nHost: x\r\n\r\n")
            reply = readAll(sock)
        assert reply.startswith(b"HTTP/1.0 200 "), reply[:200]
        assert b'"status": "Happy and well"' in reply
        for sock in silent:
            # Closed by the server: an orderly end (or a reset), not our timeout.
            assert readAll(sock) == b""
    finally:
        for sock in silent:
            sock.close()
    assert service.process.poll() is None
    assert "Traceback" not in service.log


def test_clientsTricklingTheirHeadersAreClosedAtTheDeadline(startFinger):
    """
    Slowloris: 5 clients sending their headers one byte every half second
    (which restarts Twisted's idle timer each time) are closed once --timeout
    (2 s) has passed without complete headers, while a normal request is
    answered; long before they could have finished sending.
    """
    service = startFinger(*WEB, "--timeout", "2", "--web", LOOPBACK0, expect=("web",))
    port = service.port("web")
    headers = b"GET /alice HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    tricklers = [Trickler(connect(port, f"127.0.0.{2 + n}"), headers, 0.5) for n in range(5)]
    for t in tricklers:
        t.start()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        with sock:
            sock.sendall(b"GET /api/users/alice HTTP/1.0\r\nHost: x\r\n\r\n")
            reply = readAll(sock)
        assert reply.startswith(b"HTTP/1.0 200 "), reply[:200]
        assert waitAllClosed([t.sock for t in tricklers], timeout=60) == len(tricklers)
        assert all(t.sent < len(headers) for t in tricklers)
    finally:
        for t in tricklers:
            t.stopped.set()
            t.sock.close()
    assert service.process.poll() is None
    assert "Traceback" not in service.log

