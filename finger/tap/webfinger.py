"""
WebFinger's and the reverse proxies' command line: C{--webfinger FILE},
C{--webfinger-domain DOMAIN} (repeatable), C{--trusted-proxy ADDRESS}
(repeatable).

The policies live in L{finger.frontends.web.webfinger},
L{finger.frontends.web.webfingerfile} and L{finger.frontends.web.forwarded};
this module only turns options into their settings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.application import service
from twisted.python import usage

from finger.accounts.interfaces import IAccountWebFinger
from finger.frontends.web.forwarded import BadTrustedProxy, TrustedProxies
from finger.frontends.web.webfinger import WebFingerSettings, normaliseDomains
from finger.frontends.web.webfingerfile import WebFingerFile
from finger.limits import Limits
from finger.tap.accounts import accountStoreOf


class WebFingerOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["webfinger", None, None,
         "A JSON file of per-user WebFinger aliases and links, keyed by user name "
         "(re-read when it changes, checked as often as the users file)."],
    ]

    def opt_webfinger_domain(self, domain: str) -> None:
        """A domain WebFinger answers for, e.g. example.org (repeatable;
        default: the host each request names)."""
        try:
            normaliseDomains([domain])
        except ValueError as e:
            raise usage.UsageError(f"--webfinger-domain: {e}") from None
        self.setdefault("webfinger-domains", []).append(domain)  # type: ignore[attr-defined]

    def opt_trusted_proxy(self, address: str) -> None:
        """A reverse proxy (an IP address or CIDR block) whose Forwarded and
        X-Forwarded-For/-Proto headers are believed (repeatable)."""
        try:
            TrustedProxies([address])
        except BadTrustedProxy as e:
            raise usage.UsageError(f"--trusted-proxy: {e}") from None
        self.setdefault("trusted-proxies", []).append(address)  # type: ignore[attr-defined]


def trustedProxies(options: usage.Options) -> TrustedProxies:
    """The C{--trusted-proxy} addresses."""
    return TrustedProxies(options.get("trusted-proxies", ()))


def webLimits(limits: Limits, proxies: TrustedProxies) -> Limits:
    """
    The web listeners' connection limits: trusted proxies carry every
    client's connections, so the per-peer limit does not count them.
    """
    if not proxies:
        return limits
    return dataclasses.replace(limits, perPeerExempt=proxies.trusts)


def webfingerSettings(
    top: service.MultiService, options: usage.Options, backend: object = None
) -> WebFingerSettings:
    """
    WebFinger's settings; the C{--webfinger} file is read now and watched by
    C{top}; the accounts' own entries are kept by C{backend}'s account store.
    """
    domains = normaliseDomains(options.get("webfinger-domains", ()))
    store = accountStoreOf(backend)
    accounts = store if IAccountWebFinger.providedBy(store) else None
    if not options["webfinger"]:
        return WebFingerSettings(domains=domains, accounts=accounts)
    links = WebFingerFile(options["webfinger"], refresh=options["refresh"])
    links.loadNow()
    links.setServiceParent(top)
    return WebFingerSettings(domains=domains, links=links, accounts=accounts)
