"""
Finding and loading the web frontend's templates and static files.

They ship inside the installed package as C{finger.templates} (the
checkout's top-level C{templates/} directory, mapped there by
C{pyproject.toml}).  C{--templates DIR} points at a customised copy: each
file is looked up in C{DIR} first, then in the shipped set.  Everything is
read and parsed once, at start-up, so a broken template stops the service
with a message naming the file instead of failing later, page by page:
L{Templates} raises L{TemplateError} (the tap layer turns it into a one-line
start-up error).
"""

from __future__ import annotations

import importlib.resources
import mimetypes
from importlib.abc import Traversable
from pathlib import Path
from xml.sax import SAXParseException

from twisted.web.template import XMLString

from finger.errors import FingerConfigurationError

TEMPLATE_NAMES = (
    "layout.html", "users.html", "user.html", "error.html", "login.html", "edit.html",
)
STATIC_DIRECTORY = "static"
MAX_STATIC_FILE = 1024 * 1024


class TemplateError(FingerConfigurationError):
    """A template or static file cannot be read or parsed; the message names it."""


def packagedTemplates() -> Traversable:
    """The shipped templates: in the installed package, else the checkout's C{templates/}."""
    try:
        return importlib.resources.files("finger.templates")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[3] / "templates"


def staticContentType(name: str) -> bytes:
    """The Content-Type for a static file, with a charset for text."""
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind.encode("ascii")


class Templates:
    """
    The parsed page templates (L{loader}) and the static files (L{static}),
    from C{override} first when given, else from the shipped set.

    Raises L{TemplateError} if a directory, template or static file is
    missing, unreadable or malformed.
    """

    def __init__(self, override: str | None = None, packaged: Traversable | None = None) -> None:
        self.override = Path(override) if override else None
        self.packaged = packaged if packaged is not None else packagedTemplates()
        if self.override is not None and not self.override.is_dir():
            raise TemplateError(f"--templates {override}: not a directory")
        self._loaders = {name: self._parse(name) for name in TEMPLATE_NAMES}
        self.static: dict[str, tuple[bytes, bytes]] = self._readStatic()

    def loader(self, name: str) -> XMLString:
        """The loader for template C{name} (one of L{TEMPLATE_NAMES})."""
        return self._loaders[name]

    def _locate(self, name: str) -> Traversable:
        if self.override is not None:
            candidate = self.override / name
            if candidate.is_file():
                return candidate
        return self.packaged.joinpath(name)

    def _parse(self, name: str) -> XMLString:
        where = self._locate(name)
        try:
            data = where.read_bytes()
        except OSError as e:
            raise TemplateError(f"cannot read template {where}: {e.strerror or e}") from None
        try:
            return XMLString(data)
        except UnicodeDecodeError as e:
            raise TemplateError(
                f"template {where}: not valid UTF-8 (byte offset {e.start})"
            ) from None
        except SAXParseException as e:
            raise TemplateError(
                f"template {where}: not well-formed XML at line {e.getLineNumber()}, "
                f"column {e.getColumnNumber()}: {e.getMessage()}"
            ) from None

    def _readStatic(self) -> dict[str, tuple[bytes, bytes]]:
        """C{name -> (content type, bytes)} for the shipped files, then the override's."""
        files: dict[str, tuple[bytes, bytes]] = {}
        sources: list[Traversable] = [self.packaged.joinpath(STATIC_DIRECTORY)]
        if self.override is not None:
            sources.append(self.override / STATIC_DIRECTORY)
        for directory in sources:
            if not directory.is_dir():
                continue
            for entry in directory.iterdir():
                if not entry.is_file() or entry.name.startswith("."):
                    continue
                try:
                    data = entry.read_bytes()
                except OSError as e:
                    raise TemplateError(
                        f"cannot read static file {entry}: {e.strerror or e}"
                    ) from None
                if len(data) > MAX_STATIC_FILE:
                    raise TemplateError(
                        f"static file {entry} is larger than {MAX_STATIC_FILE // 1024} KiB"
                    )
                files[entry.name] = (staticContentType(entry.name), data)
        return files
