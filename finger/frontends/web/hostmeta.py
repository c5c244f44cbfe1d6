"""
host-meta (RFC 6415): C{/.well-known/host-meta} (XRD) and
C{/.well-known/host-meta.json} (JRD), whose C{lrdd} link template points
at this server's WebFinger, for clients that look it up that way (split
domains, older fediverse software).  Served where WebFinger is (HTTPS,
directly or through a trusted proxy), with the same CORS and caching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from twisted.web import resource
from twisted.web.server import NOT_DONE_YET

from finger.frontends.web.respond import sendJSON, sendReadOnly
from finger.frontends.web.webfinger import HOST_PATTERN, JRD, JRD_CACHE_CONTROL

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest

XRD = b"application/xrd+xml; charset=utf-8"
LRDD = "lrdd"


def webfingerTemplate(request: FingerRequest) -> str:
    """The WebFinger URL template (C{{uri}} stands for the resource) of this server."""
    return f"https://{request.requestHost()}/.well-known/webfinger?resource={{uri}}"


class HostMeta(resource.Resource):
    """C{/.well-known/host-meta}: the XRD document."""

    isLeaf = True
    frontend = "webfinger"

    def render_GET(self, request: FingerRequest) -> int:
        request.query = "host-meta"
        if not HOST_PATTERN.fullmatch(request.requestHost()):
            return _badHost(request)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="{LRDD}" type="application/jrd+json" '
            f"template={quoteattr(webfingerTemplate(request))}/>\n"
            "</XRD>\n"
        ).encode()
        sendReadOnly(request, 200, XRD, body, "found", JRD_CACHE_CONTROL)
        return NOT_DONE_YET


class HostMetaJSON(resource.Resource):
    """C{/.well-known/host-meta.json}: the same as a JRD."""

    isLeaf = True
    frontend = "webfinger"

    def render_GET(self, request: FingerRequest) -> int:
        request.query = "host-meta.json"
        if not HOST_PATTERN.fullmatch(request.requestHost()):
            return _badHost(request)
        document = {
            "links": [
                {"rel": LRDD, "type": "application/jrd+json", "template": webfingerTemplate(request)}
            ]
        }
        sendJSON(request, 200, document, JRD, "found", JRD_CACHE_CONTROL)
        return NOT_DONE_YET


def _badHost(request: FingerRequest) -> int:
    sendJSON(request, 400, {"error": "the request has no usable Host header"}, outcome="bad host")
    return NOT_DONE_YET
