"""finger.errors: components raise exceptions, never exit the process."""

from finger.errors import FingerConfigurationError
from finger.listen import ListenError


def test_configurationErrorsAreExceptionsNotExits():
    assert issubclass(FingerConfigurationError, Exception)
    assert not issubclass(FingerConfigurationError, SystemExit)
    assert issubclass(ListenError, FingerConfigurationError)
    assert str(ListenError("one line")) == "one line"
