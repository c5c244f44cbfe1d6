"""
Garbage for the HTTP parser, the XML-RPC endpoint and the PB port of one
running C{twistd -n finger} (hypothesis, random bytes): every connection
ends, no unhandled error is logged, and the service answers afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xmlrpc.client

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.abuse import readAll
from tests.helpers.pb import PB_CLIENT
from tests.helpers.support import LOOPBACK0, FingerProcess, serviceEnvironment

TIMEOUT = 30
EXAMPLES = settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    process = FingerProcess(
        [
            "--memory", "--user", "alice=Happy and well",
            "--finger", "none", "--setter", "none",
            "--web", LOOPBACK0, "--pb", LOOPBACK0,
            # Short, so that a half-request waiting for more ends soon.
            "--timeout", "5",
        ],
        cwd=tmp_path_factory.mktemp("garbage"),
        expect=("web", "pb"),
    )
    yield process
    process.stop()


def exchange(port: int, data: bytes) -> bytes:
    """
    Send C{data}, end our side, and read until the server closes; a socket
    timeout (the connection never ends) fails the test.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # broken pipe, reset, not connected
            return b""  # the server already closed: the connection has ended
        return readAll(sock)


def logLines(service) -> int:
    """How many lines the service has logged so far."""
    with service._changed:
        return len(service.lines)


def assertNoUnhandledErrors(service, since: int = 0) -> None:
    """No unhandled error in the log (from line C{since} on), and still running."""
    with service._changed:
        log = "\n".join(service.lines[since:])
    assert service.process.poll() is None, log
    assert "Unhandled Error" not in log, log
    assert "Traceback" not in log, log


def assertWebAnswers(service) -> None:
    proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{service.port('web')}/RPC2")
    assert proxy.getUser("alice") == "Happy and well"


REQUEST_STARTS = st.sampled_from(
    [b"", b"GET / HTTP/1.1\r\n", b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n", b"GET /api/users/"]
)
LINES = st.lists(
    st.one_of(st.binary(max_size=200), st.sampled_from([b"\r\n", b"\r\n\r\n", b":", b" "])),
    max_size=20,
).map(b"".join)


def test_httpParserSurvivesGarbage(service):
    @EXAMPLES
    @given(start=REQUEST_STARTS, garbage=LINES)
    def garbageRequest(start, garbage):
        logged = logLines(service)
        reply = exchange(service.port("web"), start + garbage)
        assert reply == b"" or reply.startswith(b"HTTP/1."), reply[:200]
        assertNoUnhandledErrors(service, logged)

    garbageRequest()
    assertWebAnswers(service)


XML_PIECES = st.sampled_from(
    [
        b"<?xml version='1.0'?>", b"<methodCall>", b"</methodCall>", b"<methodName>",
        b"</methodName>", b"getUser", b"getUsers", b"<params>", b"<param>", b"<value>",
        b"<string>", b"<int>", b"<array><data>", b"<struct><member><name>", b"&lt;",
        b"&#0;", b"<!DOCTYPE x [<!ENTITY e 'e'>]>", b"&e;", b"\xff\xfe", b"]]>",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(XML_PIECES, st.binary(max_size=20)), max_size=40).map(b"".join),
)


def test_xmlrpcEndpointSurvivesGarbage(service):
    head = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nConnection: close\r\n"

    @EXAMPLES
    @given(body=BODIES)
    def garbageCall(body):
        logged = logLines(service)
        reply = exchange(service.port("web"), head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        headers, _, document = reply.partition(b"\r\n\r\n")
        assert headers.startswith(b"HTTP/1.1 200 "), reply[:300]
        try:
            xmlrpc.client.loads(document)  # a well-formed response...
        except xmlrpc.client.Fault:
            pass  # ...usually a fault
        assertNoUnhandledErrors(service, logged)

    garbageCall()
    assertWebAnswers(service)


PB_PIECES = st.sampled_from(
    # Banana type bytes (list, int, string, neg, float, lnumber, lneg, vocab)
    # behind short base-128 lengths, and a few real opening tokens.
    [b"\x80", b"\x81", b"\x82", b"\x83", b"\x84", b"\x85", b"\x86", b"\x87",
     b"\x01", b"\x7f\x7f\x7f\x7f\x7f", b"\x04\x82none", b"\x05\x82pbcall"]
)


def test_pbPortSurvivesGarbage(service):
    @EXAMPLES
    @given(garbage=st.lists(st.one_of(PB_PIECES, st.binary(max_size=30)), max_size=40).map(b"".join))
    def garbageMessages(garbage):
        logged = logLines(service)
        exchange(service.port("pb"), garbage)
        assertNoUnhandledErrors(service, logged)

    garbageMessages()
    done = subprocess.run(
        [sys.executable, str(PB_CLIENT), str(service.port("pb")),
         json.dumps([["call", "getUser", "alice"]])],
        env=serviceEnvironment(), capture_output=True, timeout=120,
    )
    assert json.loads(done.stdout) == {"ok": "Happy and well"}, done.stderr.decode()
    assertNoUnhandledErrors(service)
