"""The web options of C{twistd finger}: --web, --https, --templates."""

from __future__ import annotations

import pytest

from finger import tap
from finger.frontends.web.site import FingerSite
from finger.listen import ListeningService
from finger.tap.errors import StartupError
from tests.helpers.tlsfiles import makeCertificates


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def webListeners(top) -> list[ListeningService]:
    return [s for s in top if isinstance(s, ListeningService) and s.frontend in ("web", "https")]


def test_oneSiteServesEveryWebAndHTTPSListener(tmp_path):
    files = makeCertificates(str(tmp_path))
    https = f"ssl:8443:privateKey={files.key}:certKey={files.cert}"
    options = parse(
        "--memory",
        "--web",
        "tcp:8001",
        "--web",
        "tcp:8002",
        "--https",
        https,
        "--timeout",
        "7",
        "--no-log-queries",
    )
    listeners = webListeners(tap.makeService(options))
    assert [(s.frontend, s.description) for s in listeners] == [
        ("web", "tcp:8001"),
        ("web", "tcp:8002"),
        ("https", f"finger-https:8443:privateKey={files.key}:certKey={files.cert}"),
    ]
    sites = {id(s.factory.wrappedFactory) for s in listeners}
    assert len(sites) == 1
    site = listeners[0].factory.wrappedFactory
    assert isinstance(site, FingerSite)
    assert site.timeOut == 7
    assert site.queryLog is options.queryLog and not site.queryLog.enabled


def test_webNoneAndNoHTTPSMeansNoSite():
    assert webListeners(tap.makeService(parse("--memory", "--web", "none"))) == []


def test_httpsAloneWithWebNone(tmp_path):
    files = makeCertificates(str(tmp_path))
    options = parse("--memory", "--web", "none", "--https", f"ssl:0:privateKey={files.key}")
    with pytest.raises(StartupError, match="is not a PEM certificate"):
        tap.makeService(options)  # certKey defaults to privateKey, as with ssl:
    options = parse(
        "--memory", "--web", "none", "--https", f"ssl:0:privateKey={files.key}:certKey={files.cert}"
    )
    assert [s.frontend for s in webListeners(tap.makeService(options))] == ["https"]


def test_templatesOption(tmp_path):
    (tmp_path / "error.html").write_text(
        '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">custom</p>'
    )
    (listener,) = webListeners(tap.makeService(parse("--memory", "--templates", str(tmp_path))))
    templates = listener.factory.wrappedFactory.resource.templates
    assert templates.override == tmp_path
    with pytest.raises(StartupError, match="not a directory"):
        tap.makeService(parse("--memory", "--templates", str(tmp_path / "missing")))
