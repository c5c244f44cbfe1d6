"""Unit tests of finger.users: user-name rules, the users file format, the incremental parser and its compact table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import TestCase

from finger import users
from finger.users import MAX_NAME_LENGTH, UsersParser, parseUsers, userNameProblem


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
    table = parseUsers("zoë: z\nalice: a\nbob: b\n".encode())
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


SAMPLE = (
    "# comment\n"
    "bob: x\n"
    "alice: Happy: yes\n"
    " bad line\n"
    "alice: again\r\n"
    "carol: caf\u00e9 \u2603\n"
    "\n"
    "no/slash: y\n"
    "alice: third\n"
    "dave: last, no newline"
).encode("utf-8")


class ParseUsersTests(TestCase):
    def test_table(self) -> None:
        table = parseUsers(SAMPLE)
        self.assertEqual(table.names, ("alice", "bob", "carol", "dave"))
        self.assertEqual(
            dict(table.users),
            {"alice": "third", "bob": "x", "carol": "caf\u00e9 \u2603", "dave": "last, no newline"},
        )
        self.assertEqual(
            table.problems,
            [
                (4, "no ':' between name and status; line skipped"),
                (5, "duplicate user 'alice'; this line wins"),
                (8, "the name contains '/'; line skipped"),
                (9, "duplicate user 'alice'; this line wins"),
            ],
        )
        self.assertEqual(table.skipped, 2)

    def test_mapping(self) -> None:
        statuses = parseUsers(SAMPLE).users
        self.assertIn("bob", statuses)
        self.assertNotIn("zed", statuses)
        self.assertNotIn(42, statuses)
        self.assertRaises(KeyError, statuses.__getitem__, "zed")
        self.assertRaises(KeyError, statuses.__getitem__, "")
        self.assertEqual(len(statuses), 4)
        self.assertEqual(list(statuses), ["alice", "bob", "carol", "dave"])
        self.assertEqual(statuses.get("zed", "none"), "none")

    def test_empty(self) -> None:
        table = parseUsers(b"")
        self.assertEqual((table.names, len(table.users), table.problems), ((), 0, []))

    def test_invalidUTF8OffsetCountsEarlierChunks(self) -> None:
        parser = UsersParser()
        parser.feed(b"alice: ok\nbob: fine\n")
        with self.assertRaises(UnicodeDecodeError) as caught:
            parser.feed(b"carol: \xff\n")
        self.assertEqual(parser.offset + caught.exception.start, 27)

    def test_buildingYieldsInSmallSteps(self) -> None:
        """
        Sorting and indexing 50,000 names is done in many small steps, never
        in one go (a million would stall the reactor for a second).
        """
        parser = UsersParser()
        parser.feed("".join(f"u{(i * 7919) % 50000}: s\n" for i in range(50000)).encode())
        steps = sum(1 for _ in parser.building())
        self.assertGreaterEqual(steps, 50000 // users._SORT_RUN + 50000 // users._MERGE_BATCH)
        self.assertEqual(parser.table.names, tuple(sorted(f"u{i}" for i in range(50000))))


names = st.sampled_from(["alice", "bob", "carol", "d\u00e9j\u00e0", "x" * 64, "x" * 65, "a/b", ""])
lines = st.one_of(
    st.builds(lambda n, s: f"{n}: {s}", names, st.text(max_size=20).map(lambda t: t.replace("\n", ""))),
    st.just("# comment"),
    st.just(""),
    st.just("   "),
    st.text(max_size=30).map(lambda t: t.replace("\n", "")),
)


class IncrementalParsingTests(TestCase):
    @settings(max_examples=200, deadline=None)
    @given(st.lists(lines, max_size=30), st.booleans(), st.lists(st.integers(1, 40), min_size=1))
    def test_anyChunkingGivesTheSameTable(self, fileLines, finalNewline, sizes) -> None:
        """
        Feeding the file in chunks of any sizes (splitting lines and UTF-8
        sequences anywhere) gives the table parsing it at once gives.
        """
        data = "\n".join(fileLines).encode("utf-8") + (b"\n" if finalNewline else b"")
        whole = parseUsers(data)
        parser = UsersParser()
        position, i = 0, 0
        while position < len(data):
            size = sizes[i % len(sizes)]
            parser.feed(data[position : position + size])
            position, i = position + size, i + 1
        chunked = parser.finish()
        self.assertEqual(chunked.names, whole.names)
        self.assertEqual(dict(chunked.users), dict(whole.users))
        self.assertEqual((chunked.problems, chunked.skipped), (whole.problems, whole.skipped))
        # The last line for a name wins.
        expected = {}
        for line in data.decode("utf-8").split("\n"):
            name, sep, status = line.strip().partition(":")
            if sep and not users.userNameProblem(name.strip()):
                expected[name.strip()] = status.strip()
        self.assertEqual(dict(whole.users), expected)
        self.assertEqual(whole.names, tuple(sorted(expected)))


def test_changedUsersFindsAddedChangedAndRemovedInSteps():
    from finger import users as usersModule
    from finger.users import UsersTable, changedUsers, parseUsers

    old = parseUsers(b"alice: a\nbob: b\ncarol: \xc3\xa9\n")
    new = parseUsers(b"bob: b\ncarol: \xc3\xa8\ndave: d\n")
    changes: list = []
    steps = list(changedUsers(old, new, changes))
    assert changes == [("alice", None), ("carol", "è"), ("dave", "d")]
    assert steps == []  # a handful of names: one step
    # A plain dict table (an empty file's) compares the same way.
    empty = UsersTable()
    changes = []
    list(changedUsers(empty, new, changes))
    assert [name for name, _ in changes] == ["bob", "carol", "dave"]
    # Many names: it yields between batches.
    many = parseUsers(b"".join(b"u%d: x\n" % n for n in range(3 * usersModule._DIFF_BATCH)))
    changes = []
    assert len(list(changedUsers(UsersTable(), many, changes))) >= 2
    assert len(changes) == 3 * usersModule._DIFF_BATCH
