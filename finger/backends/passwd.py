"""
The password-database backend: system users and their C{~/.plan}.

A user's status is their full name (GECOS, first field), then C{~/.project}
and C{~/.plan} (C{No Plan.} without one).  A user with C{~/.nofinger} is
unknown.  Only regular accounts are served (uid C{UID_MIN}..C{UID_MAX}, as in
Debian's C{/etc/login.defs}) plus the ones named explicitly.

Home files are read safely even as root: the last path component is never a
symbolic link (C{O_NOFOLLOW}), the opened file must be a regular file owned
by the user (C{fstat} on the descriptor), C{O_NONBLOCK} keeps a FIFO from
hanging the open, and at most C{MAX_HOME_FILE} bytes are read.  All of it
runs in a thread, off the reactor.  A file that cannot be used is treated as
absent and logged once.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from twisted.application import service
from twisted.internet import defer, threads
from twisted.logger import Logger
from zope.interface import implementer

from finger.interfaces import IFingerService, IFingerVerboseService, UserNotFound
from finger.users import userNameProblem

UID_MIN = 1000
UID_MAX = 60000
MAX_HOME_FILE = 64 * 1024
NO_PLAN = "No Plan."

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class HomeFileProblem(Exception):
    """A home file exists but cannot be used; the message says why."""


@dataclass(frozen=True)
class Account:
    """The parts of a password entry this backend uses."""

    name: str
    uid: int
    fullName: str
    home: str
    shell: str

    @classmethod
    def fromEntry(cls, entry: pwd.struct_passwd) -> Account:
        """The account of a password database entry."""
        return cls(
            name=entry.pw_name,
            uid=entry.pw_uid,
            fullName=entry.pw_gecos.split(",", 1)[0].strip(),
            home=entry.pw_dir,
            shell=entry.pw_shell,
        )


@dataclass
class Lookup:
    """What reading one user's home found: the status and any problems."""

    status: str | None  # None: the user does not exist (for us)
    problems: list[str] = field(default_factory=list)


def readHomeFile(homeFd: int, filename: str, uid: int, limit: int = MAX_HOME_FILE) -> bytes | None:
    """
    Read at most C{limit} bytes of C{filename} in the directory open as
    C{homeFd}.  Return C{None} if it does not exist; raise
    L{HomeFileProblem} if it exists but is not a regular file owned by
    C{uid} that can be read.
    """
    try:
        fd = os.open(filename, _OPEN_FLAGS, dir_fd=homeFd)
    except FileNotFoundError:
        return None
    except OSError as e:
        if stat.S_ISLNK(_lstatMode(homeFd, filename)):
            raise HomeFileProblem("is a symbolic link") from None
        raise HomeFileProblem(e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise HomeFileProblem("is not a regular file")
        if st.st_uid != uid:
            raise HomeFileProblem(f"is owned by uid {st.st_uid}, not by the user")
        chunks = []
        remaining = limit
        while remaining > 0:
            try:
                chunk = os.read(fd, remaining)
            except OSError as e:
                raise HomeFileProblem(e.strerror or str(e)) from None
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _lstatMode(homeFd: int, filename: str) -> int:
    try:
        return os.stat(filename, dir_fd=homeFd, follow_symlinks=False).st_mode
    except OSError:
        return 0


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").rstrip()


def hasNoFinger(homeFd: int) -> bool:
    """Whether the user asked not to be fingered (C{~/.nofinger} exists)."""
    try:
        os.stat(".nofinger", dir_fd=homeFd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # Something is there; err on the side of privacy.
    return True


def openHome(account: Account) -> int | None:
    """Open the home directory; C{None} if it does not exist."""
    try:
        return os.open(account.home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


def describe(account: Account, verbose: bool = False) -> Lookup:
    """
    Build the status of C{account} from its home files (blocking: call it in
    a thread).  C{verbose} adds the home directory and shell.
    """
    problems: list[str] = []
    lines = [account.fullName or account.name]
    if verbose:
        lines.append(f"Directory: {account.home}    Shell: {account.shell}")
    try:
        homeFd = openHome(account)
    except OSError as e:
        problems.append(f"{account.home}: cannot open home directory: {e.strerror}")
        homeFd = None
    if homeFd is None:
        lines.append(NO_PLAN)
        return Lookup("\n".join(lines), problems)
    try:
        if hasNoFinger(homeFd):
            return Lookup(None, problems)
        contents: dict[str, bytes | None] = {}
        for filename in (".project", ".plan"):
            try:
                contents[filename] = readHomeFile(homeFd, filename, account.uid)
            except HomeFileProblem as e:
                problems.append(f"{os.path.join(account.home, filename)} {e}; ignored")
                contents[filename] = None
    finally:
        os.close(homeFd)
    project, plan = contents[".project"], contents[".plan"]
    if project:
        lines.append(f"Project: {_text(project)}")
    if plan is None:
        lines.append(NO_PLAN)
    else:
        lines.append("Plan:")
        lines.append(_text(plan))
    return Lookup("\n".join(lines), problems)


@implementer(IFingerService, IFingerVerboseService)
class PasswordFingerService(service.Service):
    """System users from the password database, with their plans."""

    log = Logger()

    def __init__(
        self,
        extraUsers: Iterable[str] = (),
        verbose: bool = False,
        uidMin: int = UID_MIN,
        uidMax: int = UID_MAX,
    ) -> None:
        self.extraUsers = frozenset(extraUsers)
        self.verbose = verbose
        self.uidMin = uidMin
        self.uidMax = uidMax
        self._logged: set[str] = set()
        self._lastNames: tuple[str, ...] = ()

    def inScope(self, account: Account) -> bool:
        """Whether this account is served at all."""
        return account.name in self.extraUsers or self.uidMin <= account.uid <= self.uidMax

    def account(self, name: str) -> Account | None:
        """The served account called C{name}, or C{None} (blocking)."""
        if userNameProblem(name):
            return None
        try:
            account = Account.fromEntry(pwd.getpwnam(name))
        except (KeyError, ValueError):
            return None
        return account if self.inScope(account) else None

    def missingExtraUsers(self) -> list[str]:
        """The names given explicitly that have no account (blocking)."""
        return sorted(name for name in self.extraUsers if self.account(name) is None)

    # IFingerService, IFingerVerboseService

    def getUser(self, name: str) -> defer.Deferred[str]:
        """The full name, project and plan of C{name} (read in a thread)."""
        return self._lookup(name, verbose=False)

    def getUserVerbose(self, name: str) -> defer.Deferred[str]:
        """L{getUser}, with the home directory and shell if C{verbose}."""
        return self._lookup(name, verbose=self.verbose)

    def getUsers(self) -> defer.Deferred[Sequence[str]]:
        """The served accounts without C{~/.nofinger}, sorted (read in a thread)."""
        return threads.deferToThread(self._listNames).addCallback(self._sameIfUnchanged)

    def _sameIfUnchanged(self, names: tuple[str, ...]) -> tuple[str, ...]:
        # The same object while nothing changed lets a chain reuse its union.
        if names != self._lastNames:
            self._lastNames = names
        return self._lastNames

    # Work done in a thread

    def _lookup(self, name: str, verbose: bool) -> defer.Deferred[str]:
        return threads.deferToThread(self._describe, name, verbose).addCallback(self._answer, name)

    def _describe(self, name: str, verbose: bool) -> Lookup:
        account = self.account(name)
        if account is None:
            return Lookup(None)
        return describe(account, verbose)

    def _listNames(self) -> tuple[str, ...]:
        names = set()
        for entry in pwd.getpwall():
            account = Account.fromEntry(entry)
            if not self.inScope(account):
                continue
            try:
                homeFd = openHome(account)
            except OSError:
                homeFd = None
            if homeFd is not None:
                try:
                    if hasNoFinger(homeFd):
                        continue
                finally:
                    os.close(homeFd)
            names.add(account.name)
        return tuple(sorted(names))

    # Back on the reactor thread

    def _answer(self, lookup: Lookup, name: str) -> str:
        for problem in lookup.problems:
            if problem not in self._logged:
                self._logged.add(problem)
                self.log.warn("{problem}", problem=problem)
        if lookup.status is None:
            raise UserNotFound(name)
        return lookup.status
