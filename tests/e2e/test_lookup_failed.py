"""
End to end: a real C{twistd -n finger} whose backend cannot get a status
(L{finger.interfaces.LookupFailed}) shows why over the web, the JSON API and
XML-RPC; and the web never forwards C{user@host} (only finger does).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xmlrpc.client

from tests.helpers.rawservers import Canned
from tests.helpers.statusserver import StatusServer
from tests.helpers.support import LOOPBACK0, finger
from tests.helpers.tlsca import CertificateAuthority

TIMEOUT = 30


def fetch(url: str) -> tuple[int, str, str]:
    """GET C{url}: (status, content type, body text), whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers["Content-Type"], e.read().decode()


def test_webShowsWhyTheStatusServerFailed(startFinger, tmp_path):
    ca = CertificateAuthority(tmp_path)
    with StatusServer(*ca.issue("localhost")) as server:
        service = startFinger(
            "--web-status", f"https://localhost:{server.port}/{{user}}.txt",
            "--web-status-ca", str(ca.path),
            "--finger", "none", "--web", LOOPBACK0,
            expect=("web",),
        )
        base = f"http://127.0.0.1:{service.port('web')}"
        reason = f"Error: status server localhost:{server.port} answered 500 Internal Server Error"

        code, _, body = fetch(f"{base}/api/users/alice")
        assert (code, json.loads(body)) == (200, {"name": "alice", "status": "Web alice"})
        code, contentType, body = fetch(f"{base}/api/users/broken")
        assert (code, contentType, json.loads(body)) == (502, "application/json", {"error": reason})
        code, contentType, body = fetch(f"{base}/broken")
        assert (code, contentType) == (502, "text/html; charset=utf-8")
        assert "<title>Lookup failed · finger</title>" in body
        assert f"The status of broken is kept elsewhere, and asking for it failed. {reason}" in body
        rpc = xmlrpc.client.ServerProxy(f"{base}/RPC2")
        try:
            rpc.getUser("broken")
        except xmlrpc.client.Fault as fault:
            assert (fault.faultCode, fault.faultString) == (3, reason)
        else:
            raise AssertionError("getUser('broken') did not fail")

        service.waitForLog(rf"api query 'GET /api/users/broken' from .*: 502 {reason} ")
        service.waitForLog(r"xmlrpc query \"getUser\('broken'\)\" from .*: 200 fault 3: ")
        assert "Traceback" not in service.log


def test_onlyFingerForwards(startFinger):
    with Canned(b"Far away\r\n") as far:
        target = f"alice@127.0.0.1:{far.port}"
        service = startFinger(
            "--proxy", "--forward-allow", f"127.0.0.1:{far.port}",
            "--finger", LOOPBACK0, "--web", LOOPBACK0,
            expect=("finger", "web"),
        )
        base = f"http://127.0.0.1:{service.port('web')}"
        code, _, body = fetch(f"{base}/api/users/{target}")
        assert (code, json.loads(body)) == (404, {"error": f"no such user: {target}"})
        assert fetch(f"{base}/{target}")[0] == 404
        assert far.queries == []
        # The finger frontend of the same proxy does forward.
        assert finger(service.port(), target) == "Far away\r\n"
        assert far.queries == [b"alice\r\n"]
