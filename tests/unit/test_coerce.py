"""Unit tests of finger.coerce: the checked conversions of command-line values."""

import pytest
from twisted.python import usage

from finger.coerce import Coercer, nonNegativeSeconds, positiveInteger, positiveSeconds


@pytest.mark.parametrize(
    ("coercer", "text", "value"),
    [
        (positiveSeconds, "2.5", 2.5),
        (positiveSeconds, "0.001", 0.001),
        (nonNegativeSeconds, "0", 0.0),
        (nonNegativeSeconds, "60", 60.0),
        (positiveInteger, "1", 1),
        (positiveInteger, "1000", 1000),
    ],
)
def test_goodValues(coercer, text, value):
    assert coercer(text) == value
    assert type(coercer(text)) is type(value)


@pytest.mark.parametrize(
    ("coercer", "text", "message"),
    [
        (positiveSeconds, "0", "must be a positive number of seconds, not '0'"),
        (positiveSeconds, "-1", "must be a positive number of seconds, not '-1'"),
        (positiveSeconds, "nan", "must be a positive number of seconds, not 'nan'"),
        (nonNegativeSeconds, "-0.5", "must be zero or more seconds, not '-0.5'"),
        (nonNegativeSeconds, "nan", "must be zero or more seconds, not 'nan'"),
        (positiveInteger, "0", "must be a whole number above zero, not '0'"),
    ],
)
def test_badValues(coercer, text, message):
    with pytest.raises(ValueError) as caught:
        coercer(text)
    assert str(caught.value) == message


@pytest.mark.parametrize("coercer", [positiveSeconds, nonNegativeSeconds, positiveInteger])
def test_notANumber(coercer):
    with pytest.raises(ValueError):
        coercer("many")


def test_helpTexts():
    assert positiveSeconds.coerceDoc == "Seconds, above zero."
    assert nonNegativeSeconds.coerceDoc == "Seconds; 0 disables it."
    assert positiveInteger.coerceDoc == "A whole number above zero."


class Options(usage.Options):
    optParameters = [["wait", None, 1.0, "How long.", positiveSeconds]]


def test_usageOptionsUseThem():
    """C{usage.Options} converts with a coercer, shows its doc and reports its error."""
    options = Options()
    options.parseOptions(["--wait", "3"])
    assert options["wait"] == 3.0
    assert "Seconds, above zero." in str(options)
    with pytest.raises(usage.UsageError) as caught:
        Options().parseOptions(["--wait", "0"])
    assert str(caught.value) == (
        "Parameter type enforcement failed: must be a positive number of seconds, not '0'"
    )


def test_newCoercer():
    even = Coercer(lambda text: int(text) // 2 * 2, "An even number.")
    assert even("7") == 6
    assert even.coerceDoc == "An even number."
