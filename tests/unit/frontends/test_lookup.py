"""
A backend that cannot get a status from where it is kept fails with
L{LookupFailed}; every frontend shows its one-line reason as its own
protocol's error (control characters removed), logs the query with that
outcome, and logs no traceback.  And only the finger frontend forwards:
the others never pass a C{user@host} name to the backend.
"""

from __future__ import annotations

import json
import xmlrpc.client

import pytest
from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.spread import pb
from twisted.test import iosim
from twisted.trial.unittest import TestCase
from zope.interface import implementer

import finger.frontends.finger  # noqa: F401 (registers the finger adapter)
from finger.adapt import frontend
from finger.frontends import irc
from finger.frontends.pb import IFingerPBFactory
from finger.frontends.web.xmlrpc import FAULT_LOOKUP_FAILED
from finger.interfaces import IFingerFactory, IFingerService, LookupFailed
from tests.helpers.webclient import SiteClient

REASON = "Error: status server far.example:443 answered 500 \x1b[31mInternal\x07 Error"
SHOWN = "Error: status server far.example:443 answered 500 [31mInternal Error"


@implementer(IFingerService)
class FarAwayBackend:
    """Statuses kept elsewhere, which cannot be had; records what it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def getUser(self, name):
        self.asked.append(name)
        return defer.fail(LookupFailed(REASON))

    def getUsers(self):
        return defer.succeed(())


class LookupFailedTestCase(TestCase):
    def setUp(self) -> None:
        self.backend = FarAwayBackend()
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def assertNoTracebackLogged(self) -> None:
        self.assertEqual([e for e in self.events if "log_failure" in e], [])

    def queryOutcomes(self) -> list[tuple[str, str]]:
        return [
            (e["frontend"], e["outcome"])
            for e in self.events
            if e.get("log_namespace") == "finger.query"
        ]


class WebTests(LookupFailedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client = SiteClient(service=self.backend)

    def test_pageIsA502ErrorPageInTheLayout(self):
        response = self.client.get("/alice")
        self.assertEqual(response.code, 502)
        self.assertEqual(response.header("Content-Type"), "text/html; charset=utf-8")
        page = response.text
        self.assertIn('<link rel="stylesheet"', page)  # the shared layout
        self.assertIn("<title>Lookup failed", page)
        self.assertIn("The status of alice is kept elsewhere, and asking for it failed.", page)
        self.assertIn(SHOWN, page)
        self.assertNotIn("\x1b", page)
        self.assertEqual(self.queryOutcomes(), [("web", f"502 {SHOWN}")])
        self.assertNoTracebackLogged()

    def test_apiIsA502JSONError(self):
        response = self.client.get("/api/users/alice")
        self.assertEqual(response.code, 502)
        self.assertEqual(response.header("Content-Type"), "application/json")
        self.assertEqual(json.loads(response.body), {"error": SHOWN})
        self.assertEqual(self.queryOutcomes(), [("api", f"502 {SHOWN}")])
        self.assertNoTracebackLogged()

    def test_xmlrpcIsAFaultWithItsOwnCode(self):
        fault = self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", "alice")
        self.assertEqual((fault.faultCode, fault.faultString), (FAULT_LOOKUP_FAILED, SHOWN))
        self.assertEqual(
            self.queryOutcomes(), [("xmlrpc", f"200 fault {FAULT_LOOKUP_FAILED}: {SHOWN}")]
        )
        self.assertNoTracebackLogged()

    def test_webfingerIsA502JSONError(self):
        response = self.client.get(
            "/.well-known/webfinger?resource=acct:alice@example.org",
            secure=True,
            host="example.org",
        )
        self.assertEqual(response.code, 502)
        self.assertEqual(json.loads(response.body), {"error": SHOWN})
        self.assertEqual(response.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(self.queryOutcomes(), [("webfinger", f"502 {SHOWN}")])
        self.assertNoTracebackLogged()

    def test_theWebDoesNotForward(self):
        for path in ["/alice@far.example", "/alice%40far.example:79", "/api/users/alice@far.example"]:
            self.assertEqual(self.client.get(path).code, 404, path)
        self.assertRaises(xmlrpc.client.Fault, self.client.call, "getUser", "alice@far.example")
        response = self.client.get(
            "/.well-known/webfinger?resource=acct:alice@far.example@example.org",
            secure=True,
            host="example.org",
        )
        self.assertEqual(response.code, 404)
        self.assertEqual(self.backend.asked, [])
        self.assertNoTracebackLogged()


# PB: plain pytest functions, not trial test cases: under pytest, trial test
# cases record exception info on every Failure, which Twisted 22.4's PB then
# tries (and refuses) to send.


@pytest.fixture
def logEvents():
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


def callGetUser(backend, *args) -> Failure:
    """Call getUser over a real PB connection (in memory); the failure it gets."""
    server = IFingerPBFactory(backend)
    client = pb.PBClientFactory()
    _, _, pump = iosim.connectedServerAndClient(
        lambda: server.buildProtocol(None), lambda: client.buildProtocol(None)
    )
    root = pumped(pump, client.getRootObject())
    failure = pumped(pump, root.callRemote("getUser", *args))
    assert isinstance(failure, Failure), failure
    return failure


def pumped(pump, d: defer.Deferred):
    """Move bytes until C{d} fires; its result."""
    results: list = []
    d.addBoth(results.append)
    for _ in range(20):
        if results:
            return results[0]
        pump.pump()
    raise AssertionError("no answer over PB")


def test_pbRemoteErrorNamedLookupFailed(logEvents):
    failure = callGetUser(FarAwayBackend(), "alice")
    assert failure.check("finger.frontends.pb.LookupFailed"), failure
    assert failure.getErrorMessage() == SHOWN
    queries = [e for e in logEvents if e.get("log_namespace") == "finger.query"]
    assert [(e["frontend"], e["outcome"]) for e in queries] == [("pb", SHOWN)]
    assert [e for e in logEvents if "log_failure" in e] == []


def test_pbDoesNotForward():
    backend = FarAwayBackend()
    failure = callGetUser(backend, "alice@far.example")
    assert failure.check("finger.frontends.pb.NoSuchUser"), failure
    assert backend.asked == []


class IRCTests(LookupFailedTestCase):
    def test_replyLineWithTheReason(self):
        factory = frontend(irc.IFingerIRCFactory, self.backend, irc.IRCSettings(lineRate=None))
        bot = factory.buildProtocol(None)
        transport = StringTransport()
        bot.makeConnection(transport)
        self.addCleanup(bot.connectionLost, Failure(ConnectionDone()))
        bot.dataReceived(b":irc.test 001 fingerbot :Welcome\r\n")
        transport.clear()
        bot.dataReceived(b":tester!~tester@127.0.0.1 PRIVMSG fingerbot :alice\r\n")
        self.assertEqual(transport.value().decode(), f"PRIVMSG tester :alice: {SHOWN}\r\n")
        self.assertEqual(self.queryOutcomes(), [("irc", SHOWN)])
        self.assertNoTracebackLogged()


class FingerTests(LookupFailedTestCase):
    def test_fingerShowsTheReasonAsBefore(self):
        factory = IFingerFactory(self.backend)
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(b"alice\r\n")
        protocol.connectionLost(None)  # the server closed after answering
        self.assertEqual(transport.value().decode(), f"{SHOWN}\r\n")
        self.assertNoTracebackLogged()
