"""
IRC test support: a real C{ngircd} on a loopback port with a throwaway
configuration, and a small blocking IRC client speaking raw IRC over a
socket (a real client: it registers, joins and talks like any other).
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

NGIRCD = shutil.which("ngircd") or "/usr/sbin/ngircd"


def freePort() -> int:
    """A TCP port that is free on 127.0.0.1 right now (ngircd cannot use port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ngircd:
    """
    A foreground C{ngircd -n} on 127.0.0.1:C{port} (and, with C{tls}, a TLS
    port), configured in C{directory}.  No ident, DNS or PAM lookups, so
    registration is immediate.
    """

    def __init__(
        self, directory: Path, tls: tuple[Path, Path] | None = None, password: str | None = None
    ) -> None:
        self.directory = directory
        self.port = freePort()
        self.tlsPort = freePort() if tls else None
        self.config = directory / "ngircd.conf"
        (directory / "motd").write_text("finger tests\n")
        passwordLine = f"Password = {password}\n" if password else ""
        tlsSection = ""
        if tls:
            cert, key = tls
            tlsSection = f"[SSL]\nCertFile = {cert}\nKeyFile = {key}\nPorts = {self.tlsPort}\n"
        self.config.write_text(
            "[Global]\n"
            "Name = irc.test\n"
            "Info = finger test server\n"
            "AdminInfo1 = finger tests\nAdminInfo2 = here\nAdminEMail = root@localhost\n"
            "Listen = 127.0.0.1\n"
            f"Ports = {self.port}\n"
            f"MotdFile = {directory / 'motd'}\n"
            f"PidFile = {directory / 'ngircd.pid'}\n"
            f"ServerUID = {os.getuid()}\nServerGID = {os.getgid()}\n"
            f"{passwordLine}"
            "[Limits]\n"
            "MaxConnectionsIP = 0\n"
            "MaxNickLength = 9\n"
            "PingTimeout = 120\n"
            "[Options]\n"
            "Ident = no\nPAM = no\nDNS = no\n"
            f"{tlsSection}"
        )
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if not os.path.exists(NGIRCD):
            raise AssertionError("ngircd is not installed; bash tests/run.sh installs it")
        self.output = open(self.directory / "ngircd.log", "ab")
        self.process = subprocess.Popen(
            [NGIRCD, "-n", "-f", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"ngircd did not start:\n{self.log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.output.close()

    @property
    def log(self) -> str:
        return (self.directory / "ngircd.log").read_text(errors="replace")


def startNgircd(tmp_path: Path, **kwargs) -> Ngircd:
    """An L{Ngircd} (C{tls}, C{password}) configured in C{tmp_path}/ngircd."""
    directory = tmp_path / "ngircd"
    directory.mkdir()
    return Ngircd(directory, **kwargs)


@pytest.fixture
def ircServer(tmp_path):
    """A plain ngircd for one test (tests/conftest.py offers it to every test)."""
    server = startNgircd(tmp_path)
    yield server
    server.stop()


@dataclass
class Message:
    prefix: str
    command: str
    params: list[str]

    @property
    def nick(self) -> str:
        return self.prefix.split("!", 1)[0]

    @property
    def text(self) -> str:
        return self.params[-1] if self.params else ""


def parse(line: str) -> Message:
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    trailing = None
    if " :" in line:
        line, _, trailing = line.partition(" :")
    params = line.split()
    command, params = params[0], params[1:]
    if trailing is not None:
        params.append(trailing)
    return Message(prefix, command.upper(), params)


class IRCClient:
    """A blocking raw-IRC client; a reader thread answers PINGs and queues messages."""

    def __init__(
        self, port: int, nick: str, host: str = "127.0.0.1", password: str | None = None
    ) -> None:
        self.nick = nick
        self.socket = socket.create_connection((host, port), timeout=30)
        self.socket.settimeout(None)
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.rawLines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if password:
            self.send(f"PASS {password}")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :finger test client")
        self.expect(lambda m: m.command == "001", what="registration")

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                data = self.socket.recv(65536)
                if not data:
                    break
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    raw = raw.rstrip(b"\r")
                    self.rawLines.append(raw)
                    message = parse(raw.decode("utf-8", "replace"))
                    if message.command == "PING":
                        self.send(f"PONG :{message.text}")
                    self.messages.put(message)
        except OSError:
            pass
        self.messages.put(None)

    def send(self, line: str) -> None:
        self.socket.sendall(line.encode("utf-8") + b"\r\n")

    def expect(self, predicate, timeout: float = 60.0, what: str = "a message") -> Message:
        """The next message matching C{predicate}; the others are skipped."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            try:
                message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.nick}: no {what} in {timeout} s; saw {skipped}") from None
            if message is None:
                raise AssertionError(
                    f"{self.nick}: connection closed waiting for {what}; saw {skipped}"
                )
            if predicate(message):
                return message
            skipped.append(message)

    def join(self, channel: str) -> None:
        self.send(f"JOIN {channel}")
        self.expect(lambda m: m.command == "366" and m.params[1] == channel, what=f"JOIN {channel}")

    def say(self, target: str, text: str) -> None:
        self.send(f"PRIVMSG {target} :{text}")

    def nextFrom(self, nick: str, command: str = "PRIVMSG", **kwargs) -> Message:
        """The next C{command} (PRIVMSG, NOTICE, JOIN) sent by C{nick}."""
        return self.expect(
            lambda m: m.command == command and m.nick.lower() == nick.lower(),
            what=f"{command} from {nick}",
            **kwargs,
        )

    def close(self) -> None:
        try:
            self.send("QUIT :bye")
        except OSError:
            pass
        self.socket.close()
        self._reader.join(5)


def makeCertificates(directory: Path, hostname: str = "localhost") -> tuple[Path, Path, Path]:
    """
    A throwaway CA and a server certificate for C{hostname} signed by it.
    Returns (directory holding only the CA's PEM, server cert, server key).
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    week = datetime.timedelta(days=7)

    def build(subject, issuer, publicKey, signingKey, ca: bool, names=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(publicKey)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - week)
            .not_valid_after(now + week)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
        return builder.sign(signingKey, hashes.SHA256())

    caKey = ec.generate_private_key(ec.SECP256R1())
    ca = build("finger test CA", "finger test CA", caKey.public_key(), caKey, True)
    serverKey = ec.generate_private_key(ec.SECP256R1())
    server = build(hostname, "finger test CA", serverKey.public_key(), caKey, False, [hostname])
    caDirectory = directory / "ca"
    caDirectory.mkdir()
    (caDirectory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert, key = directory / "server.crt", directory / "server.key"
    cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        serverKey.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return caDirectory, cert, key
