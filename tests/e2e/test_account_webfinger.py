"""
End to end: a user sets her own WebFinger links with curl and an API token
on a real C{twistd -n finger --store} (accounts made by the real
C{finger-admin}), is refused for another user's links (403) and for bad or
oversized JSON (400), and then a real fediverse WebFinger client (Fedify's
C{lookupWebFinger} on node, as in test_reverse_proxy) resolves
C{acct:alice@localhost:PORT} over finger's own HTTPS listener (the
throwaway CA trusted through C{NODE_EXTRA_CA_CERTS}) to the actor URL she
set.  The operator's C{--webfinger} file wins on the same C{rel}.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.helpers.accountcli import admin, curl
from tests.helpers.support import LOOPBACK0, REPO
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates

NODE_DIR = REPO / "tests" / "node"
ACTOR = "https://social.example/users/alice"
OPERATOR_BOB = "https://operator.example/users/bob"
ENTRY = {
    "aliases": ["https://social.example/@alice"],
    "links": [{"rel": "self", "type": "application/activity+json", "href": ACTOR}],
}


@pytest.fixture
def node(startFinger, tmp_path):
    """finger with accounts alice and bob (a token each), HTTPS, and an operator's file for bob."""
    store = tmp_path / "status.db"
    tokens = {}
    for name in ("alice", "bob"):
        done = admin(store, "adduser", name, stdin=f"{name}'s long password\n")
        assert done.returncode == 0, done.stderr
        done = admin(store, "token", name)
        assert done.returncode == 0, done.stderr
        tokens[name] = done.stdout.strip()
    operatorFile = tmp_path / "webfinger.json"
    operatorFile.write_text(json.dumps({"bob": {"links": [
        {"rel": "self", "type": "application/activity+json", "href": OPERATOR_BOB}]}}))
    files = makeCertificates(str(tmp_path / "tls"))
    os.chmod(tmp_path, 0o755)
    https = f"ssl:0:interface=127.0.0.1:privateKey={files.key}:certKey={files.cert}"
    service = startFinger(
        "--store", str(store), "--finger", "none", "--setter", "none",
        "--web", LOOPBACK0, "--https", https, "--webfinger", str(operatorFile),
        expect=("web", "https"),
    )
    service.base = f"https://{HOSTNAME}:{service.port('https')}"
    service.ca = files.ca
    service.tokens = tokens
    return service


def put(node, name: str, body: bytes, token: str):
    return curl(
        f"{node.base}/api/users/{name}/webfinger", "-X", "PUT",
        "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
        "--data-binary", body.decode("utf-8"), cafile=node.ca,
    )


def fedifyLookup(node, resource: str):
    executable = shutil.which("node")
    assert executable, "node is missing (tests/run.sh installs nodejs)"
    assert (NODE_DIR / "node_modules" / "@fedify" / "webfinger").is_dir(), (
        "run: npm ci --prefix tests/node (tests/run.sh does)"
    )
    result = subprocess.run(
        [executable, "webfinger-lookup.mjs", resource],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, NODE_EXTRA_CA_CERTS=node.ca),
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document is not None, "Fedify found nothing"
    return document


def actors(document) -> list[str]:
    return [link["href"] for link in document.get("links", [])
            if link["rel"] == "self" and link.get("type") == "application/activity+json"]


def test_curlSetsHerLinksAndFedifyResolvesThem(node):
    code, _, body = curl(
        f"{node.base}/api/users/alice/status", "-X", "PUT",
        "-H", f"Authorization: Bearer {node.tokens['alice']}",
        "--data-binary", '{"status": "Tooting"}', cafile=node.ca,
    )
    assert code == 200, body
    code, _, body = put(node, "alice", json.dumps(ENTRY).encode(), node.tokens["alice"])
    assert code == 200, body
    assert json.loads(body)["links"] == ENTRY["links"]

    code, headers, body = curl(f"{node.base}/api/users/alice/webfinger", cafile=node.ca)
    assert code == 200 and json.loads(body)["links"] == ENTRY["links"]
    assert headers["access-control-allow-origin"] == "*" and headers["etag"]

    document = fedifyLookup(node, f"acct:alice@{HOSTNAME}:{node.port('https')}")
    assert actors(document) == [ACTOR]
    assert "https://social.example/@alice" in document["aliases"]
    node.waitForLog(r"api .*alice.*links set")

    code, _, body = curl(
        f"{node.base}/api/users/alice/webfinger", "-X", "DELETE",
        "-H", f"Authorization: Bearer {node.tokens['alice']}", cafile=node.ca,
    )
    assert code == 200, body
    document = fedifyLookup(node, f"acct:alice@{HOSTNAME}:{node.port('https')}")
    assert actors(document) == []
    assert document["properties"]["urn:twisted-finger:status"] == "Tooting"


def test_notBobsLinksAndNotBadOnes(node):
    code, _, body = put(node, "bob", json.dumps(ENTRY).encode(), node.tokens["alice"])
    assert code == 403, body
    assert json.loads(body)["error"] == "alice may not write the WebFinger links of bob"
    for bad, reason in [
        (b'{"links": [{"rel": "self", "href": "not a uri"}]}', "absolute URI"),
        (b'{"links": [', "not valid JSON"),
        (json.dumps({"links": [{"rel": "me"}] * 33}).encode(), "at most 32"),
        (json.dumps({"aliases": ["https://x.example/" + "a" * 17000]}).encode(), "16 KiB"),
    ]:
        code, _, body = put(node, "alice", bad, node.tokens["alice"])
        assert code == 400, body
        assert reason in json.loads(body)["error"]
    code, _, body = curl(f"{node.base}/api/users/alice/webfinger", cafile=node.ca)
    assert json.loads(body)["links"] == []


def test_theOperatorsFileWinsOnTheSameRel(node):
    own = {"links": [{"rel": "self", "type": "application/activity+json",
                      "href": "https://elsewhere.example/bob"},
                     {"rel": "me", "href": "https://bob.example/"}]}
    code, _, body = put(node, "bob", json.dumps(own).encode(), node.tokens["bob"])
    assert code == 200, body
    document = fedifyLookup(node, f"acct:bob@{HOSTNAME}:{node.port('https')}")
    assert actors(document) == [OPERATOR_BOB]
    assert {"rel": "me", "href": "https://bob.example/"} in document["links"]
