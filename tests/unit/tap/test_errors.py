"""finger.tap.errors: components' errors become one-line start-up errors."""

from __future__ import annotations

import pytest
from twisted.application import service

from finger.errors import FingerConfigurationError
from finger.tap.errors import StartupError, StartupService, prefixFor, startupErrors


class BadThing(FingerConfigurationError):
    pass


class WorseThing(BadThing):
    pass


class Failing(service.Service):
    def __init__(self, when: str, error: Exception) -> None:
        self.when = when
        self.error = error

    def privilegedStartService(self) -> None:
        if self.when == "privileged":
            raise self.error
        super().privilegedStartService()

    def startService(self) -> None:
        if self.when == "start":
            raise self.error
        super().startService()


def test_startupErrorIsOneLineAndExitStatus1():
    error = StartupError("it broke")
    assert str(error) == "finger: it broke"
    assert error.code == "finger: it broke"  # SystemExit prints it and exits with status 1
    assert isinstance(error, SystemExit) and isinstance(error, Exception)


def test_startupErrorsConvertsConfigurationErrors():
    with pytest.raises(StartupError) as caught, startupErrors():
        raise BadThing("no can do")
    assert str(caught.value) == "finger: no can do"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_startupErrorsLeavesOtherExceptionsAlone():
    with pytest.raises(ValueError), startupErrors():
        raise ValueError("a bug, not a configuration problem")


def test_startupErrorsAsADecoratorWithPrefixes():
    @startupErrors({BadThing: "--bad: "})
    def build() -> None:
        raise WorseThing("no can do")

    with pytest.raises(StartupError) as caught:
        build()
    assert str(caught.value) == "finger: --bad: no can do"


def test_prefixFor():
    prefixes = {WorseThing: "--worse: ", BadThing: "--bad: "}
    assert prefixFor(WorseThing(), prefixes) == "--worse: "
    assert prefixFor(BadThing(), prefixes) == "--bad: "
    assert prefixFor(FingerConfigurationError(), prefixes) == ""


@pytest.mark.parametrize("when", ["privileged", "start"])
def test_startupServiceConvertsChildrenErrors(when):
    top = StartupService({WorseThing: "--worse: "})
    Failing(when, WorseThing("cannot")).setServiceParent(top)
    with pytest.raises(StartupError) as caught:
        top.privilegedStartService()
        top.startService()
    assert str(caught.value) == "finger: --worse: cannot"


def test_startupServiceStartsItsChildren():
    top = StartupService()
    child = Failing("never", BadThing())
    child.setServiceParent(top)
    top.privilegedStartService()
    top.startService()
    assert child.running
    top.stopService()
    assert not child.running
