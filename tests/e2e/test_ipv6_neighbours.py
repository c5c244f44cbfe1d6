"""
End to end: a real twistd counts IPv6 clients by their /64 for
--max-connections-per-peer.  The test adds two /64s of ULA addresses to the
loopback interface (root only; removed afterwards) and connects from
several addresses of one /64.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

NEAR = "fd00:f1::"  # the server's /64, and the clients' first one
FAR = "fd00:f2::"  # another /64
ADDED = [f"{NEAR}1/64", f"{FAR}1/64"]


@pytest.fixture
def loopbackNetworks():
    added = []
    for address in ADDED:
        result = subprocess.run(
            ["ip", "-6", "addr", "add", address, "dev", "lo", "nodad"], capture_output=True
        )
        if result.returncode != 0:
            for done in added:
                subprocess.run(["ip", "-6", "addr", "del", done, "dev", "lo"], check=False)
            pytest.skip(f"cannot add IPv6 loopback addresses: {result.stderr.decode().strip()}")
        added.append(address)
    # More addresses in the same networks: the /64 routes are on lo already.
    extra = [f"{NEAR}2/128", f"{NEAR}3/128", f"{NEAR}4/128"]
    for address in extra:
        subprocess.run(["ip", "-6", "addr", "add", address, "dev", "lo", "nodad"], check=True)
        added.append(address)
    yield
    for address in added:
        subprocess.run(["ip", "-6", "addr", "del", address, "dev", "lo"], check=False)


def connectFrom(source: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((source, 0))
    s.connect((f"{NEAR}1", port))
    return s


def ask(source: str, port: int) -> bytes:
    with connectFrom(source, port) as s:
        s.sendall(b"alice\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data


def test_oneSlash64CountsAsOneClient(startFinger, loopbackNetworks):
    service = startFinger(
        "--memory", "--user", "alice=Happy and well",
        "--finger", r"tcp6:0:interface=fd00\:f1\:\:1", "--max-connections-per-peer", "2",
    )
    port = service.port("finger")
    held = [connectFrom(f"{NEAR}2", port), connectFrom(f"{NEAR}3", port)]
    try:
        # A third address of the same /64 is the same client: refused.
        assert ask(f"{NEAR}4", port) == b"Too many connections, try again later\r\n"
        # Another /64 is another client.
        assert ask(f"{FAR}1", port) == b"Happy and well\r\n"
    finally:
        for s in held:
            s.close()
    service.waitForLog(r"connections open from fd00:f1::/64 .*refusing more from it")


def test_prefixIsConfigurable(startFinger, loopbackNetworks):
    service = startFinger(
        "--memory", "--user", "alice=Happy and well",
        "--finger", r"tcp6:0:interface=fd00\:f1\:\:1", "--max-connections-per-peer", "2",
        "--ipv6-prefix", "128",
    )
    port = service.port("finger")
    held = [connectFrom(f"{NEAR}2", port), connectFrom(f"{NEAR}3", port)]
    try:
        assert ask(f"{NEAR}4", port) == b"Happy and well\r\n"
    finally:
        for s in held:
            s.close()
