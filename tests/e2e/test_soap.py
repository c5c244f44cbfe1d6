"""
End to end: SOAP 1.1 at /soap of a real C{twistd -n finger}, called by a
real SOAP client (zeep, built from the served WSDL, run synchronously in the
test process) and by raw envelopes for what no well-behaved client sends.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from xml.etree import ElementTree

import pytest

zeep = pytest.importorskip("zeep")
requests = pytest.importorskip("requests")

from tests.helpers.statusserver import StatusServer  # noqa: E402
from tests.helpers.support import LOOPBACK0  # noqa: E402
from tests.helpers.tlsca import CertificateAuthority  # noqa: E402
from tests.helpers.tlsfiles import HOSTNAME, makeCertificates  # noqa: E402

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:twisted-finger:soap"
USERS = ["--user", "alice=Happy and well", "--user", "bob=Out to lunch"]
WEB = ["--finger", "none", "--setter", "none", "--web", LOOPBACK0]
TIMEOUT = 30


def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers["Content-Type"], e.read()


def envelope(body: str, header: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:t="{TNS}">{header}'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def faultOf(answer: tuple[int, str, bytes]) -> tuple[str, str]:
    code, contentType, body = answer
    assert (code, contentType) == (500, "text/xml; charset=utf-8"), answer
    assert b"Traceback" not in body
    fault = ElementTree.fromstring(body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def rss(pid: int) -> int:
    """The process's resident memory, in kB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def soap(startFinger, tmp_path):
    trace = tmp_path / "soap.trace"
    service = startFinger("--memory", *USERS, *WEB, "--soap-trace", str(trace), expect=("web",))
    service.url = f"http://127.0.0.1:{service.port('web')}/soap"
    service.trace = trace
    return service


def test_zeepCallsEveryOperation(soap):
    client = zeep.Client(soap.url + "?wsdl")
    assert client.service.getUser(name="alice") == "Happy and well"
    result = client.service.getUsers(offset=0, limit=10)
    assert (result.name, result.total) == (["alice", "bob"], 2)
    result = client.service.getUsers(offset=1, limit=1)
    assert (result.name, result.total) == (["bob"], 2)
    assert client.service.getUsers().name == ["alice", "bob"]

    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.getUser(name="nobody")
    fault = caught.value
    assert (fault.code, fault.message) == ("soap:Client", "no such user: nobody")
    assert fault.detail.findtext(f"{{{TNS}}}userFault/{{{TNS}}}name") == "nobody"

    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.getUsers(offset=0, limit=5000)
    assert (caught.value.code, caught.value.message) == (
        "soap:Client", "getUsers: limit must be from 1 to 1000, not 5000"
    )
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.getUsers(offset=-3)
    assert caught.value.code == "soap:Client"

    soap.waitForLog(r"soap query \"getUser\(name='alice'\)\" from 127\.0\.0\.1:\d+: 200 answered")
    soap.waitForLog(r"soap query \"getUser\(name='nobody'\)\" from .*: 500 fault soap:Client")
    trace = soap.trace.read_text()
    assert "request from 127.0.0.1:" in trace and "<tns:status>Happy and well</tns:status>" in trace


def test_lookupFailedIsAServerFault(startFinger, tmp_path):
    ca = CertificateAuthority(tmp_path)
    with StatusServer(*ca.issue("localhost")) as server:
        service = startFinger(
            "--web-status", f"https://localhost:{server.port}/{{user}}.txt",
            "--web-status-ca", str(ca.path), *WEB, expect=("web",),
        )
        client = zeep.Client(f"http://127.0.0.1:{service.port('web')}/soap?wsdl")
        assert client.service.getUser(name="alice") == "Web alice"
        with pytest.raises(zeep.exceptions.Fault) as caught:
            client.service.getUser(name="broken")
        reason = f"Error: status server localhost:{server.port} answered 500 Internal Server Error"
        assert (caught.value.code, caught.value.message) == ("soap:Server", reason)
        assert caught.value.detail.findtext(f"{{{TNS}}}userFault/{{{TNS}}}name") == "broken"
    assert "Traceback" not in service.log


def test_rawEnvelopes(soap):
    getAlice = envelope("<t:getUser><t:name>alice</t:name></t:getUser>")
    assert faultOf(post(soap.url, b"<s:Envelope><unclosed>"))[0] == "soap:Client"
    assert faultOf(post(soap.url, envelope("<t:dropTables/>"))) == (
        "soap:Client", f"unknown operation: {{{TNS}}}dropTables"
    )
    header = '<s:Header><w:Security xmlns:w="urn:sec" s:mustUnderstand="1"/></s:Header>'
    assert faultOf(post(soap.url, envelope("<t:getUsers/>", header))) == (
        "soap:MustUnderstand", "header {urn:sec}Security not understood"
    )
    code, contentType, body = post(soap.url, getAlice)
    assert (code, contentType) == (200, "text/xml; charset=utf-8")
    assert b"<tns:status>Happy and well</tns:status>" in body


def test_hostileXMLIsRefusedWithBoundedMemory(soap):
    pid = soap.process.pid
    before = rss(pid)
    laughs = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY l0 "lol">{laughs}]>'
    ).encode() + envelope("<t:getUser><t:name>&l9;</t:name></t:getUser>")
    deep = b"<a>" * 100_000 + b"</a>" * 100_000  # 700 kB: under the site's 1 MiB
    external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    for _ in range(20):
        assert faultOf(post(soap.url, bomb)) == (
            "soap:Client", "malformed XML: forbidden XML construct (DTDForbidden)"
        )
        assert faultOf(post(soap.url, deep))[0] == "soap:Client"
        code, _, body = post(soap.url, external)
        assert code == 500 and b"root:" not in body
    tooBig = envelope("<t:getUser><t:name>" + "x" * (2 * 1024 * 1024) + "</t:name></t:getUser>")
    code, _, _ = post(soap.url, tooBig)
    assert code == 413
    assert rss(pid) - before < 30_000  # kB: nothing expanded, nothing kept
    # ... and the service keeps answering.
    client = zeep.Client(soap.url + "?wsdl")
    assert client.service.getUser(name="bob") == "Out to lunch"


def test_wsdlAndItsAddress(startFinger):
    service = startFinger(
        "--memory", *USERS, *WEB, "--soap-address", "https://finger.example/api/soap",
        expect=("web",),
    )
    url = f"http://127.0.0.1:{service.port('web')}/soap"
    with urllib.request.urlopen(url + "?wsdl", timeout=TIMEOUT) as response:
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert b'location="https://finger.example/api/soap"' in response.read()
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert "https://finger.example/api/soap?wsdl" in response.read().decode()


def test_soapOverHTTPS(startFinger, tmp_path):
    certificates = makeCertificates(str(tmp_path / "tls"))
    endpoint = f"ssl:0:interface=127.0.0.1:privateKey={certificates.key}:certKey={certificates.cert}"
    service = startFinger(
        "--memory", *USERS, *WEB, "--https", endpoint, expect=("web", "https")
    )
    session = requests.Session()
    session.verify = certificates.ca
    session.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
    url = f"https://{HOSTNAME}:{service.port('https')}/soap"
    client = zeep.Client(url + "?wsdl", transport=zeep.Transport(session=session))
    # The WSDL gives the HTTPS address the client used, so the call goes there too.
    assert client.service._binding_options["address"] == url
    assert client.service.getUser(name="alice") == "Happy and well"
