"""Unit tests of finger.frontends.web.soap: SOAP 1.1 through a real FingerSite."""

from __future__ import annotations

import io
from xml.etree import ElementTree

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.web import soap
from finger.frontends.web.root import FingerWebRoot, WebSettings
from finger.frontends.web.site import FingerSite
from finger.frontends.web.wsdl import SOAP_ENV, TNS
from finger.interfaces import IFingerService, LookupFailed
from tests.helpers.webclient import RecordingQueryLog, SiteClient

ENV = f"{{{SOAP_ENV}}}"
T = f"{{{TNS}}}"


def call(body: str, header: str = "", envNS: str = SOAP_ENV) -> bytes:
    """An envelope around C{body} (with the tns prefix bound)."""
    return (
        f'<s:Envelope xmlns:s="{envNS}" xmlns:tns="{TNS}">{header}'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def parse(response) -> ElementTree.Element:
    """The Body's child of a response envelope."""
    envelope = ElementTree.fromstring(response.body)
    assert envelope.tag == ENV + "Envelope", response.body
    (body,) = list(envelope)
    (child,) = list(body)
    return child


class SettingsClient(SiteClient):
    """A site whose /soap has the given settings."""

    def __init__(self, users, settings: soap.SOAPSettings) -> None:
        self.service = MemoryFingerService(users)
        resource = frontend(soap.ISOAPResource, self.service, settings)
        self.root = FingerWebRoot(self.service, WebSettings(soap=resource))
        self.clock = MemoryReactorClock()
        self.site = FingerSite(self.root, reactor=self.clock)
        self.queryLog = RecordingQueryLog()
        self.site.queryLog = self.queryLog


class CallTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy\x07 and well", "bob": "Busy", "carol": "Out"})

    def fault(self, body: bytes, code: str) -> ElementTree.Element:
        response = self.client.post("/soap", body)
        self.assertEqual(response.code, 500)
        self.assertEqual(response.header("content-type"), "text/xml; charset=utf-8")
        fault = parse(response)
        self.assertEqual(fault.tag, ENV + "Fault")
        self.assertEqual(fault.findtext("faultcode"), f"soap:{code}")
        self.assertNotIn(b"Traceback", response.body)
        return fault

    def test_getUser(self):
        response = self.client.post("/soap", call("<tns:getUser><tns:name>alice</tns:name></tns:getUser>"))
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header("content-type"), "text/xml; charset=utf-8")
        answer = parse(response)
        self.assertEqual(answer.tag, T + "getUserResponse")
        self.assertEqual(answer.findtext(T + "status"), "Happy and well")

    def test_unqualifiedArgumentsAreAccepted(self):
        response = self.client.post("/soap", call("<tns:getUser><name>bob</name></tns:getUser>"))
        self.assertEqual(parse(response).findtext(T + "status"), "Busy")

    def test_getUsers(self):
        answer = parse(self.client.post("/soap", call("<tns:getUsers/>")))
        self.assertEqual([e.text for e in answer.findall(T + "name")], ["alice", "bob", "carol"])
        self.assertEqual(answer.findtext(T + "total"), "3")
        answer = parse(self.client.post("/soap", call(
            "<tns:getUsers><tns:offset>1</tns:offset><tns:limit> 1 </tns:limit></tns:getUsers>"
        )))
        self.assertEqual([e.text for e in answer.findall(T + "name")], ["bob"])
        self.assertEqual(answer.findtext(T + "total"), "3")

    def test_unknownUser(self):
        fault = self.fault(call("<tns:getUser><tns:name>zed</tns:name></tns:getUser>"), "Client")
        self.assertEqual(fault.findtext("faultstring"), "no such user: zed")
        self.assertEqual(fault.findtext(f"detail/{T}userFault/{T}name"), "zed")

    def test_forwardingIsAnUnknownUser(self):
        fault = self.fault(call("<tns:getUser><tns:name>a@b</tns:name></tns:getUser>"), "Client")
        self.assertEqual(fault.findtext("faultstring"), "no such user: a@b")

    def test_badArguments(self):
        for body, message in [
            ("<tns:getUser/>", "getUser: missing argument name"),
            ("<tns:getUser><tns:name>a</tns:name><tns:name>b</tns:name></tns:getUser>",
             "getUser: name given more than once"),
            ("<tns:getUser><tns:nom>a</tns:nom></tns:getUser>",
             f"getUser: unexpected argument {T}nom"),
            ("<tns:getUser><tns:name><b>x</b></tns:name></tns:getUser>",
             "getUser: name must be text, not elements"),
            ("<tns:getUsers><tns:offset>-1</tns:offset></tns:getUsers>",
             "getUsers: offset must be 0 or more, not -1"),
            ("<tns:getUsers><tns:limit>0</tns:limit></tns:getUsers>",
             "getUsers: limit must be from 1 to 1000, not 0"),
            ("<tns:getUsers><tns:limit>1_0</tns:limit></tns:getUsers>",
             "getUsers: limit must be an integer, not '1_0'"),
        ]:
            fault = self.fault(call(body), "Client")
            self.assertEqual(fault.findtext("faultstring"), message)

    def test_unknownOperation(self):
        fault = self.fault(call("<tns:dropTables/>"), "Client")
        self.assertEqual(fault.findtext("faultstring"), f"unknown operation: {T}dropTables")
        fault = self.fault(call('<x:getUser xmlns:x="urn:other"/>'), "Client")
        self.assertEqual(fault.findtext("faultstring"), "unknown operation: {urn:other}getUser")

    def test_notOneCall(self):
        self.fault(call(""), "Client")
        self.fault(call("<tns:getUsers/><tns:getUsers/>"), "Client")
        self.fault(b"<notSoap/>", "Client")
        fault = self.fault(b'<s:Envelope xmlns:s="' + SOAP_ENV.encode() + b'"/>', "Client")
        self.assertIn("Body", fault.findtext("faultstring"))

    def test_soap12IsAVersionMismatch(self):
        body = call("<tns:getUsers/>", envNS="http://www.w3.org/2003/05/soap-envelope")
        self.fault(body, "VersionMismatch")

    def test_mustUnderstand(self):
        header = (
            '<s:Header><w:Security xmlns:w="urn:sec" s:mustUnderstand="1"/></s:Header>'
        )
        fault = self.fault(call("<tns:getUsers/>", header), "MustUnderstand")
        self.assertEqual(fault.findtext("faultstring"), "header {urn:sec}Security not understood")

    def test_headersWeNeedNotUnderstand(self):
        for header in [
            '<s:Header><w:Hint xmlns:w="urn:x"/></s:Header>',
            '<s:Header><w:Hint xmlns:w="urn:x" s:mustUnderstand="0"/></s:Header>',
            '<s:Header><w:Hint xmlns:w="urn:x" s:mustUnderstand="1" s:actor="urn:other"/>'
            "</s:Header>",
        ]:
            response = self.client.post("/soap", call("<tns:getUsers/>", header))
            self.assertEqual(response.code, 200, header)

    def test_malformedXML(self):
        fault = self.fault(b"<s:Envelope", "Client")
        self.assertTrue(fault.findtext("faultstring").startswith("malformed XML: "))

    def test_entityBombAndDTDs(self):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + call("<tns:getUser><tns:name>&b;</tns:name></tns:getUser>")
        )
        fault = self.fault(bomb, "Client")
        self.assertEqual(
            fault.findtext("faultstring"), "malformed XML: forbidden XML construct (DTDForbidden)"
        )
        external = b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
        self.fault(external, "Client")

    def test_bounds(self):
        deep = b"<a>" * 5000 + b"</a>" * 5000
        fault = self.fault(deep, "Client")
        self.assertEqual(
            fault.findtext("faultstring"), "malformed XML: elements nested deeper than 32"
        )
        many = call("<tns:getUsers>" + "<x/>" * 2000 + "</tns:getUsers>")
        fault = self.fault(many, "Client")
        self.assertEqual(fault.findtext("faultstring"), "malformed XML: more than 1000 elements")
        big = call("<tns:getUser><tns:name>" + "x" * soap.MAX_ENVELOPE + "</tns:name></tns:getUser>")
        fault = self.fault(big, "Client")
        self.assertEqual(fault.findtext("faultstring"), "envelope larger than 65536 bytes")

    def test_controlsInTheAnswerAreDroppedAndEscaped(self):
        client = SiteClient({"eve": "<b>&amp;</b>\x00"})
        answer = parse(client.post("/soap", call("<tns:getUser><tns:name>eve</tns:name></tns:getUser>")))
        self.assertEqual(answer.findtext(T + "status"), "<b>&amp;</b>")

    def test_oneQueryLogEventPerCall(self):
        self.client.post("/soap", call("<tns:getUser><tns:name>alice</tns:name></tns:getUser>"))
        self.client.post("/soap", call("<tns:getUser><tns:name>zed</tns:name></tns:getUser>"))
        self.client.post("/soap", b"<x")
        records = self.client.queryLog.records
        self.assertEqual([r[0] for r in records], ["soap"] * 3)
        self.assertEqual(records[0][2:], ("getUser(name='alice')", "200 answered"))
        self.assertEqual(
            records[1][2:], ("getUser(name='zed')", "500 fault soap:Client: no such user: zed")
        )
        self.assertEqual(records[2][2], "POST /soap")
        self.assertTrue(records[2][3].startswith("500 fault soap:Client: malformed XML"))


@implementer(IFingerService)
class FailingService:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def getUser(self, name):
        return defer.fail(self.error)

    def getUsers(self):
        return defer.fail(self.error)


class ServerFaultTests(TestCase):
    def test_lookupFailedIsAServerFault(self):
        client = SiteClient(service=FailingService(LookupFailed("Error: status server down")))
        response = client.post("/soap", call("<tns:getUser><tns:name>alice</tns:name></tns:getUser>"))
        self.assertEqual(response.code, 500)
        fault = parse(response)
        self.assertEqual(fault.findtext("faultcode"), "soap:Server")
        self.assertEqual(fault.findtext("faultstring"), "Error: status server down")
        self.assertEqual(fault.findtext(f"detail/{T}userFault/{T}name"), "alice")

    def test_anyOtherBackendErrorIsAServerFaultWithoutTraceback(self):
        client = SiteClient(service=FailingService(RuntimeError("secret internals")))
        for body in ["<tns:getUser><tns:name>a</tns:name></tns:getUser>", "<tns:getUsers/>"]:
            response = client.post("/soap", call(body))
            fault = parse(response)
            self.assertEqual(fault.findtext("faultcode"), "soap:Server")
            self.assertEqual(fault.findtext("faultstring"), "the backend could not answer")
            self.assertNotIn(b"secret", response.body)
        self.flushLoggedErrors()


class GetTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy"})

    def test_wsdlAddressIsTheURLTheClientUsed(self):
        response = self.client.get("/soap?wsdl", host="finger.example:8000")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.header("content-type"), "text/xml; charset=utf-8")
        document = ElementTree.fromstring(response.body)
        address = document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
        self.assertEqual(address.get("location"), "http://finger.example:8000/soap")
        secure = self.client.get("/soap?WSDL", secure=True, host="[::1]:8443")
        self.assertIn(b'location="https://[::1]:8443/soap"', secure.body)

    def test_aStrangeHostHeaderIsNotEchoed(self):
        response = self.client.get("/soap?wsdl", host='evil"><x')
        self.assertIn(b'location="http://127.0.0.1:8000/soap"', response.body)

    def test_configuredAddress(self):
        client = SettingsClient({}, soap.SOAPSettings(address="https://proxy.example/finger/soap"))
        response = client.get("/soap?wsdl")
        self.assertIn(b'location="https://proxy.example/finger/soap"', response.body)

    def test_plainGetPointsToTheWSDL(self):
        response = self.client.get("/soap")
        self.assertEqual(response.code, 200)
        self.assertIn("http://127.0.0.1:8000/soap?wsdl", response.text)
        self.assertEqual(response.header("link"), '<http://127.0.0.1:8000/soap?wsdl>; rel="describedby"')
        self.assertEqual(self.client.get("/soap/x").code, 404)

    def test_soapIsAReservedPath(self):
        client = SiteClient({"soap": "Clean"})
        self.assertNotIn(b'href="/soap"', client.get("/").body)


class TraceTests(TestCase):
    def test_envelopesAreTracedWithPeerAndTime(self):
        file = io.StringIO()
        trace = soap.SOAPTrace(file, now=lambda: 86400.0)
        client = SettingsClient({"alice": "Happy"}, soap.SOAPSettings(trace=trace))
        request = call("<tns:getUser><tns:name>alice</tns:name></tns:getUser>")
        head = (
            "POST /soap HTTP/1.1\r\nHost: x\r\nAuthorization: Basic c2VjcmV0OnNlY3JldA==\r\n"
            f"Content-Length: {len(request)}\r\nConnection: close\r\n\r\n"
        )
        client.exchange(head.encode() + request)
        text = file.getvalue()
        self.assertIn("--- 1970-01-02T00:00:00Z request from 127.0.0.1:40000\n", text)
        self.assertIn(request.decode(), text)
        self.assertIn("--- 1970-01-02T00:00:00Z response 200 to 127.0.0.1:40000\n", text)
        self.assertIn("<tns:status>Happy</tns:status>", text)
        self.assertNotIn("c2VjcmV0", text)
        self.assertNotIn("Authorization", text)

    def test_controlsAreNotWritten(self):
        file = io.StringIO()
        soap.SOAPTrace(file).request("peer", b"<a>\x1b[31m</a>\n")
        self.assertNotIn("\x1b", file.getvalue())


class AdapterTests(TestCase):
    def test_adapters(self):
        service = MemoryFingerService({})
        self.assertIsInstance(soap.ISOAPResource(service), soap.SOAPResource)
        settings = soap.SOAPSettings(address="http://x/soap")
        resource = frontend(soap.ISOAPResource, service, settings)
        self.assertIs(resource.settings, settings)
