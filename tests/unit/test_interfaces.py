"""Unit tests of finger.interfaces: the errors every frontend renders."""

from finger.interfaces import LookupFailed, StoreError, UserNotFound


def test_userNotFound():
    error = UserNotFound("alice")
    assert error.name == "alice"
    assert str(error) == "no such user: alice"
    assert isinstance(error, KeyError)


def test_lookupFailedAndStoreErrorAreOneLineMessages():
    assert str(LookupFailed("Error: example.org:79 refused the connection")) == (
        "Error: example.org:79 refused the connection"
    )
    assert str(StoreError("status too long")) == "status too long"
