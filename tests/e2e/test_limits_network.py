"""
The limits wrapper over real sockets, in-process: TLS endpoints and TCP
half-close still work through listen().
"""

from __future__ import annotations

import socket
import ssl as stdlibSSL

from twisted.application import service
from twisted.internet import defer, ssl, threads
from twisted.trial.unittest import TestCase

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.finger import FingerSettings
from finger.frontends.setter import SetterSettings
from finger.interfaces import IFingerFactory, IFingerSetterFactory
from finger.limits import Limits
from finger.listen import listen
from finger.querylog import QueryLog
from tests.helpers.abuse import temporaryPath


def readAll(sock) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def tlsQuery(port: int, data: bytes) -> bytes:
    """Send C{data} over TLS (no certificate check); return the reply."""
    context = stdlibSSL.SSLContext(stdlibSSL.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = stdlibSSL.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(data)
            chunks = []
            try:
                while chunk := tls.recv(65536):
                    chunks.append(chunk)
            except (stdlibSSL.SSLEOFError, ConnectionResetError):
                pass  # closed without close_notify: we have the data
            return b"".join(chunks)


class ListenOverSocketsTests(TestCase):
    def setUp(self) -> None:
        self.backend = MemoryFingerService({"alice": "Happy and well"})
        self.top = service.MultiService()

    def start(self, frontend: str, description: str, factory, limits=None):
        listener = listen(self.top, frontend, description, factory, limits=limits)
        listener.privilegedStartService()
        listener.startService()
        self.addCleanup(listener.stopService)
        portNumber = defer.Deferred()

        def listening(port):
            portNumber.callback(port.getHost().port)
            return port

        listener.whenListening().addCallback(listening)
        return portNumber

    def tlsListener(self, limits=None):
        pem = temporaryPath(self)
        key = ssl.KeyPair.generate()
        with open(pem, "wb") as f:
            f.write(key.selfSignedCert(1, commonName="localhost").dumpPEM())
        return self.start(
            "finger", f"ssl:0:interface=127.0.0.1:privateKey={pem}",
            frontend(IFingerFactory, self.backend, FingerSettings(queryLog=QueryLog(False))), limits,
        )

    def test_tlsEndpointThroughTheLimits(self):
        """A finger listener on an ssl: endpoint answers over TLS."""
        d = self.tlsListener()
        d.addCallback(lambda port: threads.deferToThread(tlsQuery, port, b"alice\r\n"))
        d.addCallback(self.assertEqual, b"Happy and well\r\n")
        return d

    def test_tlsRefusal(self):
        """
        Over TLS, a client beyond the limit reads the refusal (the refusal
        must not half-close the TCP connection under TLS).
        """

        def overTheLimit(port: int) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                return tlsQuery(port, b"alice\r\n")

        d = self.tlsListener(Limits(1, 1))
        d.addCallback(lambda port: threads.deferToThread(overTheLimit, port))
        d.addCallback(self.assertEqual, b"Too many connections, try again later\r\n")
        return d

    def test_tlsRefusalOfALongLine(self):
        """
        Over TLS, the finger protocol's own refusal (a line too long) is read
        too: through the wrapper it must not half-close the TCP below TLS.
        """
        d = self.tlsListener()
        d.addCallback(lambda port: threads.deferToThread(tlsQuery, port, b"a" * 5000 + b"\r\n"))
        d.addCallback(self.assertEqual, b"Query too long (limit 1024 bytes)\r\n")
        return d

    def test_tcpHalfCloseThroughTheLimits(self):
        """
        The setter accepts a status without a final newline when the client
        half-closes: the wrapper forwards readConnectionLost.
        """

        def setWithoutNewline(port: int) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"dave\r\nGone fishing")
                s.shutdown(socket.SHUT_WR)
                return readAll(s)

        d = self.start("setter", "tcp:0:interface=127.0.0.1", frontend(IFingerSetterFactory, self.backend, SetterSettings(queryLog=QueryLog(False), allowUnauthenticated=True)))
        d.addCallback(lambda port: threads.deferToThread(setWithoutNewline, port))
        d.addCallback(self.assertEqual, b"OK\r\n")
        d.addCallback(lambda _: self.backend.getUser("dave"))
        d.addCallback(self.assertEqual, "Gone fishing")
        return d

    def test_refusedClientReadsTheMessage(self):
        """
        Over a real socket, a client over the limit that already sent its
        query still reads the refusal (no connection reset), and the
        connection already open is then served.
        """

        def overTheLimit(port: int) -> tuple[bytes, bytes]:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
                first.sendall(b"ali")  # connected, query not finished
                with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
                    second.sendall(b"alice\r\n")
                    refused = readAll(second)
                first.sendall(b"ce\r\n")
                return refused, readAll(first)

        d = self.start(
            "finger", "tcp:0:interface=127.0.0.1", frontend(IFingerFactory, self.backend, FingerSettings(queryLog=QueryLog(False))), Limits(1, 1)
        )
        d.addCallback(lambda port: threads.deferToThread(overTheLimit, port))
        d.addCallback(
            self.assertEqual,
            (b"Too many connections, try again later\r\n", b"Happy and well\r\n"),
        )
        return d


