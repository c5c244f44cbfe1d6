"""Unit tests of finger.reactors."""

from twisted.internet import reactor

from finger.reactors import globalReactor


def test_globalReactorIsTwistedsReactor():
    assert globalReactor() is reactor
