"""The WebFinger and reverse-proxy options: --webfinger, --webfinger-domain, --trusted-proxy."""

from __future__ import annotations

import json

import pytest

from finger import tap
from finger.frontends.web.webfingerfile import WebFingerFile
from finger.tap.errors import StartupError
from tests.unit.tap.test_web import parse, webListeners


def site(top):
    return webListeners(top)[0].factory.wrappedFactory


def test_trustedProxiesReachTheSiteAndTheLimits():
    top = tap.makeService(parse("--memory", "--web", "tcp:0", "--trusted-proxy", "127.0.0.1",
                                "--trusted-proxy", "fd00::/8"))
    listener = webListeners(top)[0]
    assert site(top).trustedProxies.trusts("fd00::5")
    assert not site(top).trustedProxies.trusts("127.0.0.2")
    limits = listener.factory.limits  # the LimitedFactory wrapping the site
    assert not limits.limitsPeer("127.0.0.1") and limits.limitsPeer("127.0.0.2")


def test_noTrustedProxyByDefault():
    top = tap.makeService(parse("--memory", "--web", "tcp:0"))
    assert not site(top).trustedProxies


def test_badTrustedProxy():
    with pytest.raises(StartupError, match="--trusted-proxy: .*not 'proxy.lan'"):
        parse("--memory", "--trusted-proxy", "proxy.lan")


def test_webfingerFileAndDomains(tmp_path):
    path = tmp_path / "webfinger.json"
    path.write_text(json.dumps({"alice": {"aliases": ["https://social.example/@alice"]}}))
    top = tap.makeService(parse("--memory", "--web", "tcp:0", "--webfinger", str(path),
                                "--webfinger-domain", "Example.ORG",
                                "--webfinger-domain", "example.net"))
    settings = site(top).resource.settings.webfinger
    assert settings.domains == ("example.org", "example.net")
    assert isinstance(settings.links, WebFingerFile) and settings.links in list(top)
    assert settings.links.entryFor("alice").aliases == ("https://social.example/@alice",)


def test_badWebfingerFileStopsStartUp(tmp_path):
    path = tmp_path / "webfinger.json"
    path.write_text('{"alice": {"links": [{"href": "https://x.example/"}]}}')
    with pytest.raises(StartupError, match=r'webfinger.json: .*needs a "rel"'):
        tap.makeService(parse("--memory", "--web", "tcp:0", "--webfinger", str(path)))
    with pytest.raises(StartupError, match="cannot read the WebFinger file"):
        tap.makeService(parse("--memory", "--web", "tcp:0", "--webfinger", str(tmp_path / "no")))


def test_badDomain():
    with pytest.raises(StartupError, match="--webfinger-domain"):
        parse("--memory", "--webfinger-domain", "exa mple.org")
