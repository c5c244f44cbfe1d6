"""
Who a web request really came from, behind a reverse proxy: the one place
where C{Forwarded} (RFC 7239), C{X-Forwarded-For} and C{X-Forwarded-Proto}
are believed.

Only a connection from a trusted proxy (C{--trusted-proxy}: addresses and
CIDR blocks) may set them; from anyone else they are ignored.  A proxy
appends the address it received the request from, so the chain is read
from the right: each trusted hop vouches for the element it added (the
address, and the scheme and host the request arrived with), and the first
address that is not a trusted proxy is the client.  The left-most entries
are whatever the client sent, and are never taken on trust.

When a request has a C{Forwarded} header, only it is read; otherwise the
C{X-Forwarded-*} headers are.  Each proxy must set (replace) the header it
uses and remove the other, or a client could send the one it does not set.
C{X-Forwarded-Host} is not read: proxies pass the client's C{Host} on by
default, and a header the proxy forgets to clear would let a client choose
the host of WebFinger's answers (and of caches keyed on it).  A
C{Forwarded} element's C{host=} is read, as the whole header is the proxy's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from twisted.web.http_headers import Headers

from finger.errors import FingerConfigurationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Past this many hops a chain is not followed further (a header is at most
# Twisted's header size anyway): the address reached so far is the client.
MAX_HOPS = 32


class BadTrustedProxy(FingerConfigurationError):
    """A trusted proxy was not given as an IP address or a CIDR block."""


@dataclass(frozen=True)
class Origin:
    """
    Where a request came from.

    @ivar address: the client's address (the TCP peer's unless a trusted
        proxy said otherwise).
    @ivar secure: whether the client's request arrived over HTTPS.
    @ivar host: the C{Host} the client asked for, if a trusted proxy said so
        (C{None}: the request's own C{Host} header).
    @ivar proxy: the trusted proxy's address (C{None}: the client spoke to us
        directly, or through no trusted proxy).
    """

    address: str
    secure: bool
    host: str | None = None
    proxy: str | None = None


def parseAddress(text: str) -> Address | None:
    """
    An address as proxies write it (C{1.2.3.4}, C{1.2.3.4:5678}, C{2001:db8::1},
    C{[2001:db8::1]:5678}, quoted or not); C{None} for anything else
    (C{unknown}, an obfuscated C{_name}, garbage).  IPv4-mapped IPv6
    addresses are their IPv4 address.
    """
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text, bracket, _ = text[1:].partition("]")
        if not bracket:
            return None
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        parsed: list[Network] = []
        for given in networks:
            try:
                parsed.append(ipaddress.ip_network(given.strip(), strict=False))
            except ValueError:
                raise BadTrustedProxy(
                    f"a trusted proxy is an IP address or a CIDR block "
                    f"(e.g. 127.0.0.1, 10.0.0.0/8, ::1), not {given!r}"
                ) from None
        self.networks = tuple(parsed)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address | str | None) -> bool:
        """Whether C{address} (an address object or text) is a trusted proxy."""
        if isinstance(address, str):
            address = parseAddress(address)
        if address is None:
            return False
        return any(address in network for network in self.networks)

    def origin(self, peer: str | None, peerSecure: bool, headers: Headers) -> Origin:
        """
        Where a request from TCP peer C{peer} (its host; C{None} if it has
        none, e.g. a UNIX socket) came from, given its C{headers}.
        """
        direct = Origin(peer or "?", peerSecure)
        if not self.networks or not self.trusts(peer):
            return direct
        hops = _forwardedHops(headers)
        if hops is None:
            hops = _xForwardedHops(headers)
        address: str = peer or "?"
        secure, host, proxy = peerSecure, None, None
        for hop in reversed(hops[-MAX_HOPS:]):
            # The hop at `address` is trusted: it vouches for what it added.
            if hop.proto is not None:
                secure = hop.proto.lower() == "https"
            if hop.host is not None:
                host = hop.host
            proxy = address
            client = parseAddress(hop.address) if hop.address is not None else None
            if client is None:
                break  # "unknown" or obfuscated: the last trusted hop is all we know
            address = client.compressed
            if not self.trusts(client):
                break
        if proxy is None:
            return direct
        return Origin(address, secure, host, proxy)


NO_TRUSTED_PROXIES = TrustedProxies()


@dataclass(frozen=True)
class _Hop:
    address: str | None
    proto: str | None = None
    host: str | None = None


def _headerValues(headers: Headers, name: bytes) -> list[str] | None:
    raw = headers.getRawHeaders(name)
    if not raw:
        return None
    return [value.decode("latin-1") for value in raw]


def _forwardedHops(headers: Headers) -> list[_Hop] | None:
    """The elements of the C{Forwarded} header, left to right (C{None}: no header)."""
    values = _headerValues(headers, b"forwarded")
    if values is None:
        return None
    hops = []
    for element in _splitOutsideQuotes(",".join(values), ","):
        pairs: dict[str, str] = {}
        for pair in _splitOutsideQuotes(element, ";"):
            name, equals, value = pair.partition("=")
            if equals:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                pairs.setdefault(name.strip().lower(), value)
        if pairs:
            hops.append(_Hop(pairs.get("for"), pairs.get("proto"), pairs.get("host")))
    return hops


def _xForwardedHops(headers: Headers) -> list[_Hop]:
    """C{X-Forwarded-For} as hops; the right-most C{X-Forwarded-Proto} goes with the last."""
    addresses = [
        part.strip()
        for value in _headerValues(headers, b"x-forwarded-for") or []
        for part in value.split(",")
    ]
    addresses = [a for a in addresses if a]
    if not addresses:
        return []
    proto = _lastListed(headers, b"x-forwarded-proto")
    hops = [_Hop(a) for a in addresses[:-1]]
    hops.append(_Hop(addresses[-1], proto))
    return hops


def _lastListed(headers: Headers, name: bytes) -> str | None:
    values = _headerValues(headers, name)
    if values is None:
        return None
    last = values[-1].split(",")[-1].strip()
    return last or None


def _splitOutsideQuotes(text: str, separator: str) -> list[str]:
    """Split C{text} at C{separator}s that are not inside a quoted string."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]
