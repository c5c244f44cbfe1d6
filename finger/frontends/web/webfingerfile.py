"""
Per-user WebFinger data (aliases, links, properties) from a JSON file
(C{--webfinger FILE}), keyed by user name, each entry shaped like the JRD
it adds to::

    {"alice": {
        "aliases": ["https://social.example/@alice"],
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": "https://social.example/users/alice"}]}}

An entry may have C{aliases} (absolute URIs), C{links} (each with a C{rel}
and optionally C{type}, C{href}, C{titles}, C{properties}) and
C{properties}; anything else is refused by name, so a typo is reported
rather than ignored.

The same validator checks the entry a user sets for themselves through the
JSON API (L{parseUserEntry}: one entry, at most L{MAX_USER_LINKS} links and
L{MAX_USER_ALIASES} aliases in L{MAX_WEBFINGER_BYTES} of JSON).

The file is checked every C{refresh} seconds on the reactor and re-read
when its modification time, size or inode changed (write a new file and
rename it over the old one).  A version that cannot be used keeps the last
good data and is reported in one log line; at start-up there is no last
good data, so L{WebFingerFile.loadNow} raises L{WebFingerFileError}.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from twisted.application import service
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from finger.accounts.interfaces import MAX_WEBFINGER_BYTES
from finger.errors import FingerConfigurationError
from finger.reactors import globalReactor
from finger.watch import FileSignature, PeriodicCheck, fileSignature

MAX_FILE_SIZE = 1024 * 1024
# The bounds of the entry a user sets through the API (the operator's file has only MAX_FILE_SIZE).
MAX_USER_LINKS = 32
MAX_USER_ALIASES = 32
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_ENTRY_MEMBERS = ("aliases", "links", "properties")
_LINK_MEMBERS = ("rel", "type", "href", "titles", "properties")

_Signature = FileSignature


class WebFingerFileError(FingerConfigurationError):
    """The WebFinger file cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class WebFingerEntry:
    """What the file says about one user (JSON-ready values)."""

    aliases: tuple[str, ...] = ()
    links: tuple[dict[str, Any], ...] = ()
    properties: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class WebFingerData:
    """A whole file's entries, and which user each alias names."""

    entries: dict[str, WebFingerEntry] = field(default_factory=dict)

    def entryFor(self, name: str) -> WebFingerEntry | None:
        """C{name}'s entry, if the file has one."""
        return self.entries.get(name)

    def nameForAlias(self, uri: str) -> str | None:
        """The user one of whose aliases is C{uri}, if any."""
        for name, entry in self.entries.items():
            if uri in entry.aliases:
                return name
        return None


NO_DATA = WebFingerData()


def _problem(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _uri(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise _problem(where, f"must be an absolute URI such as https://..., not {value!r}")
    return value


def _object(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _problem(where, f"must be a JSON object, not {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise _problem(
                where, f"unknown member {key!r} (expected one of: {', '.join(allowed)})"
            )
    return value


def _strings(value: Any, where: str, nullable: bool) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise _problem(where, "must be a JSON object of strings")
    for key, item in value.items():
        if not (isinstance(item, str) or (nullable and item is None)):
            wanted = "a string or null" if nullable else "a string"
            raise _problem(f"{where}.{key}", f"must be {wanted}, not {item!r}")
    return dict(value)


def _link(value: Any, where: str) -> dict[str, Any]:
    link = _object(value, where, _LINK_MEMBERS)
    rel = link.get("rel")
    if not isinstance(rel, str) or not rel:
        raise _problem(where, "a link needs a \"rel\" (a non-empty string)")
    result: dict[str, Any] = {"rel": rel}
    if "type" in link:
        if not isinstance(link["type"], str):
            raise _problem(f"{where}.type", "must be a string")
        result["type"] = link["type"]
    if "href" in link:
        result["href"] = _uri(link["href"], f"{where}.href")
    if "titles" in link:
        result["titles"] = _strings(link["titles"], f"{where}.titles", nullable=False)
    if "properties" in link:
        result["properties"] = _strings(link["properties"], f"{where}.properties", nullable=True)
    return result


def _entry(value: Any, name: str) -> WebFingerEntry:
    entry = _object(value, name, _ENTRY_MEMBERS)
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list):
        raise _problem(f"{name}.aliases", "must be a list of URIs")
    links = entry.get("links", [])
    if not isinstance(links, list):
        raise _problem(f"{name}.links", "must be a list of link objects")
    return WebFingerEntry(
        aliases=tuple(_uri(a, f"{name}.aliases[{i}]") for i, a in enumerate(aliases)),
        links=tuple(_link(link, f"{name}.links[{i}]") for i, link in enumerate(links)),
        properties=_strings(entry.get("properties", {}), f"{name}.properties", nullable=True),
    )


def entryDocument(entry: WebFingerEntry) -> dict[str, Any]:
    """C{entry} as the JSON object it was written as (what L{parseUserEntry} reads)."""
    return {
        "aliases": list(entry.aliases),
        "links": [dict(link) for link in entry.links],
        "properties": dict(entry.properties),
    }


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"not valid UTF-8 (byte offset {e.start})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None


def parseUserEntry(raw: bytes) -> WebFingerEntry:
    """
    One user's own entry (a JSON object shaped like an entry of the file),
    within the bounds above; raise C{ValueError} with a one-line reason.
    """
    if len(raw) > MAX_WEBFINGER_BYTES:
        raise ValueError(f"the entry is larger than {MAX_WEBFINGER_BYTES // 1024} KiB of JSON")
    entry = _entry(_json(raw), "the entry")
    if len(entry.links) > MAX_USER_LINKS:
        raise ValueError(f"the entry has {len(entry.links)} links; at most {MAX_USER_LINKS}")
    if len(entry.aliases) > MAX_USER_ALIASES:
        raise ValueError(f"the entry has {len(entry.aliases)} aliases; at most {MAX_USER_ALIASES}")
    return entry


def parseWebFinger(raw: bytes) -> WebFingerData:
    """Parse a WebFinger file's content; raise C{ValueError} with a one-line reason."""
    document = _json(raw)
    if not isinstance(document, dict):
        raise ValueError("must be a JSON object keyed by user name")
    entries = {}
    for name, value in document.items():
        if not name:
            raise ValueError("a user name is empty")
        entries[name] = _entry(value, repr(name))
    return WebFingerData(entries)


def readWebFingerFile(path: str) -> tuple[_Signature, WebFingerData]:
    """Read and parse C{path}; raise L{WebFingerFileError} with a one-line reason."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            raw = f.read(MAX_FILE_SIZE + 1)
    except OSError as e:
        raise WebFingerFileError(f"cannot read the WebFinger file {path}: {e.strerror}") from None
    if len(raw) > MAX_FILE_SIZE:
        raise WebFingerFileError(
            f"WebFinger file {path}: larger than {MAX_FILE_SIZE // 1024} KiB"
        )
    try:
        data = parseWebFinger(raw)
    except ValueError as e:
        raise WebFingerFileError(f"WebFinger file {path}: {e}") from None
    return fileSignature(st), data


class WebFingerFile(service.Service):
    """
    The entries of a WebFinger file, re-read when it changes.

    @param refresh: seconds between checks for a changed file.
    @param reactor: the clock of the checks; C{None} is the global reactor.
    """

    log = Logger()

    def __init__(
        self, path: str, refresh: float = 30.0, reactor: IReactorTime | None = None
    ) -> None:
        self.path = path
        self.refresh = refresh
        self._reactor: IReactorTime = globalReactor() if reactor is None else reactor
        self.data: WebFingerData = NO_DATA
        self._signature: _Signature | None = None
        self._rejected: _Signature | None = None
        self._lastError: str | None = None
        # Looked up at each check, so that the method may be replaced (tests).
        self._poll = PeriodicCheck(lambda: self.checkForChanges(), self._reactor)

    def entryFor(self, name: str) -> WebFingerEntry | None:
        """C{name}'s entry in the last good version of the file."""
        return self.data.entryFor(name)

    def nameForAlias(self, uri: str) -> str | None:
        """The user one of whose aliases is C{uri}, in the last good version."""
        return self.data.nameForAlias(uri)

    def loadNow(self) -> None:
        """Read the file (start-up); raise L{WebFingerFileError} if it cannot be used."""
        self._install(*readWebFingerFile(self.path))

    def checkForChanges(self) -> None:
        """Re-read the file if it changed; keep the last good data if it is unusable."""
        try:
            signature = fileSignature(os.stat(self.path))
        except OSError as e:
            self._report(f"cannot read the WebFinger file {self.path}: {e.strerror}")
            return
        if signature in (self._signature, self._rejected):
            return
        try:
            found, data = readWebFingerFile(self.path)
        except WebFingerFileError as e:
            self._rejected = signature
            self._report(str(e))
            return
        self._install(found, data)

    def _report(self, message: str) -> None:
        if message != self._lastError:
            self.log.error(
                "{problem}; keeping the last good WebFinger data ({count} users)",
                problem=message,
                count=len(self.data.entries),
            )
            self._lastError = message

    def _install(self, signature: _Signature, data: WebFingerData) -> None:
        self.data = data
        self._signature = signature
        self._rejected = None
        self._lastError = None
        self.log.info(
            "Loaded WebFinger data for {count} users from {path}",
            count=len(data.entries),
            path=self.path,
        )

    def startService(self) -> None:
        super().startService()
        if self._signature is None:
            self.loadNow()
        self._poll.start(self.refresh)

    def stopService(self) -> None:
        super().stopService()
        self._poll.stop()
