"""Unit tests of the proxy backend and how the finger frontend uses it (its options: tests/unit/tap/test_backends.py)."""

from __future__ import annotations

from twisted.internet import defer, protocol, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IHostnameResolver,
    IHostResolution,
    IReactorPluggableNameResolver,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from finger.backends.chain import ChainFingerService
from finger.backends.memory import MemoryFingerService
from finger.backends.proxy import ForwardingDenied, ProxyFingerService
from finger.frontends.finger import FORWARDING_DENIED, FingerFactoryFromService
from finger.interfaces import IFingerService, IFingerVerboseService, LookupFailed, UserNotFound
from finger.querylog import QueryLog


class RouteTests(SynchronousTestCase):
    def test_stripsRightMostHost(self):
        proxy = ProxyFingerService(allowed=["h2:7979", "h"])
        self.assertEqual(proxy.route("alice@h1@h2:7979"), ("alice@h1", "h2", 7979))
        self.assertEqual(proxy.route("@h"), ("", "h", 79))

    def test_defaultIsPort79OnAnyHost(self):
        """Without an allow list only finger servers can be asked, not other services."""
        proxy = ProxyFingerService()
        self.assertEqual(proxy.route("a@far.example"), ("a", "far.example", 79))
        self.assertEqual(proxy.route("a@10.0.0.1:79"), ("a", "10.0.0.1", 79))
        for target, shown in [
            ("127.0.0.1:25", "127.0.0.1:25"),
            ("far.example:7979", "far.example:7979"),
            ("[::1]:6379", "[::1]:6379"),
        ]:
            with self.assertRaises(ForwardingDenied, msg=target) as caught:
                proxy.route(f"a@{target}")
            self.assertEqual(str(caught.exception), f"Finger forwarding service denied for {shown}")

    def test_hopLimit(self):
        """The number of '@' is the number of hops still ahead."""
        proxy = ProxyFingerService(maxHops=2)
        self.assertEqual(proxy.route("a@h1@h2"), ("a@h1", "h2", 79))
        with self.assertRaises(ForwardingDenied) as caught:
            proxy.route("a@h1@h2@h3")
        self.assertEqual(
            str(caught.exception),
            "Finger forwarding service denied: too many hops (3 '@' in the query, the limit is 2)",
        )

    def test_allowList(self):
        proxy = ProxyFingerService(allowed=["Far.Example", "near.example:7979"])
        self.assertEqual(proxy.route("a@far.example."), ("a", "far.example.", 79))
        self.assertEqual(proxy.route("a@near.example:7979"), ("a", "near.example", 7979))
        for denied in ["a@near.example", "a@far.example:80", "a@other.example"]:
            with self.assertRaises(ForwardingDenied, msg=denied):
                proxy.route(denied)

    def test_wildcards(self):
        """'*' is any port of a host, or a port on any host; a list replaces the default."""
        proxy = ProxyFingerService(allowed=["Near.Example:*", "[::1]:*", "*:7979"])
        self.assertEqual(proxy.route("a@near.example:25"), ("a", "near.example", 25))
        self.assertEqual(proxy.route("a@NEAR.example."), ("a", "NEAR.example.", 79))
        self.assertEqual(proxy.route("a@[::1]:8080"), ("a", "::1", 8080))
        self.assertEqual(proxy.route("a@other.example:7979"), ("a", "other.example", 7979))
        for denied in ["a@other.example", "a@other.example:25", "a@127.0.0.1:8080"]:
            with self.assertRaises(ForwardingDenied, msg=denied):
                proxy.route(denied)
        anything = ProxyFingerService(allowed=["*:*"])
        self.assertEqual(anything.route("a@h:25"), ("a", "h", 25))

    def test_emptyAllowListAllowsNothing(self):
        with self.assertRaises(ForwardingDenied):
            ProxyFingerService(allowed=[]).route("a@far.example")

    def test_badHostAndControls(self):
        proxy = ProxyFingerService()
        with self.assertRaises(ForwardingDenied):
            proxy.route("a@bad host")
        with self.assertRaises(ForwardingDenied):
            proxy.route("a\rb@h")

    def test_plainNameIsNotForProxy(self):
        # Not a lookup failure: a chain goes on to its next backend.
        with self.assertRaises(UserNotFound):
            ProxyFingerService().route("alice")

    def test_noUsers(self):
        self.assertEqual(self.successResultOf(ProxyFingerService().getUsers()), ())


class Recording(protocol.Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.factory.queries.append(data)
        self.transport.write(b"far answer\r\n")
        self.transport.loseConnection()


class ProxyLoopbackTests(TestCase):
    """The proxy fingers a real server (in this process) for the rest of the query."""

    def setUp(self):
        factory = protocol.ServerFactory.forProtocol(Recording)
        factory.queries = []
        self.queries = factory.queries
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.port = port.getHost().port

    @defer.inlineCallbacks
    def test_forwardsTheRest(self):
        proxy = ProxyFingerService(allowed=[f"127.0.0.1:{self.port}"])
        answer = yield proxy.getUser(f"alice@h1@127.0.0.1:{self.port}")
        self.assertEqual(answer, "far answer\r\n")
        self.assertEqual(self.queries, [b"alice@h1\r\n"])

    @defer.inlineCallbacks
    def test_verboseIsSentOn(self):
        """RFC 1288: /W applies at the far end."""
        proxy = ProxyFingerService(allowed=[f"127.0.0.1:{self.port}"])
        self.assertTrue(IFingerVerboseService.providedBy(proxy))
        answer = yield proxy.getUserVerbose(f"alice@h1@127.0.0.1:{self.port}")
        self.assertEqual(answer, "far answer\r\n")
        yield proxy.getUserVerbose(f"@127.0.0.1:{self.port}")
        self.assertEqual(self.queries, [b"/W alice@h1\r\n", b"/W\r\n"])

    @defer.inlineCallbacks
    def test_clientErrorsBecomeErrorLines(self):
        proxy = ProxyFingerService(allowed=["127.0.0.1:*"], maxSize=5)
        with self.assertRaises(LookupFailed) as caught:
            yield proxy.getUser(f"alice@127.0.0.1:{self.port}")
        self.assertEqual(
            str(caught.exception), f"Error: 127.0.0.1:{self.port} sent more than 5 bytes"
        )


@implementer(IFingerService, IFingerVerboseService)
class RecordingForwarder:
    """A forwarder that answers with the lookup it was asked for."""

    def getUser(self, name: str) -> defer.Deferred:
        return defer.succeed(f"getUser {name!r}")

    def getUserVerbose(self, name: str) -> defer.Deferred:
        return defer.succeed(f"getUserVerbose {name!r}")

    def getUsers(self) -> defer.Deferred:
        return defer.succeed(())


class FrontendTests(SynchronousTestCase):
    """How the finger frontend answers '@' queries with and without a forwarder."""

    def ask(self, query: str, forwarder=None) -> bytes:
        factory = FingerFactoryFromService(MemoryFingerService({"alice": "local"}))
        factory.forwarder = forwarder
        factory.queryLog = QueryLog(enabled=False)
        proto = factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived(query.encode("utf-8") + b"\r\n")
        proto.connectionLost(None)  # the server closed after answering
        return transport.value()

    def test_refusedWithoutForwarder(self):
        self.assertEqual(self.ask("alice@far"), FORWARDING_DENIED.encode() + b"\r\n")

    def test_lookupFailedShownAsItsLine(self):
        """A denial is the client's line, not a generic error with a logged traceback."""
        proxy = ProxyFingerService(allowed=["only.example"])
        self.assertEqual(
            self.ask("alice@far.example", proxy),
            b"Finger forwarding service denied for far.example:79\r\n",
        )
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_verboseIsPassedToTheForwarder(self):
        forwarder = RecordingForwarder()
        self.assertEqual(self.ask("/W alice@far", forwarder), b"getUserVerbose 'alice@far'\r\n")
        self.assertEqual(self.ask("/w  @far", forwarder), b"getUserVerbose '@far'\r\n")
        self.assertEqual(self.ask("alice@far", forwarder), b"getUser 'alice@far'\r\n")

    def test_plainNamesStayLocal(self):
        self.assertEqual(self.ask("alice", ProxyFingerService()), b"local\r\n")


class ProxyInAChainTests(SynchronousTestCase):
    """A proxy first in a chain passes plain names on to the next backend."""

    def test_plainNamesGoToTheNextBackend(self):
        chain = ChainFingerService([ProxyFingerService(), MemoryFingerService({"alice": "local"})])
        self.assertEqual(self.successResultOf(chain.getUser("alice")), "local")
        self.failureResultOf(chain.getUser("zed"), UserNotFound)


@implementer(IHostResolution)
class Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        pass


@implementer(IHostnameResolver)
class LiteralResolver:
    """Resolves an IPv4 address literal to itself, at once (no thread, any Twisted)."""

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        resolution = Resolution(hostName)
        receiver.resolutionBegan(resolution)
        receiver.addressResolved(IPv4Address("TCP", hostName, portNumber))
        receiver.resolutionComplete()
        return resolution


@implementer(IReactorPluggableNameResolver)
class ResolvingMemoryReactor(MemoryReactorClock):
    def __init__(self) -> None:
        super().__init__()
        self.nameResolver = LiteralResolver()

    def installNameResolver(self, resolver):
        raise NotImplementedError()


class ProxyReactorTests(SynchronousTestCase):
    """The reactor given to the proxy connects and times its queries (no real network)."""

    def setUp(self):
        self.reactor = ResolvingMemoryReactor()
        self.proxy = ProxyFingerService(timeout=5, reactor=self.reactor)

    def connect(self):
        """Connect the attempt the proxy made to a StringTransport."""
        (host, port, factory, _, _), = self.reactor.tcpClients
        proto = factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        return (host, port), proto, transport

    def test_forwardsThroughTheGivenReactor(self):
        d = self.proxy.getUser("alice@10.0.0.1")
        address, proto, transport = self.connect()
        self.assertEqual(address, ("10.0.0.1", 79))
        self.assertEqual(transport.value(), b"alice\r\n")
        proto.dataReceived(b"Happy\r\n")
        proto.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(d), "Happy\r\n")
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_deadlineOnTheGivenClock(self):
        d = self.proxy.getUser("alice@10.0.0.1")
        self.reactor.advance(4.9)
        self.assertNoResult(d)
        self.reactor.advance(0.1)
        failure = self.failureResultOf(d, LookupFailed)
        self.assertEqual(
            failure.getErrorMessage(), "Error: 10.0.0.1:79 did not answer within 5 seconds"
        )

    def test_defaultIsTheGlobalReactor(self):
        self.assertIs(ProxyFingerService().reactor, reactor)
