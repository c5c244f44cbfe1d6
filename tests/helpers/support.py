"""
Test support: run a real C{twistd -n finger} process on free loopback ports
and talk to it over real sockets.

The service logs C{<frontend> listening on <host>:<port>} for each listener;
L{FingerProcess} reads those lines to learn the ports it got from port 0.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
LISTENING = re.compile(r"\] (\S+) listening on (\S+):(\d+) ")
LOOPBACK0 = "tcp:0:interface=127.0.0.1"
# Frontends that listen on a fixed port by default: a test that does not
# choose an endpoint for one gets it disabled, so parallel tests never collide
# (the setter's default is one UNIX socket path, /run/finger/setter.sock).
OFF_UNLESS_GIVEN = {"--pb": "none", "--web": "none", "--setter": "none"}


def withDefaultsOff(args: Sequence[str]) -> list[str]:
    """C{args} plus C{--pb none}, C{--web none}, C{--setter none} for the options it does not mention."""
    args = list(args)
    for option, value in OFF_UNLESS_GIVEN.items():
        if not any(a == option or a.startswith(option + "=") for a in args):
            args += [option, value]
    return args


def serviceEnvironment(**extra: str) -> dict[str, str]:
    """The environment for a service process: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class FingerProcess:
    """A running C{twistd -n finger ...} process and the ports it listens on."""

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path,
        expect: Sequence[str] = ("finger",),
        timeout: float = 30.0,
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = list(command) if command else [*TWISTD, "-n", "--pidfile=", "finger"]
        # Only arguments for the finger plugin get its defaults turned off
        # (not those of a .tac file or of a complete command line).
        self.args = withDefaultsOff(args) if self.command[-1] == "finger" else list(args)
        self.lines: list[str] = []
        self.ports: dict[str, list[int]] = {}
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [*self.command, *self.args],
            cwd=cwd,
            env=serviceEnvironment() if env is None else env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.waitFor(lambda: all(f in self.ports for f in expect), timeout, f"listeners {expect}")

    def _read(self) -> None:
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._changed:
                self.lines.append(line)
                match = LISTENING.search(line)
                if match:
                    self.ports.setdefault(match.group(1), []).append(int(match.group(3)))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def port(self, frontend: str = "finger") -> int:
        return self.ports[frontend][0]

    def waitFor(self, condition, timeout: float = 30.0, what: str = "condition") -> None:
        """Wait until C{condition()} is true; fail with the log if it never is."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not condition()):
                    if self.process.poll() is not None:
                        self._changed.wait(0.5)  # let the reader finish
                    raise AssertionError(
                        f"timed out waiting for {what}; exit={self.process.poll()}\n{self.log}"
                    )
                self._changed.wait(min(remaining, 0.5))

    def waitForLog(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """Wait for a log line matching C{pattern} (a regex) and return the match."""
        regex = re.compile(pattern)
        found: list[re.Match] = []

        def seen() -> bool:
            for line in self.lines:
                m = regex.search(line)
                if m:
                    found.append(m)
                    return True
            return False

        self.waitFor(seen, timeout, f"log line {pattern!r}")
        return found[0]

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM the process, kill it if it lingers; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the process (a crash)."""
        self.process.kill()
        self.process.wait()
        self._reader.join(5)


def runTwistd(
    args: Sequence[str], cwd: Path, timeout: float = 60.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run C{twistd -n finger ARGS} to completion (for start-up errors); C{env} is added."""
    return subprocess.run(
        [*TWISTD, "-n", "--pidfile=", "finger", *withDefaultsOff(args)],
        cwd=cwd,
        env=serviceEnvironment(**(env or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def query(port: int, data: bytes, timeout: float = 10.0, host: str = "127.0.0.1") -> bytes:
    """Send C{data}, read until the server closes, return what it sent."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def finger(port: int, text: str, **kwargs) -> str:
    """A finger query; returns the reply decoded."""
    return query(port, text.encode("utf-8") + b"\r\n", **kwargs).decode("utf-8")


def setStatus(port: int, name: str, status: str, **kwargs) -> str:
    """The classic setter protocol: name line, status line; returns the reply."""
    return query(port, f"{name}\r\n{status}\r\n".encode(), **kwargs).decode("utf-8")


@contextlib.contextmanager
def port79Lock() -> Iterator[None]:
    """
    Serialise the tests that must bind port 79 (Debian's finger client speaks
    to nothing else), across processes and parallel workers.
    """
    with open("/tmp/finger-tests-port79.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
