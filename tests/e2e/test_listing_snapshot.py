"""
End to end: a listing is one version of the table.  A real twistd serves a
users file; a slow client asks for the list and reads a little of it; the
file is replaced (every status from version A to version B) and reloaded;
the client then reads the rest.  Every line must be A (the version the
listing began with), and a new listing must be all B.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request

from tests.helpers.support import LOOPBACK0, finger

USERS = 20_000
PAD = "x" * 200  # a listing of about 4.5 MB: more than the socket buffers hold


def writeUsers(path, version: str) -> None:
    temporary = f"{path}.new"
    with open(temporary, "w") as f:
        for i in range(USERS):
            f.write(f"user{i:05d}: {version} {PAD}\n")
    os.replace(temporary, path)


def versions(text: str) -> set[str]:
    return {line.split(": ", 1)[1].split(" ", 1)[0] for line in text.splitlines() if line}


def test_listingDuringAReloadIsOneVersion(startFinger, tmp_path):
    users = tmp_path / "users"
    writeUsers(users, "A")
    service = startFinger(
        "--file", str(users), "--finger", LOOPBACK0, "--web", LOOPBACK0, "--refresh", "0.2",
        expect=("finger", "web"), timeout=60,
    )
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.settimeout(30)
    reader.connect(("127.0.0.1", service.port()))
    reader.sendall(b"\r\n")
    first = reader.recv(4096)
    assert first.startswith(b"user00000: A ")

    writeUsers(users, "B")
    service.waitForLog(r"Loaded 20000 users from .* in", timeout=30)  # the start-up load
    deadline = time.monotonic() + 30
    while finger(service.port(), "user19999").split(" ", 1)[0] != "B":
        assert time.monotonic() < deadline, service.log
        time.sleep(0.2)

    chunks = [first]
    while chunk := reader.recv(65536):
        chunks.append(chunk)
    reader.close()
    listing = b"".join(chunks).decode()
    assert listing.count("\r\n") == USERS
    assert versions(listing) == {"A"}, "the listing mixed versions"
    # Afterwards, a new listing and the web's first page are all B.
    assert versions(finger(service.port(), "")) == {"B"}
    page = urllib.request.urlopen(f"http://127.0.0.1:{service.port('web')}/", timeout=10).read()
    assert b"A " + PAD.encode() not in page and b"B " + PAD.encode() in page
