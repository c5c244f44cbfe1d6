"""
Misbehaving TCP servers for the network tests: plain sockets in threads, on
127.0.0.1 port 0, closed by the test (use them as context managers).
"""

from __future__ import annotations

import socket
import threading


class RawServer:
    """Accepts connections in a thread and hands each to L{handle}."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        self.closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.set()
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        try:
            self.handle(connection)
        except OSError:
            pass

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.closing.set()
        self.listener.close()
        for connection in self.connections:
            connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def readLine(connection: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


class BlackHole(RawServer):
    """Accepts, reads, never answers; records when the peer goes away."""

    def __init__(self) -> None:
        self.peerClosed = threading.Event()
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        try:
            while connection.recv(4096):
                pass
        finally:  # Closed or reset by the peer.
            self.peerClosed.set()


class Endless(RawServer):
    """Answers every query with an endless stream; counts what it sent."""

    def __init__(self) -> None:
        self.sent = 0
        self.stopped = threading.Event()
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        readLine(connection)
        chunk = b"spam " * 13107 + b"\r\n"
        try:
            while not self.closing.is_set():
                connection.sendall(chunk)
                self.sent += len(chunk)
        finally:
            self.stopped.set()


class Canned(RawServer):
    """Answers every query with C{reply} and closes; records the queries."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.queries: list[bytes] = []
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        self.queries.append(readLine(connection))
        connection.sendall(self.reply)
        connection.close()
