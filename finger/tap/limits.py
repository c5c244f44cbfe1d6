"""
The command line of the per-client connection limits' grouping:
C{--ipv4-prefix BITS}, C{--ipv6-prefix BITS} (see L{finger.limits.clientNetwork}).
"""

from __future__ import annotations

from typing import Any

from finger.limits import DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, Limits


def prefixLength(maximum: int) -> Any:
    """A coercer for a prefix length from 1 to C{maximum} bits (raises ValueError)."""

    def coerce(value: str) -> int:
        if not value.isdigit() or not 1 <= int(value) <= maximum:
            raise ValueError(f"a prefix length is a whole number from 1 to {maximum}, not {value!r}")
        return int(value)

    coerce.coerceDoc = f"(1 to {maximum})"  # type: ignore[attr-defined]
    return coerce


class ClientNetworkOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["ipv4-prefix", None, DEFAULT_IPV4_PREFIX,
         "IPv4 clients in one network of this many bits count as one client "
         "for --max-connections-per-peer.", prefixLength(32)],
        ["ipv6-prefix", None, DEFAULT_IPV6_PREFIX,
         "IPv6 clients in one network of this many bits count as one client "
         "(default: a /64, which one host commonly has).", prefixLength(128)],
    ]


def limitsFromOptions(options: Any) -> Limits:
    """The L{Limits} the options ask for."""
    return Limits(
        options["max-connections"],
        options["max-connections-per-peer"],
        ipv4Prefix=options["ipv4-prefix"],
        ipv6Prefix=options["ipv6-prefix"],
    )
