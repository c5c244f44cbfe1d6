"""
End to end: accounts and authenticated writes on a real C{twistd -n finger
--store}: accounts made by the real C{finger-admin} (a subprocess, the
password on its standard input), statuses written with curl (JSON, a
token), xmlrpc.client over HTTPS with a throwaway CA (Basic, a token or a
password) and zeep (SOAP setStatus), then read back over the finger
protocol.  Throttling kicks in and lifts; no password or token reaches the
log.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import xmlrpc.client

import pytest

from tests.helpers.accountcli import TIMEOUT, admin, curl
from tests.helpers.support import LOOPBACK0, finger
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

PASSWORDS = {"alice": "correct horse battery", "bob": "bob's own secret", "root": "root pw 123"}


@pytest.fixture
def accounts(tmp_path):
    """A store with accounts alice, bob and root (admin), and a token each for alice and bob."""
    store = tmp_path / "status.db"
    for name, password in PASSWORDS.items():
        extra = ["--admin"] if name == "root" else []
        done = admin(store, "adduser", name, *extra, stdin=password + "\n")
        assert done.returncode == 0, done.stderr
        assert done.stderr == f"finger-admin: created {'admin account' if extra else 'account'} {name}\n"
    tokens = {}
    for name in ("alice", "bob"):
        done = admin(store, "token", name)
        assert done.returncode == 0, done.stderr
        tokens[name] = done.stdout.strip()
        assert tokens[name].startswith("fngr_")
    return store, tokens


@pytest.fixture
def certificates(tmp_path):
    return makeCertificates(str(tmp_path / "tls"))


def startStore(startFinger, store, certificates, *extra):
    https = f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    service = startFinger(
        "--store", str(store), "--finger", LOOPBACK0, "--setter", "none",
        "--web", LOOPBACK0, "--https", https, *extra, expect=("finger", "web", "https"),
    )
    service.web = f"http://127.0.0.1:{service.port('web')}"
    service.https = f"https://{HOSTNAME}:{service.port('https')}"
    return service


def assertNoSecrets(log: str, tokens: dict[str, str]) -> None:
    secrets = [*PASSWORDS.values(), *tokens.values()]
    secrets += [base64.b64encode(f"{n}:{p}".encode()).decode() for n, p in PASSWORDS.items()]
    secrets += [token[len("fngr_") + 13:] for token in tokens.values()]  # their secret parts
    for secret in secrets:
        assert len(secret) >= 10 and secret not in log


def test_tokenWritesWithCurl(startFinger, accounts, certificates):
    store, tokens = accounts
    service = startStore(startFinger, store, certificates)
    url = f"{service.web}/api/users/alice/status"
    bearer = f"Authorization: Bearer {tokens['alice']}"

    code, _, body = curl(url, "-X", "PUT", "-H", bearer, "--data", '{"status": "Gone fishing"}')
    assert code == 200, body
    document = json.loads(body)
    assert (document["name"], document["status"]) == ("alice", "Gone fishing")
    assert abs(document["setAt"] - time.time()) < 60
    assert "Gone fishing" in finger(service.port(), "alice")

    # Without a token: 401 and the challenge.
    code, headers, body = curl(url, "-X", "PUT", "--data", '{"status": "forged"}')
    assert code == 401 and headers["www-authenticate"].startswith("Bearer")
    assert headers["content-type"] == "application/json"
    assert "credentials" in json.loads(body)["error"]
    # A wrong token: 401 too.
    code, headers, _ = curl(url, "-X", "PUT", "-H", "Authorization: Bearer fngr_nonsense",
                            "--data", '{"status": "forged"}')
    assert code == 401 and 'error="invalid_token"' in headers["www-authenticate"]
    # bob's token on alice's status: 403.
    code, _, body = curl(url, "-X", "PUT", "-H", f"Authorization: Bearer {tokens['bob']}",
                         "--data", '{"status": "forged"}')
    assert code == 403 and json.loads(body) == {"error": "bob may not write the status of alice"}
    # Bad JSON, a missing field, too long: 400, JSON errors.
    for data in ['{"status": ', '{"plan": "x"}', '["x"]',
                 json.dumps({"status": "x" * (64 * 1024 + 1)})]:
        code, headers, body = curl(url, "-X", "PUT", "-H", bearer, "--data-binary", data)
        assert code == 400 and headers["content-type"] == "application/json", data[:20]
        assert json.loads(body)["error"]
    assert "Gone fishing" in finger(service.port(), "alice")
    assert "forged" not in finger(service.port(), "alice")

    # An admin (root, by password over Basic) may write anyone's; DELETE clears.
    code, _, _ = curl(f"{service.web}/api/users/bob/status", "-X", "PUT",
                      "--user", f"root:{PASSWORDS['root']}", "--data", '{"status": "Set by root"}')
    assert code == 200 and "Set by root" in finger(service.port(), "bob")
    code, _, body = curl(url, "-X", "DELETE", "-H", bearer)
    assert code == 200 and json.loads(body) == {"name": "alice", "status": None, "setAt": None}
    assert "Gone fishing" not in finger(service.port(), "alice")

    # A revoked token stops working at once (finger-admin writes while the service runs).
    assert admin(store, "revoke", "alice").returncode == 0
    code, _, _ = curl(url, "-X", "PUT", "-H", bearer, "--data", '{"status": "again"}')
    assert code == 401

    # Each write is one query-log event naming who and whose; no secret anywhere.
    service.waitForLog(r"api write 'DELETE /api/users/alice/status' of 'alice' by alice from 127\.0\.0\.1:\d+: 200 cleared")
    service.waitForLog(r"api write 'PUT /api/users/alice/status' of 'alice' by bob .*: 403 forbidden")
    service.waitForLog(r"api write 'PUT /api/users/alice/status' of 'alice' by nobody .*: 401 no credentials")
    # The query log is written in batches (within a second): wait for all 11.
    def writes() -> int:
        return len([line for line in service.log.splitlines() if "api write" in line])

    service.waitFor(lambda: writes() >= 11, what="the eleven write events")
    assert writes() == 11
    assertNoSecrets(service.log, tokens)


def test_xmlrpcOverHTTPS(startFinger, accounts, certificates):
    store, tokens = accounts
    service = startStore(startFinger, store, certificates)
    context = ssl.create_default_context(cafile=certificates.ca)
    base = f"https://{{}}@{HOSTNAME}:{service.port('https')}/RPC2"

    proxy = xmlrpc.client.ServerProxy(base.format(f"alice:{tokens['alice']}"), context=context)
    assert proxy.setUser("alice", "Gone fishing") is True
    assert "Gone fishing" in finger(service.port(), "alice")
    password = xmlrpc.client.ServerProxy(base.format("alice:" + PASSWORDS["alice"].replace(" ", "%20")), context=context)
    assert password.setUser("alice", "By password") is True
    assert "By password" in finger(service.port(), "alice")

    cases = [
        (xmlrpc.client.ServerProxy(f"https://{HOSTNAME}:{service.port('https')}/RPC2", context=context), "alice", 4, "credentials"),
        (xmlrpc.client.ServerProxy(base.format("alice:wrong"), context=context), "alice", 4, "wrong name, password or token"),
        (xmlrpc.client.ServerProxy(base.format(f"alice:{tokens['bob']}"), context=context), "alice", 4, "wrong name, password or token"),
        (proxy, "bob", 5, "alice may not write the status of bob"),
    ]
    for client, target, code, message in cases:
        with pytest.raises(xmlrpc.client.Fault) as raised:
            client.setUser(target, "forged")
        assert raised.value.faultCode == code and message in raised.value.faultString
    assert "forged" not in finger(service.port(), "alice") + finger(service.port(), "bob")
    service.waitForLog(r"xmlrpc write \"setUser\('bob', 'forged'\)\" of 'bob' by alice .*fault 5")
    assertNoSecrets(service.log, tokens)


def test_soapSetStatus(startFinger, accounts, certificates):
    zeep = pytest.importorskip("zeep")
    requests = pytest.importorskip("requests")
    store, tokens = accounts
    service = startStore(startFinger, store, certificates)

    def client(auth=None):
        session = requests.Session()
        session.auth = auth
        transport = zeep.transports.Transport(session=session, timeout=TIMEOUT)
        return zeep.Client(f"{service.web}/soap?wsdl", transport=transport)

    result = client(("alice", tokens["alice"])).service.setStatus(name="alice", status="Via SOAP")
    assert (result.name, result.status) == ("alice", "Via SOAP")
    assert abs(result.setAt - time.time()) < 60
    assert "Via SOAP" in finger(service.port(), "alice")
    result = client(("root", PASSWORDS["root"])).service.setStatus(name="bob", status="root was here")
    assert "root was here" in finger(service.port(), "bob")

    for auth, target, message in [
        (None, "alice", "setStatus: this needs credentials"),
        (("alice", "wrong"), "alice", "setStatus: wrong name, password or token"),
        (("alice", tokens["alice"]), "bob", "setStatus: alice may not write the status of bob"),
    ]:
        with pytest.raises(zeep.exceptions.Fault) as raised:
            client(auth).service.setStatus(name=target, status="forged")
        assert raised.value.code.endswith("Client") and raised.value.message.startswith(message)
    assert "forged" not in finger(service.port(), "alice") + finger(service.port(), "bob")
    assertNoSecrets(service.log, tokens)


def test_throttlingKicksInAndLifts(startFinger, accounts, certificates):
    store, tokens = accounts
    window = 4
    service = startStore(startFinger, store, certificates,
                         "--login-max-failures", "3", "--login-window", str(window))
    url = f"{service.web}/api/users/alice/status"
    data = ["--data", '{"status": "after the wait"}']
    started = time.monotonic()
    for _ in range(3):
        code, _, _ = curl(url, "-X", "PUT", "--user", "alice:wrong", *data)
        assert code == 401
    # Now even the right password is refused, saying how long to wait.
    code, headers, body = curl(url, "-X", "PUT", "--user", f"alice:{PASSWORDS['alice']}", *data)
    assert code == 429
    assert 1 <= int(headers["retry-after"]) <= window
    assert f"try again in {headers['retry-after']} seconds" in json.loads(body)["error"]
    # An unknown name gets the same answers.
    for _ in range(3):
        assert curl(url, "-X", "PUT", "--user", "nobody:wrong", *data)[0] in (401, 429)
    # XML-RPC tells the same (a fault), from the same address.
    proxy = xmlrpc.client.ServerProxy(f"http://alice:{tokens['alice']}@127.0.0.1:{service.port('web')}/RPC2")
    with pytest.raises(xmlrpc.client.Fault) as raised:
        proxy.setUser("alice", "x")
    assert raised.value.faultCode == 6 and "try again in" in raised.value.faultString
    # It lifts after the window.
    time.sleep(max(0, window + 0.5 - (time.monotonic() - started)))
    deadline = time.monotonic() + window + 5
    while True:
        code, _, _ = curl(url, "-X", "PUT", "--user", f"alice:{PASSWORDS['alice']}", *data)
        if code != 429 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert code == 200
    assert "after the wait" in finger(service.port(), "alice")
    assertNoSecrets(service.log, tokens)


def test_noAccountsWithMemory(startFinger):
    service = startFinger("--memory", "--user", "alice=Happy", "--web", LOOPBACK0, expect=("finger", "web"))
    code, _, body = curl(f"http://127.0.0.1:{service.port('web')}/api/users/alice/status",
                         "-X", "PUT", "-H", "Authorization: Bearer x", "--data", '{"status": "x"}')
    assert code == 403
    assert json.loads(body)["error"].startswith("no accounts configured")
    proxy = xmlrpc.client.ServerProxy(f"http://alice:x@127.0.0.1:{service.port('web')}/RPC2")
    with pytest.raises(xmlrpc.client.Fault) as raised:
        proxy.setUser("alice", "x")
    assert raised.value.faultCode == 8 and "no accounts configured" in raised.value.faultString
