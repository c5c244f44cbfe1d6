"""User names and the C{/etc/users} file format (C{name: status} per line)."""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice

MAX_NAME_LENGTH = 64

# Anything printable except whitespace, ':' (the file separator), '@' (finger
# forwarding) and '/' (RFC 1288 switches and URL paths).
_BAD_NAME = re.compile(r"[\s:@/\x00-\x1f\x7f-\x9f]")


def userNameProblem(name: str) -> str | None:
    """Return why C{name} cannot be a user name, or C{None} if it can."""
    if not name:
        return "the name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is longer than {MAX_NAME_LENGTH} characters"
    bad = _BAD_NAME.search(name)
    if bad:
        return f"the name contains {bad.group()!r}"
    return None


class Statuses(Mapping[str, str]):
    """
    A read-only C{name -> status} mapping stored compactly for large files:
    the statuses packed, UTF-8 encoded, in one buffer in file order; the
    sorted names (shared with L{UsersTable.names}) and, for each, where its
    status is.  A lookup is a binary search.
    """

    def __init__(self, names: tuple[str, ...], order: array, packed: bytearray, ends: array) -> None:
        self._names = names
        self._order = order  # names[i]'s status is status number order[i] in the file
        self._packed = packed
        self._ends = ends  # status number j ends at packed[ends[j]]

    def _index(self, name: str) -> int:
        i = bisect_left(self._names, name)
        if i == len(self._names) or self._names[i] != name:
            raise KeyError(name)
        return i

    def __getitem__(self, name: str) -> str:
        j = self._order[self._index(name)]
        start = self._ends[j - 1] if j else 0
        return self._packed[start : self._ends[j]].decode("utf-8")

    def encodedAt(self, index: int) -> bytes:
        """The UTF-8 status of the C{index}th name (in sorted order)."""
        j = self._order[index]
        start = self._ends[j - 1] if j else 0
        return bytes(self._packed[start : self._ends[j]])

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self._index(name)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class UsersTable:
    """The result of parsing a users file."""

    users: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0


# Work per step of UsersParser.building(), small enough to keep each step
# to a few milliseconds.
_SORT_RUN = 8192
_MERGE_BATCH = 4096


class UsersParser:
    """
    Parses the users file format incrementally, so that a large file can be
    read in small steps between network events (see L{parseUsers} for the
    format): L{feed} it chunks of bytes, then run L{building} to completion
    (or call L{finish}) and take L{table}.

    L{feed} raises C{UnicodeDecodeError} on bytes that are not UTF-8; its
    C{start} is relative to L{offset}, the number of bytes parsed before.

    Memory: one C{str} per name, the statuses packed in one buffer; no
    per-user dict entries (a million-entry dict resize would also stall).
    """

    def __init__(self) -> None:
        self._names: list[str] = []  # in file order: entry j has status number j
        self._lineNumbers = array("I")  # the line of entry j
        self._packed = bytearray()
        self._ends = array("I")
        self._problems: list[tuple[int, str]] = []
        self._skipped = 0
        self._lines = 0
        self._partial = b""
        self.offset = 0
        self.table: UsersTable | None = None

    def feed(self, data: bytes) -> None:
        """Parse the complete lines in what was fed so far."""
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if cut:
            self._parseLines(data[:cut] if cut < len(data) else data)

    def _parseLines(self, data: bytes) -> None:
        text = data.decode("utf-8")
        self.offset += len(data)
        names, lineNumbers, packed, ends = self._names, self._lineNumbers, self._packed, self._ends
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, self._lines + 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            name, sep, status = stripped.partition(":")
            name = name.strip()
            problem = userNameProblem(name) if sep else "no ':' between name and status"
            if problem:
                self._problems.append((number, f"{problem}; line skipped"))
                self._skipped += 1
                continue
            names.append(name)
            lineNumbers.append(number)
            packed += status.strip().encode("utf-8")
            ends.append(len(packed))
        self._lines += len(lines)

    def building(self) -> Iterator[None]:
        """
        Build the L{table}, yielding between steps of a few milliseconds
        (sorting a million names at once would stall the reactor).
        """
        if self._partial:
            partial, self._partial = self._partial, b""
            self._parseLines(partial)
        names = self._names
        nameOf = names.__getitem__
        # Sort entry numbers by name, a run at a time; merging keeps equal
        # names in file order, so the last of them is the line that wins.
        runs = []
        for start in range(0, len(names), _SORT_RUN):
            runs.append(sorted(range(start, min(start + _SORT_RUN, len(names))), key=nameOf))
            yield
        # Each run is freed as soon as it is merged, not all at the end.
        merged = heapq.merge(*map(iter, runs), key=nameOf)
        runs.clear()
        sortedNames: list[str] = []
        order = array("I")
        duplicates = []
        while batch := list(islice(merged, _MERGE_BATCH)):
            for j in batch:
                name = names[j]
                if sortedNames and sortedNames[-1] == name:
                    duplicates.append((self._lineNumbers[j], name))
                    order[-1] = j
                else:
                    sortedNames.append(name)
                    order.append(j)
            yield
        if duplicates:
            self._problems.extend(
                (line, f"duplicate user {name!r}; this line wins") for line, name in duplicates
            )
            self._problems.sort()
        self._names = []
        uniqueNames = tuple(sortedNames)
        del sortedNames  # free the list now, as the tuple is built
        statuses = Statuses(uniqueNames, order, self._packed, self._ends)
        self.table = UsersTable(statuses, uniqueNames, self._problems, self._skipped)

    def finish(self) -> UsersTable:
        """Build the table in one go and return it."""
        for _ in self.building():
            pass
        assert self.table is not None  # building() always sets it
        return self.table


def parseUsers(data: bytes) -> UsersTable:
    """
    Parse the users file format: one C{name: status} per line, UTF-8; the
    status may contain C{:}; blank lines and C{#} comments are skipped.

    Malformed lines are skipped and, like duplicate names, reported in
    C{problems} as C{(lineNumber, message)}.  Raises C{UnicodeDecodeError} if C{data} is not UTF-8.
    """
    parser = UsersParser()
    parser.feed(data)
    return parser.finish()


# Names compared per step of changedUsers().
_DIFF_BATCH = 4096


def _encodedStatuses(table: UsersTable) -> Callable[[int], bytes]:
    """The UTF-8 status of C{table}'s C{index}th name, however its statuses are kept."""
    users, names = table.users, table.names
    if isinstance(users, Statuses):
        return users.encodedAt
    return lambda index: users[names[index]].encode("utf-8")


def changedUsers(
    old: UsersTable, new: UsersTable, changes: list[tuple[str, str | None]]
) -> Iterator[None]:
    """
    Append to C{changes} each C{(name, new status or None when removed)}
    between two tables, in name order, yielding between steps of a few
    thousand names (a merge of the two sorted name lists; statuses are
    compared as the UTF-8 bytes they are kept as, so unchanged lines cost
    no decoding).
    """
    oldNames, newNames = old.names, new.names
    oldStatus, newStatus = _encodedStatuses(old), _encodedStatuses(new)
    i = j = steps = 0
    while i < len(oldNames) or j < len(newNames):
        steps += 1
        if steps % _DIFF_BATCH == 0:
            yield
        if j == len(newNames) or (i < len(oldNames) and oldNames[i] < newNames[j]):
            changes.append((oldNames[i], None))
            i += 1
        elif i == len(oldNames) or newNames[j] < oldNames[i]:
            changes.append((newNames[j], newStatus(j).decode("utf-8")))
            j += 1
        else:
            encoded = newStatus(j)
            if encoded != oldStatus(i):
                changes.append((newNames[j], encoded.decode("utf-8")))
            i += 1
            j += 1
