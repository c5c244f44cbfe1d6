"""C{/static/}: the stylesheet and any other files of the templates' C{static/} directory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.web import resource

from finger.frontends.web.templates import Templates

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

CACHE_CONTROL = b"public, max-age=3600"


class StaticFiles(resource.Resource):
    """The static files, read at start-up (see L{Templates})."""

    def __init__(self, templates: Templates, notFound: Callable[[], resource.Resource]) -> None:
        super().__init__()
        self.templates = templates
        self.notFound = notFound

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        found = self.templates.static.get(path.decode("utf-8", "replace"))
        if found is None:
            return self.notFound()
        return StaticFile(*found)

    def render(self, request: FingerRequest) -> bytes | int:
        return self.notFound().render(request)


class StaticFile(resource.Resource):
    """One file's bytes, served with its content type."""

    isLeaf = True

    def __init__(self, contentType: bytes, data: bytes) -> None:
        super().__init__()
        self.contentType = contentType
        self.data = data

    def render_GET(self, request: FingerRequest) -> bytes:
        request.setHeader(b"Content-Type", self.contentType)
        request.setHeader(b"Cache-Control", CACHE_CONTROL)
        return self.data
