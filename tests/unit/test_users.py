"""The users file format and user-name rules."""

import pytest

from finger.text import printableLines, stripControls
from finger.users import MAX_NAME_LENGTH, parseUsers, userNameProblem


def test_statusMayContainColons():
    table = parseUsers(b"bob: Feeling sad: lost his keys\n")
    assert table.users == {"bob": "Feeling sad: lost his keys"}


def test_blankLinesAndCommentsAreSkipped():
    table = parseUsers(b"# a comment\n\n   \n  # indented comment\nalice: here\n")
    assert table.users == {"alice": "here"}
    assert table.problems == []


def test_malformedLinesAreReportedWithLineNumbersAndSkipped():
    table = parseUsers(b"alice: ok\nno separator\n: no name\nbad name: x\nbob: fine\n")
    assert table.users == {"alice": "ok", "bob": "fine"}
    assert [number for number, _ in table.problems] == [2, 3, 4]
    assert table.skipped == 3
    assert "no ':'" in table.problems[0][1]


def test_duplicateNameLastWinsAndIsReported():
    table = parseUsers(b"alice: first\nalice: second\n")
    assert table.users == {"alice": "second"}
    assert table.problems == [(2, "duplicate user 'alice'; this line wins")]
    assert table.skipped == 0


def test_namesAreSortedAndUtf8IsDecoded():
    table = parseUsers("zoë: z\nalice: a\nbob: b\n".encode("utf-8"))
    assert table.names == ("alice", "bob", "zoë")


def test_lineNumbersCountOnlyNewlines():
    # A form feed or vertical tab inside a line does not start a new line.
    table = parseUsers(b"alice: a\x0cb\nx\n")
    assert table.problems[0][0] == 2


def test_crlfFilesAreAccepted():
    assert parseUsers(b"alice: a\r\nbob: b\r\n").users == {"alice": "a", "bob": "b"}


def test_invalidUtf8Raises():
    with pytest.raises(UnicodeDecodeError):
        parseUsers(b"alice: \xff\n")


@pytest.mark.parametrize(
    "name",
    ["", "a b", "a:b", "a@b", "a/b", "a\x1bb", "x" * (MAX_NAME_LENGTH + 1)],
)
def test_badNames(name):
    assert userNameProblem(name)


@pytest.mark.parametrize("name", ["alice", "o'brien", "zoë", "a.b-c_d", "x" * MAX_NAME_LENGTH])
def test_goodNames(name):
    assert userNameProblem(name) is None


def test_stripControlsKeepsTabAndDropsC0C1AndDel():
    assert stripControls("a\tb\x1b[31mc\x7fd\x9be\x00") == "a\tb[31mcde"


def test_printableLinesSplitsEveryLineEndStyle():
    assert printableLines("one\r\ntwo\nthree\rfour\x1b") == ["one", "two", "three", "four"]
    assert printableLines("") == [""]
