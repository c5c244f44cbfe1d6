"""Unit tests of finger.text: what may reach a client's terminal."""

from finger.text import printableLines, replaceSurrogates, stripControls


def test_stripControlsKeepsTabAndDropsC0C1AndDel():
    assert stripControls("a\tb\x1b[31mc\x7fd\x9be\x00") == "a\tb[31mcde"


def test_printableLinesSplitsEveryLineEndStyle():
    assert printableLines("one\r\ntwo\nthree\rfour\x1b") == ["one", "two", "three", "four"]
    assert printableLines("") == [""]


def test_replaceSurrogatesMakesTextEncodable():
    text = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert replaceSurrogates(text) == "caf\ufffd"
    assert replaceSurrogates(text).encode("utf-8") == b"caf\xef\xbf\xbd"
    assert replaceSurrogates("zoë\tok") == "zoë\tok"
