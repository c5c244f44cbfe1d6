"""The --pb option and how makeService composes the PB listeners."""

from finger import tap
from finger.frontends.pb import FingerPBFactory, PBSettings
from finger.listen import ListeningService


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(["--memory", "--finger", "none", "--setter", "none", *args])
    return options


def pbListeners(options: tap.Options) -> list[ListeningService]:
    top = tap.makeService(options)
    return [s for s in top if isinstance(s, ListeningService) and s.frontend == "pb"]


def test_pbIsRepeatableAndHasTheQueryLog():
    options = parse("--pb", "tcp:8890", "--pb", "tcp:8891:interface=127.0.0.1", "--no-log-queries")
    pb = pbListeners(options)
    assert [(s.frontend, s.description) for s in pb] == [
        ("pb", "tcp:8890"),
        ("pb", "tcp:8891:interface=127.0.0.1"),
    ]
    assert all(isinstance(s.factory.wrappedFactory, FingerPBFactory) for s in pb)
    assert pb[0].factory.wrappedFactory.settings.queryLog.enabled is False


def test_pbDefaultsAndTimeout():
    options = parse("--timeout", "12")
    [pb] = pbListeners(options)
    assert pb.description == "tcp:8889"
    assert pb.factory.wrappedFactory.settings == PBSettings(timeout=12.0, queryLog=options.queryLog)
