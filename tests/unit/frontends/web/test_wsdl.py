"""Unit tests of finger.frontends.web.wsdl: the WSDL document."""

from __future__ import annotations

from xml.etree import ElementTree

from twisted.trial.unittest import TestCase

from finger.frontends.web.soap import OPERATIONS
from finger.frontends.web.wsdl import TNS, WSDL, WSDL_SOAP, XSD, Operation, Part, wsdlDocument

W = f"{{{WSDL}}}"
X = f"{{{XSD}}}"


class WSDLTests(TestCase):
    def setUp(self):
        self.document = ElementTree.fromstring(wsdlDocument("http://h:1/soap?a=1&b=\"", OPERATIONS))

    def test_addressIsEscaped(self):
        address = self.document.find(f"{W}service/{W}port/{{{WSDL_SOAP}}}address")
        self.assertEqual(address.get("location"), 'http://h:1/soap?a=1&b="')

    def test_everyOperationIsDescribed(self):
        names = [op.get("name") for op in self.document.findall(f"{W}portType/{W}operation")]
        self.assertEqual(names, ["getUser", "getUsers", "setStatus"])
        binding = self.document.find(f"{W}binding")
        actions = [
            op.find(f"{{{WSDL_SOAP}}}operation").get("soapAction")
            for op in binding.findall(f"{W}operation")
        ]
        self.assertEqual(actions, [f"{TNS}#getUser", f"{TNS}#getUsers", f"{TNS}#setStatus"])
        setStatus = self.document.find(f"{W}portType/{W}operation[@name='setStatus']")
        self.assertIsNotNone(setStatus.find(f"{W}fault"))  # faults carry the user

    def test_inlineSchema(self):
        schema = self.document.find(f"{W}types/{X}schema")
        self.assertEqual(schema.get("targetNamespace"), TNS)
        self.assertEqual(schema.get("elementFormDefault"), "qualified")
        elements = {e.get("name"): e for e in schema.findall(f"{X}element")}
        self.assertEqual(
            sorted(elements),
            ["getUser", "getUserResponse", "getUsers", "getUsersResponse",
             "setStatus", "setStatusResponse", "userFault"],
        )
        names = elements["getUsersResponse"].find(f".//{X}element[@name='name']")
        self.assertEqual((names.get("minOccurs"), names.get("maxOccurs")), ("0", "unbounded"))

    def test_anOperationAddsItsElementsAndMessages(self):
        op = Operation("ping", (Part("n", "int"),), (Part("pong"),), "Ping.")
        document = ElementTree.fromstring(wsdlDocument("http://x/", [op]))
        self.assertIsNotNone(document.find(f".//{X}element[@name='pingResponse']"))
        self.assertIsNotNone(document.find(f"{W}message[@name='pingRequest']"))
        self.assertIsNone(document.find(f"{W}portType/{W}operation/{W}fault"))
