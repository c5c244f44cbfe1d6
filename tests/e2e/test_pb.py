"""
The Perspective Broker frontend end to end: the classic client
(PBClientFactory, getRootObject, callRemote) against a real
C{twistd -n finger} process.
"""

from __future__ import annotations

import pytest

from tests.helpers.pb import BAD_CALL, NO_SUCH_USER, pbClient
from tests.helpers.support import LOOPBACK0


@pytest.fixture
def pbService(startFinger):
    return startFinger(
        "--memory",
        "--user", "alice=Happy and well",
        "--user", "bob=Gone \x1b[31mfishing",
        "--finger", "none",
        "--setter", "none",
        "--pb", LOOPBACK0,
        expect=("pb",),
    )


def test_classicClientKnownAndUnknownUsers(pbService):
    results = pbClient(
        pbService.port("pb"),
        ["call", "getUser", "alice"],
        ["call", "getUser", "bob"],
        ["call", "getUser", "nobody"],
        ["call", "getUsers"],
    )
    assert results == [
        {"ok": "Happy and well"},
        {"ok": "Gone [31mfishing"},
        {"remote": NO_SUCH_USER, "message": "no such user: nobody"},
        {"ok": ["alice", "bob"]},
    ]
    pbService.waitForLog(r"pb query 'nobody' from 127\.0\.0\.1:\d+: no such user")
    pbService.waitForLog(r"pb query '' from 127\.0\.0\.1:\d+: listed 2 users")


def test_badCallsGetRemoteErrorsAndTheServerStaysHealthy(pbService):
    results = pbClient(
        pbService.port("pb"),
        ["call", "frobnicate", "alice"],
        ["call", "getUser", 42],
        ["call", "getUser"],
        ["call", "getUser", "alice", "extra"],
        ["call", "getUser", {"repeat": "x", "times": 100_000}],
        ["call", "getUser", "alice"],  # same connection, still fine
    )
    assert [r.get("remote") for r in results[:5]] == [BAD_CALL] * 5, results
    assert results[0]["message"] == "no such method: frobnicate"
    assert results[1]["message"] == "getUser wants a user name (a string), not int"
    assert "missing a required argument" in results[2]["message"]
    assert "too many positional arguments" in results[3]["message"]
    assert results[4]["message"] == "user name too long (limit 64 characters)"
    assert results[5] == {"ok": "Happy and well"}
    assert "Traceback" not in pbService.log
    pbService.waitForLog(r"pb query 'frobnicate' from .*: refused: no such method")


def test_oversizedArgumentsAreRefusedAndTheServerStaysHealthy(pbService):
    tenMegabytes = {"repeat": "x", "times": 10 * 1024 * 1024}
    results = pbClient(
        pbService.port("pb"),
        # The classic client refuses to send it at all...
        ["call", "getUser", tenMegabytes],
        # ...a client without that limit gets a remote error, then is closed.
        ["unlimited"],
        ["call", "getUser", tenMegabytes],
        ["call", "getUser", "alice"],
        ["reconnect"],
        # Many small strings: each within Banana's limits, too much together.
        ["call", "getUser", {"repeat": "y" * 1000, "times": 200}],
        ["reconnect"],
        ["call", "getUser", "alice"],
    )
    assert results[0]["local"] == "BananaError", results
    assert results[1]["remote"] == BAD_CALL, results
    assert results[1]["message"].startswith("refused: Security precaution: String too long")
    assert "lost" in results[2], results
    assert results[4]["remote"] == BAD_CALL, results
    assert results[4]["message"].startswith("refused: message too large"), results
    assert results[6] == {"ok": "Happy and well"}
    assert "Traceback" not in pbService.log
