"""
End to end: a PB client (the classic one, its own process) logs in to a real
C{twistd -n finger --store} with an account made by the real finger-admin,
and sets its own status; finger answers it.  Over TLS (C{--pb ssl:}) too.
"""

from __future__ import annotations

import pytest

from finger.accounts.cred import FAILED
from finger.accounts.standing import LAPSED
from tests.helpers.accountcli import adminOutput
from tests.helpers.pb import BAD_CALL, LOGIN_REFUSED, WRITE_REFUSED, pbClient, pbClientPausing
from tests.helpers.support import LOOPBACK0, finger
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

PASSWORDS = {"alice": "alice's long secret", "bob": "bob's other secret"}


@pytest.fixture
def service(startFinger, tmp_path):
    store = tmp_path / "status.db"
    for name, password in PASSWORDS.items():
        adminOutput(store, "adduser", name, stdin=password + "\n")
    certificates = makeCertificates(str(tmp_path / "tls"))
    tls = f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    process = startFinger(
        "--store", str(store), "--finger", LOOPBACK0, "--pb", LOOPBACK0, "--pb", tls,
        expect=("finger", "pb"),
    )
    process.waitFor(lambda: len(process.ports.get("pb", [])) == 2, what="both PB listeners")
    process.store = store
    process.tls = f"tls:{HOSTNAME}:{process.ports['pb'][1]}:{certificates.ca}"
    return process


def test_loginAndSetOwnStatus(service):
    answers = pbClient(
        service.port("pb"),
        ["login", "alice", PASSWORDS["alice"]],
        ["account", "whoami"],
        ["account", "setStatus", "Gone fishing"],
        ["account", "setUser", "bob", "forged by alice"],
        ["call", "getUser", "alice"],  # reading stays on the root, anonymous
    )
    assert answers[:2] == [{"ok": "logged in"}, {"ok": "alice"}]
    assert answers[2]["ok"]["name"] == "alice" and answers[2]["ok"]["status"] == "Gone fishing"
    assert isinstance(answers[2]["ok"]["setAt"], float)
    assert answers[3] == {"remote": WRITE_REFUSED, "message": "alice may not write the status of bob"}
    assert answers[4] == {"ok": "Gone fishing"}
    assert finger(service.port(), "alice") == "Gone fishing\r\n"
    assert "forged" not in finger(service.port(), "bob")
    # One query-log event per write: who, whose, the outcome; no secret.
    service.waitForLog(r"pb write 'setStatus' of 'alice' by alice from 127\.0\.0\.1:\d+: set")
    service.waitForLog(r"pb write 'setStatus' of 'bob' by alice from 127\.0\.0\.1:\d+: refused")
    assert PASSWORDS["alice"] not in service.log


def test_badPasswordUnknownNameAndNoLogin(service):
    answers = pbClient(
        service.port("pb"),
        ["login", "alice", "wrong password"],
        ["login", "nobody-here", "whatever"],
        ["call", "setStatus", "forged"],
        ["call", "setUser", "alice", "forged"],
    )
    # The same answer for a wrong password and an unknown name.
    assert answers[0] == answers[1] == {"remote": LOGIN_REFUSED, "message": FAILED}
    # The root has no write method: without logging in there is nothing to call.
    assert answers[2] == {"remote": BAD_CALL, "message": "no such method: setStatus"}
    assert answers[3] == {"remote": BAD_CALL, "message": "no such method: setUser"}
    assert "wrong password" not in service.log


def test_tokenLoginOverTLS(service):
    token = adminOutput(service.store, "token", "bob")
    answers = pbClient(
        service.tls,
        ["login", "bob", token],
        ["account", "setStatus", "Set over TLS with a token"],
    )
    assert answers[0] == {"ok": "logged in"}
    assert answers[1]["ok"]["status"] == "Set over TLS with a token"
    assert finger(service.port(), "bob") == "Set over TLS with a token\r\n"
    assert token not in service.log


def test_loginLapsesAfterFingerAdmin(service):
    """
    A connection that logged in stays so, but its writes are checked again:
    after finger-admin revoke (a token login), passwd (a password login) or
    deluser, the account object's writes are refused with the reason.
    """
    adminOutput(service.store, "adduser", "carol", stdin="carol's first secret\n")
    adminOutput(service.store, "adduser", "dave", stdin="dave's secret\n")
    token = adminOutput(service.store, "token", "bob")
    steps = [
        ["login", "bob", token],
        ["account", "setStatus", "bob before revoke"],
        ["pause"],  # finger-admin revoke bob
        ["account", "setStatus", "bob after revoke"],
    ]
    answers = pbClientPausing(service.port("pb"), steps, [lambda: adminOutput(service.store, "revoke", "bob")])
    assert answers[0] == {"ok": "logged in"}
    assert answers[1]["ok"]["status"] == "bob before revoke"
    assert answers[2] == {"remote": WRITE_REFUSED, "message": LAPSED}
    assert finger(service.port(), "bob") == "bob before revoke\r\n"

    steps = [
        ["login", "carol", "carol's first secret"],
        ["account", "setStatus", "carol before passwd"],
        ["pause"],  # finger-admin passwd carol
        ["account", "setStatus", "carol after passwd"],
        ["login", "carol", "carol's new secret"],
        ["account", "setStatus", "carol with the new password"],
    ]
    change = [lambda: adminOutput(service.store, "passwd", "carol", stdin="carol's new secret\n")]
    answers = pbClientPausing(service.port("pb"), steps, change)
    assert answers[1]["ok"]["status"] == "carol before passwd"
    assert answers[2] == {"remote": WRITE_REFUSED, "message": LAPSED}
    assert answers[3] == {"ok": "logged in"}
    assert answers[4]["ok"]["status"] == "carol with the new password"

    steps = [
        ["login", "dave", "dave's secret"],
        ["pause"],  # finger-admin deluser dave
        ["account", "setStatus", "dave after deluser"],
    ]
    answers = pbClientPausing(service.port("pb"), steps, [lambda: adminOutput(service.store, "deluser", "dave")])
    assert answers[0] == {"ok": "logged in"}
    assert answers[1] == {"remote": WRITE_REFUSED, "message": LAPSED}
    assert "after" not in finger(service.port(), "bob") + finger(service.port(), "carol")
    service.waitForLog(r"pb write 'setStatus' of 'dave' by dave from 127\.0\.0\.1:\d+: refused")
