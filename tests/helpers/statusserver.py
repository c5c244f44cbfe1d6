"""
A status web server for the web status tests: the standard library's HTTP
server over TLS, on 127.0.0.1 port 0, in threads.

Paths: C{/alice.txt} and C{/carol.txt} are statuses; C{/broken.txt} answers
500; C{/big.txt} announces a body over 64 KiB; C{/endless.txt} streams a body
without length forever; C{/slow.txt} answers only when the server closes;
anything else is 404.  C{requests} counts the requests per path.
"""

from __future__ import annotations

import collections
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATUSES = {"/alice.txt": b"Web alice\n", "/carol.txt": b"Web carol: on the web\n"}


class StatusHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server.status
        with server.lock:
            server.requests[self.path] += 1
        if self.path in STATUSES:
            self.answer(200, STATUSES[self.path])
        elif self.path == "/broken.txt":
            self.answer(500, b"oops\n")
        elif self.path == "/big.txt":
            self.answer(200, b"x" * (100 * 1024))
        elif self.path == "/endless.txt":
            self.send_response(200)
            self.end_headers()
            try:
                while not server.closing.is_set():
                    self.wfile.write(b"more " * 1000)
            finally:
                server.endlessStopped.set()
        elif self.path == "/slow.txt":
            server.closing.wait(60)
        else:
            self.answer(404, b"not here\n")

    def answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StatusServer:
    """An HTTPS status server with the given certificate; a context manager."""

    def __init__(self, certPath: Path, keyPath: Path) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.endlessStopped = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
        self.httpd.daemon_threads = True
        self.httpd.status = self
        self.httpd.handle_error = lambda request, address: None  # e.g. rejected handshakes
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certPath, keyPath)
        # The handshake happens in the request's thread, not in accept().
        self.httpd.socket = context.wrap_socket(
            self.httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
