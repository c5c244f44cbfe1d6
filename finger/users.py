"""User names and the C{/etc/users} file format (C{name: status} per line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


@dataclass
class UsersTable:
    """The result of parsing a users file."""

    users: dict[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0


def parseUsers(data: bytes) -> UsersTable:
    """
    Parse the users file format: one C{name: status} per line, UTF-8; the
    status may contain C{:}; blank lines and C{#} comments are skipped.

    Malformed lines are skipped and, like duplicate names, reported in
    C{problems} as C{(lineNumber, message)}.  Raises C{UnicodeDecodeError} if C{data} is not UTF-8.
    """
    text = data.decode("utf-8")
    users: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    skipped = 0
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, status = stripped.partition(":")
        name = name.strip()
        problem = userNameProblem(name) if sep else "no ':' between name and status"
        if problem:
            problems.append((number, f"{problem}; line skipped"))
            skipped += 1
            continue
        if name in users:
            problems.append((number, f"duplicate user {name!r}; this line wins"))
        users[name] = status.strip()
    return UsersTable(users, tuple(sorted(users)), problems, skipped)
