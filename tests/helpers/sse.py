"""
A blocking server-sent events client for the end-to-end tests (plain
C{http.client}, as any Python program would read C{/api/events}), and a
client that connects and never reads.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Event:
    """One event as received."""

    id: str | None
    event: str
    data: str

    @property
    def json(self) -> dict:
        return json.loads(self.data)


class EventClient:
    """Reads C{path} on 127.0.0.1:C{port} in a thread; events arrive in L{events}."""

    def __init__(self, port: int, path: str = "/api/events", headers: dict | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.comments: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\n")
                if not line:
                    if "data" in fields:
                        self.events.put(
                            Event(fields.get("id"), fields.get("event", "message"), fields["data"])
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    key, _, value = line.partition(":")
                    fields[key] = value[1:] if value.startswith(" ") else value
        except (OSError, http.client.HTTPException, ValueError, AttributeError):  # closed under us
            pass
        self.events.put(None)

    def next(self, timeout: float = 10.0) -> Event:
        """The next event (fails the test if none arrives in time or the stream ends)."""
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event in {timeout} s") from None
        if event is None:
            raise AssertionError("the stream ended")
        return event

    def ended(self, timeout: float = 10.0) -> bool:
        """Whether the stream ends (after any events still queued) within C{timeout}."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.events.get(timeout=max(0.0, deadline - time.monotonic())) is None:
                    return True
            except queue.Empty:
                return False
        return False

    def close(self) -> None:
        self.connection.close()


def nonReadingStream(port: int, path: str = "/api/events") -> socket.socket:
    """A connection that asks for the stream, with a tiny receive buffer, and never reads."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return s
