"""Unit tests for finger.limits.clientNetwork: which addresses count as one client."""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import TestCase

from finger import tap
from finger.limits import LimitedFactory, Limits, RefusalProtocol, clientNetwork, peerKey
from finger.tap.errors import StartupError


class ClientNetworkTests(TestCase):
    def test_ipv4IsTheWholeAddress(self) -> None:
        self.assertEqual(clientNetwork("192.0.2.7"), "192.0.2.7")

    def test_ipv6IsItsSlash64(self) -> None:
        self.assertEqual(clientNetwork("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64")
        self.assertEqual(
            clientNetwork("2001:db8:1:2:aaaa::1"), clientNetwork("2001:db8:1:2:ffff:1:2:3")
        )
        self.assertNotEqual(clientNetwork("2001:db8:1:2::1"), clientNetwork("2001:db8:1:3::1"))

    def test_ipv4MappedCountsAsIPv4(self) -> None:
        self.assertEqual(clientNetwork("::ffff:192.0.2.7"), "192.0.2.7")
        self.assertNotEqual(clientNetwork("::ffff:192.0.2.7"), clientNetwork("::ffff:192.0.2.8"))

    def test_prefixLengthsAreSettings(self) -> None:
        self.assertEqual(clientNetwork("192.0.2.7", ipv4Prefix=24), "192.0.2.0/24")
        self.assertEqual(clientNetwork("::ffff:192.0.2.7", ipv4Prefix=24), "192.0.2.0/24")
        self.assertEqual(clientNetwork("2001:db8:1:2::1", ipv6Prefix=48), "2001:db8:1::/48")
        self.assertEqual(clientNetwork("2001:db8::1", ipv6Prefix=128), "2001:db8::1")

    def test_zoneIsIgnored(self) -> None:
        self.assertEqual(clientNetwork("fe80::1%eth0"), "fe80::/64")

    def test_notAnAddressIsItsOwnKey(self) -> None:
        self.assertEqual(clientNetwork("/run/finger.sock"), "/run/finger.sock")

    def test_peerKeyUsesTheLimitsPrefixes(self) -> None:
        limits = Limits(ipv4Prefix=16, ipv6Prefix=32)
        self.assertEqual(peerKey(IPv4Address("TCP", "10.1.2.3", 1), limits), "10.1.0.0/16")
        self.assertEqual(peerKey(IPv6Address("TCP", "2001:db8:5::1", 1), limits), "2001:db8::/32")
        self.assertIsNone(peerKey(object(), limits))


class Silent(ServerFactory):
    protocol = Protocol
    refusalMessage = "Too many connections, try again later"


class PerNetworkLimitTests(TestCase):
    """The per-peer limit counts a /64 as one client (and fails without the grouping)."""

    def connect(self, factory: LimitedFactory, address) -> object:
        protocol = factory.buildProtocol(address)
        protocol.makeConnection(StringTransport(peerAddress=address))
        return protocol

    def test_oneSlash64IsOneClient(self) -> None:
        factory = LimitedFactory(Silent(), Limits(10, 2), "test", MemoryReactorClock())
        self.connect(factory, IPv6Address("TCP", "2001:db8:0:1::a", 1))
        self.connect(factory, IPv6Address("TCP", "2001:db8:0:1::b", 1))
        refused = self.connect(factory, IPv6Address("TCP", "2001:db8:0:1:ffff::c", 1))
        self.assertIsInstance(refused, RefusalProtocol)
        other = self.connect(factory, IPv6Address("TCP", "2001:db8:0:2::a", 1))
        self.assertNotIsInstance(other, RefusalProtocol)
        self.assertEqual(factory.perPeer, {"2001:db8:0:1::/64": 2, "2001:db8:0:2::/64": 1})

    def test_mappedAndPlainIPv4AreOneClient(self) -> None:
        factory = LimitedFactory(Silent(), Limits(10, 1), "test", MemoryReactorClock())
        self.connect(factory, IPv4Address("TCP", "192.0.2.7", 1))
        refused = self.connect(factory, IPv6Address("TCP", "::ffff:192.0.2.7", 1))
        self.assertIsInstance(refused, RefusalProtocol)


class OptionTests(TestCase):
    def options(self, *args: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(["--memory", *args])
        return options

    def test_defaults(self) -> None:
        limits = self.options().limits
        self.assertEqual((limits.ipv4Prefix, limits.ipv6Prefix), (32, 64))

    def test_given(self) -> None:
        limits = self.options("--ipv4-prefix", "24", "--ipv6-prefix", "56").limits
        self.assertEqual((limits.ipv4Prefix, limits.ipv6Prefix), (24, 56))

    def test_outOfRange(self) -> None:
        for option, value in [("--ipv4-prefix", "33"), ("--ipv6-prefix", "0"), ("--ipv6-prefix", "x")]:
            with self.assertRaises(StartupError) as raised:
                self.options(option, value)
            self.assertIn("prefix length", str(raised.exception))
