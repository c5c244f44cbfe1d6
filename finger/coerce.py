"""
Checked conversions of command-line values (C{usage.Options} coercers).

A coercer is called with the option's text and returns the value or raises
C{ValueError}; its C{coerceDoc} is shown by C{--help}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Coercer(Generic[T]):
    """A C{usage.Options} coercer: a conversion and its C{--help} text."""

    convert: Callable[[str], T]
    coerceDoc: str

    def __call__(self, value: str) -> T:
        """Convert C{value}; raise C{ValueError} saying why it is unusable."""
        return self.convert(value)


def _positiveSeconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"must be a positive number of seconds, not {value!r}")
    return number


def _nonNegativeSeconds(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError(f"must be zero or more seconds, not {value!r}")
    return number


def _positiveInteger(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be a whole number above zero, not {value!r}")
    return number


positiveSeconds = Coercer(_positiveSeconds, "Seconds, above zero.")
"""A number of seconds above zero."""

nonNegativeSeconds = Coercer(_nonNegativeSeconds, "Seconds; 0 disables it.")
"""A number of seconds, zero or more."""

positiveInteger = Coercer(_positiveInteger, "A whole number above zero.")
"""A whole number, at least 1."""
