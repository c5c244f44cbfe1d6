"""
C{finger-set STATUS...}: set your own status through the local setter's
UNIX socket.

The server knows who you are from the socket itself (C{SO_PEERCRED}), so
there is nothing to log in with: the command sends your login name and the
status (the classic two lines), prints the server's answer and exits 0 on
C{OK}, 1 on C{ERROR ...} or when the service cannot be reached.  Without
arguments the status is read from standard input (one line).  The socket is
C{--socket PATH}, or the first that answers of C{$XDG_RUNTIME_DIR/finger/setter.sock}
(your own server) and C{/run/finger/setter.sock} (the system's).
"""

from __future__ import annotations

import argparse
import os
import pwd
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from finger.localsocket import clientSockets

TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024
MAX_STDIN = 64 * 1024


class SetError(Exception):
    """The status could not be sent; the message says why, for the user."""


def connect(paths: Sequence[Path], timeout: float = TIMEOUT) -> socket.socket:
    """A connection to the first of C{paths} that accepts one."""
    reasons = []
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(os.fspath(path))
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            reasons.append(f"nothing listens at {path}")
        except PermissionError:
            reasons.append(f"no permission to connect to {path}")
        except OSError as e:
            reasons.append(f"{path}: {e.strerror or e}")
        s.close()
    raise SetError(
        f"cannot reach the finger service ({'; '.join(reasons)}): is it running? "
        "(or give --socket PATH)"
    )


def setStatus(connection: socket.socket, name: str, status: str) -> str:
    """Send C{name} and C{status}; the server's one-line answer."""
    try:
        request = f"{name}\r\n{status}\r\n".encode()
    except UnicodeEncodeError:
        raise SetError("the status is not valid text (UTF-8)") from None
    answer = b""
    try:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        while len(answer) <= MAX_ANSWER:
            data = connection.recv(4096)
            if not data:
                break
            answer += data
    except TimeoutError:
        raise SetError(f"the finger service did not answer within {TIMEOUT:g} seconds") from None
    except OSError as e:
        if not answer:
            raise SetError(f"the connection failed: {e.strerror or e}") from None
    text = answer[:MAX_ANSWER].decode("utf-8", "replace").strip()
    if not text:
        raise SetError("the finger service closed the connection without an answer")
    return text.splitlines()[0]


def readStatus(arguments: Sequence[str]) -> str:
    """The status: the arguments joined by spaces, or one line of standard input."""
    if arguments:
        status = " ".join(arguments)
    else:
        status = sys.stdin.read(MAX_STDIN + 1)
        if len(status) > MAX_STDIN:
            raise SetError(f"the status on standard input is too long (limit {MAX_STDIN})")
        status = status.strip("\r\n")
    if "\n" in status or "\r" in status:
        raise SetError("the status must be one line")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """The C{finger-set} command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="finger-set",
        description="Set your status on the local finger service (read from standard "
        "input if no STATUS is given).",
    )
    parser.add_argument("status", nargs="*", metavar="STATUS")
    parser.add_argument("--socket", type=Path, help="the setter's UNIX socket")
    parser.add_argument(
        "--user", help="whose status to set (default: yours; only root may set another's)"
    )
    options = parser.parse_args(argv)
    try:
        name = options.user or pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        print(f"finger-set: uid {os.geteuid()} has no login name", file=sys.stderr)
        return 1
    try:
        status = readStatus(options.status)
        paths = [options.socket] if options.socket else clientSockets(os.geteuid(), os.environ)
        with connect(paths) as connection:
            answer = setStatus(connection, name, status)
    except SetError as e:
        print(f"finger-set: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(answer)
    return 0 if answer == "OK" else 1


def run() -> None:
    """The console script's entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    run()
