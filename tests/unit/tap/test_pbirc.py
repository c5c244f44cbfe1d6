"""The --pb options and how makeService composes them (the IRC ones: test_irc.py)."""

from finger import tap
from finger.frontends.pb import FingerPBFactory
from finger.listen import ListeningService


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(["--memory", "--finger", "none", "--setter", "none", *args])
    return options


def test_pbIsRepeatableAndHasTheQueryLog():
    options = parse("--pb", "tcp:8890", "--pb", "tcp:8891:interface=127.0.0.1", "--no-log-queries")
    top = tap.makeService(options)
    pb = [s for s in top if isinstance(s, ListeningService) and s.frontend == "pb"]
    assert [(s.frontend, s.description) for s in pb] == [
        ("pb", "tcp:8890"),
        ("pb", "tcp:8891:interface=127.0.0.1"),
    ]
    assert all(isinstance(s.factory.wrappedFactory, FingerPBFactory) for s in pb)
    assert pb[0].factory.wrappedFactory.queryLog.enabled is False
