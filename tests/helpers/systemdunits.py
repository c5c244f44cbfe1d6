"""
Test support: read the package's systemd units and run their service the
way systemd would, without systemd.

C{systemd-socket-activate} (from Debian's C{systemd} package) binds the
socket unit's port, passes it on as file descriptor 3 with C{LISTEN_FDS},
C{LISTEN_PID} and C{LISTEN_FDNAMES}, and executes the service's
C{ExecStart} command line, expanded with the C{EnvironmentFile} the way
systemd expands it; C{setpriv} switches to the service's C{User}/C{Group}
first, as systemd does.
"""

from __future__ import annotations

import re
import shlex
import socket as _socket
from pathlib import Path

from tests.helpers.support import OFF_UNLESS_GIVEN, REPO

DEBIAN = REPO / "debian"
SOURCE_UNITS = {
    "finger.socket": DEBIAN / "twisted-finger.finger.socket",
    "finger.service": DEBIAN / "twisted-finger.finger.service",
}
SOURCE_DEFAULTS = DEBIAN / "default" / "finger"

Unit = dict[str, dict[str, list[str]]]


def parseUnit(path: Path) -> Unit:
    """C{{section: {key: [values, in order]}}} of a systemd unit file."""
    unit: Unit = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    """The single (last) value of C{key}, as systemd reads a single-valued key."""
    return unit[section][key][-1]


def parseEnvironmentFile(path: Path) -> dict[str, str]:
    """C{KEY=value} lines (shell-like quoting, C{#} comments), as systemd reads them."""
    environment = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        words = shlex.split(value)
        environment[key.strip()] = words[0] if words else ""
    return environment


def expandCommandLine(line: str, environment: dict[str, str]) -> list[str]:
    """
    systemd's expansion of C{ExecStart}: a word C{$NAME} becomes the value
    split at whitespace (zero or more words), C{${NAME}} one word.
    """
    argv = []
    for word in shlex.split(line):
        whole = re.fullmatch(r"\$(\w+)", word)
        if whole:
            argv.extend(environment.get(whole.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{(\w+)\}", lambda m: environment.get(m.group(1), ""), word))
    return argv


def serviceCommand(service: Unit, environment: dict[str, str]) -> list[str]:
    """The service's C{ExecStart}, expanded."""
    return expandCommandLine(one(service, "Service", "ExecStart"), environment)


def freePort(family: int = _socket.AF_INET, host: str = "127.0.0.1") -> int:
    """A port free on C{host} now (systemd-socket-activate cannot listen on port 0)."""
    with _socket.socket(family, _socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listenStreams(socket: Unit) -> list[str]:
    """The socket unit's C{ListenStream} values, in the order the service gets them."""
    return socket["Socket"]["ListenStream"]


def isPath(listenStream: str) -> bool:
    """Whether a C{ListenStream} is a UNIX socket's path (systemd: it starts with C{/})."""
    return listenStream.startswith("/")


def activationAddresses(
    socket: Unit, directory: Path, family: int = _socket.AF_INET, host: str = "127.0.0.1"
) -> list[str]:
    """
    Addresses for C{systemd-socket-activate}, one per C{ListenStream} in
    order: a free port on C{host} for a port, a path in C{directory} (with
    the same file name) for a UNIX socket.
    """
    addresses = []
    for stream in listenStreams(socket):
        if isPath(stream):
            addresses.append(str(directory / Path(stream).name))
        elif family == _socket.AF_INET6:
            addresses.append(f"[{host}]:{freePort(family, host)}")
        else:
            addresses.append(f"{host}:{freePort(family, host)}")
    return addresses


def applySocketMode(socket: Unit, addresses: list[str]) -> None:
    """Give the UNIX sockets the unit's C{SocketMode} (systemd-socket-activate has none)."""
    mode = int(socket["Socket"].get("SocketMode", ["0666"])[-1], 8)
    for address in addresses:
        if address.startswith("/"):
            Path(address).chmod(mode)


def socketActivate(
    socket: Unit,
    addresses: list[str],
    command: list[str],
    passEnvironment: dict[str, str] | None = None,
) -> list[str]:
    """
    The command line that listens on C{addresses} (C{host:port}, one for
    each of the socket unit's C{ListenStream} lines, in order, or a path) and runs
    C{command} with the sockets, named as the unit names them.
    """
    assert len(addresses) == len(listenStreams(socket))
    name = one(socket, "Socket", "FileDescriptorName")
    passed = [f"--setenv={k}={v}" for k, v in (passEnvironment or {}).items()]
    return [
        "systemd-socket-activate",
        f"--fdname={':'.join([name] * len(addresses))}",
        *(f"--listen={address}" for address in addresses),
        *passed,
        *command,
    ]


# Frontends that listen on a fixed default port on every interface unless
# told otherwise: the harness's list, and the web frontend (when the service
# has them: they may land after this test).
DEFAULT_LISTENERS = {**OFF_UNLESS_GIVEN, "--web": "none"}


def withoutDefaultListeners(command: list[str], helpText: str) -> list[str]:
    """
    Tests listen on loopback only: C{command} plus C{--NAME=none} for each
    frontend in the service's C{--help} that would listen on a default port
    and that C{command} does not configure.
    """
    extra = []
    for option, value in DEFAULT_LISTENERS.items():
        configured = any(arg == option or arg.startswith(option + "=") for arg in command)
        if f"{option}=" in helpText and not configured:
            extra.append(f"{option}={value}")
    return command + extra


def asServiceUser(service: Unit, command: list[str]) -> list[str]:
    """C{command}, run as the service's C{User}/C{Group} via C{setpriv}."""
    section = service["Service"]
    user = one(service, "Service", "User")
    group = section.get("Group", [user])[-1]
    noNewPrivileges = section.get("NoNewPrivileges", ["no"])[-1] in ("yes", "true", "1")
    return [
        "setpriv",
        f"--reuid={user}",
        f"--regid={group}",
        "--init-groups",
        *(["--no-new-privs"] if noNewPrivileges else []),
        "--",
        *command,
    ]


def procStatus(pid: int) -> dict[str, list[str]]:
    """The fields of C{/proc/PID/status} (e.g. C{Uid}: real, effective, saved, fs)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields
