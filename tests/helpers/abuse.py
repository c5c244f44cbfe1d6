"""
Helpers for the abuse tests: hostile clients over real sockets and readings
of the service process.  They speak bytes, not any one protocol, so the
web, XML-RPC and PB abuse tests can use them too: pass the port and the
bytes of a request (an HTTP request line, an XML-RPC body, a PB banner).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

# Client source addresses: Linux routes all of 127/8 to the loopback, so
# connections from 127.0.0.N look like N different clients (per-client limits).
SOURCES = [f"127.0.0.{n}" for n in range(1, 41)]


def memoryKiB(pid: int, field: str = "VmRSS") -> int:
    """C{VmRSS} (or C{VmHWM}: the peak so far) of process C{pid}, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def connect(port: int, source: str = "127.0.0.1", timeout: float = 30.0,
            receiveBuffer: int | None = None) -> socket.socket:
    """A connection to C{port} from C{source}; C{receiveBuffer} shrinks SO_RCVBUF."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receiveBuffer is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def openConnections(port: int, count: int, sources: Iterable[str] = SOURCES[:1]) -> list[socket.socket]:
    """C{count} connections that send nothing, spread over C{sources}."""
    sources = list(sources)
    return [connect(port, sources[i % len(sources)]) for i in range(count)]


def readAll(s: socket.socket) -> bytes:
    """Read until the server closes; a reset after data still returns the data."""
    chunks = []
    try:
        while chunk := s.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def request(port: int, data: bytes, source: str = "127.0.0.1", timeout: float = 30.0) -> bytes:
    """Send C{data}, return everything the server sends before closing."""
    with connect(port, source, timeout) as s:
        s.sendall(data)
        return readAll(s)


def waitAllClosed(sockets: list[socket.socket], timeout: float) -> int:
    """
    Wait until the server has closed every socket (EOF or reset), reading and
    discarding what it sends; return how many it closed in C{timeout} seconds.
    """
    selector = selectors.DefaultSelector()
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    open_, closed = len(sockets), 0
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                selector.unregister(key.fileobj)
                open_ -= 1
                closed += 1
    selector.close()
    return closed


class Trickler(threading.Thread):
    """Sends C{data} one byte every C{interval} seconds until the server closes."""

    def __init__(self, sock: socket.socket, data: bytes, interval: float) -> None:
        super().__init__(daemon=True)
        self.sock, self.data, self.interval = sock, data, interval
        self.sent = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        for i in range(len(self.data)):
            if self.stopped.wait(self.interval):
                return
            try:
                self.sock.send(self.data[i : i + 1])
            except OSError:
                return  # the server closed the connection
            self.sent += 1


def sendHuge(port: int, head: bytes, size: int, tail: bytes = b"\r\n",
             source: str = "127.0.0.1", timeout: float = 60.0) -> bytes:
    """
    Send C{head}, then C{size} bytes of C{"a"}, then C{tail}, while reading
    the reply in parallel (the server may answer and close before we are
    done sending); return the reply.
    """
    s = connect(port, source, timeout)
    reply: list[bytes] = []
    reader = threading.Thread(target=lambda: reply.append(readAll(s)), daemon=True)
    reader.start()
    chunk = b"a" * 65536
    try:
        s.sendall(head)
        left = size
        while left > 0:
            s.sendall(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        s.sendall(tail)
    except OSError:
        pass  # closed by the server: expected
    reader.join(timeout)
    s.close()
    assert reply, "the server never closed the connection"
    return reply[0]


_LOG_ERROR = re.compile(r"#(error|critical)\]|Traceback|Unhandled")


def assertNoErrors(service, allowed: Iterable[str] = ()) -> None:
    """Fail, showing the log, if a service logged an error (see L{logErrors})."""
    errors = logErrors(service.log, allowed)
    assert not errors, "errors logged:\n" + service.log[-20000:]


def logErrors(log: str, allowed: Iterable[str] = ()) -> list[str]:
    """
    Error lines of a service log once it serves (except those matching an
    C{allowed} regex).  Lines before the first listener are left out: twistd
    logs there the errors of loading other packages' plugins, which the
    machine's other users may be rewriting at that moment.
    """
    allowedRegexes = [re.compile(a) for a in allowed]
    lines = log.splitlines()
    serving = next((i for i, line in enumerate(lines) if " listening on " in line), 0)
    return [
        line for line in lines[serving:]
        if _LOG_ERROR.search(line) and not any(a.search(line) for a in allowedRegexes)
    ]


def temporaryPath(testCase) -> str:
    """
    A fresh file path for a trial test, in a directory removed afterwards
    (trial's C{mktemp} is relative to the working directory: the checkout,
    under pytest).
    """
    directory = tempfile.mkdtemp(prefix="finger-test-")
    testCase.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    return os.path.join(directory, "file")
