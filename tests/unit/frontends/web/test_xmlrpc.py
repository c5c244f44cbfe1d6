"""
Unit tests of XML-RPC at /RPC2 (finger.frontends.web.xmlrpc), through a real FingerSite.
"""

from __future__ import annotations

import xmlrpc.client

from twisted.trial.unittest import TestCase

from finger.frontends.web.site import MAX_BODY
from finger.frontends.web.xmlrpc import FAULT_BAD_ARGUMENTS, FAULT_NO_SUCH_USER
from tests.helpers.webclient import SiteClient


class XMLRPCTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "Happy", "bob": "Busy", "carol": "Out"})

    def test_getUser(self):
        self.assertEqual(self.client.call("getUser", "alice"), "Happy")

    def test_unknownUserIsAFault(self):
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", "zed")
        self.assertEqual(
            (fault.faultCode, fault.faultString), (FAULT_NO_SUCH_USER, "no such user: zed")
        )

    def test_getUsers(self):
        self.assertEqual(self.client.call("getUsers"), ["alice", "bob", "carol"])
        self.assertEqual(self.client.call("getUsers", 1), ["bob", "carol"])
        self.assertEqual(self.client.call("getUsers", 1, 1), ["bob"])

    def test_badArgumentsAreClearFaults(self):
        for method, args, message in [
            ("getUser", (), "getUser: missing a required argument: 'name'"),
            ("getUser", ("a", "b"), "getUser: too many positional arguments"),
            ("getUser", (7,), "getUser: the name must be a string"),
            ("getUsers", (-1,), "getUsers: offset must be an integer from 0 up, not -1"),
            ("getUsers", (True,), "getUsers: offset must be an integer from 0 up, not True"),
            ("getUsers", (0, 0), "getUsers: limit must be an integer from 1 to 1000, not 0"),
            ("getUsers", (0, "x"), "getUsers: limit must be an integer from 1 to 1000, not 'x'"),
        ]:
            fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, method, *args)
            self.assertEqual((fault.faultCode, fault.faultString), (FAULT_BAD_ARGUMENTS, message))

    def test_unknownMethodAndGarbage(self):
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "dropTables")
        self.assertIn("dropTables", fault.faultString)
        response = self.client.post("/RPC2", b"<not xml")
        self.assertEqual(response.code, 200)
        self.assertRaises(xmlrpc.client.Fault, xmlrpc.client.loads, response.body)

    def test_bodyUnderTheLimitIsAccepted(self):
        name = "x" * (MAX_BODY - 500)
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", name)
        self.assertEqual(fault.faultCode, FAULT_NO_SUCH_USER)
