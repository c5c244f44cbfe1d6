"""Checked conversions of command-line values (C{usage.Options} coercers)."""


def positiveSeconds(value: str) -> float:
    """A number of seconds above zero."""
    number = float(value)
    if not number > 0:
        raise ValueError(f"must be a positive number of seconds, not {value!r}")
    return number


def nonNegativeSeconds(value: str) -> float:
    """A number of seconds, zero or more."""
    number = float(value)
    if not number >= 0:
        raise ValueError(f"must be zero or more seconds, not {value!r}")
    return number


def positiveInteger(value: str) -> int:
    """A whole number, at least 1."""
    number = int(value)
    if number < 1:
        raise ValueError(f"must be a whole number above zero, not {value!r}")
    return number


positiveSeconds.coerceDoc = "Seconds, above zero."
nonNegativeSeconds.coerceDoc = "Seconds; 0 disables it."
positiveInteger.coerceDoc = "A whole number above zero."
