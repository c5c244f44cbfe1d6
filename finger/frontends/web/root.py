"""
The web frontend's root resource: an adapter from L{IFingerService} to
L{IResource}.

  /               the user list (HTML, C{?page=N})
  /NAME           one user (HTML)
  /RPC2           XML-RPC
  /soap           SOAP 1.1 (and its WSDL)
  /api/...        JSON
  /.well-known/webfinger   WebFinger, on HTTPS only
  /static/...     the stylesheet

The reserved paths take precedence over user names.
"""

from __future__ import annotations

from twisted.python import components
from twisted.web import resource

from finger.frontends.web import urls
from finger.frontends.web.api import APIRoot
from finger.frontends.web.pages import NotFoundPage, UserPage, UsersPage
from finger.frontends.web.soap import SOAPResource
from finger.frontends.web.static import StaticFiles
from finger.frontends.web.templates import Templates
from finger.frontends.web.webfinger import WebFinger
from finger.frontends.web.xmlrpc import FingerXMLRPC
from finger.interfaces import IFingerService


class FingerWebRoot(resource.Resource):
    """
    Dispatches each request to the page or interface it names.  Set
    C{templates} to serve customised templates (default: the shipped ones).
    """

    frontend = "web"

    def __init__(
        self,
        service: IFingerService,
        templates: Templates | None = None,
        soap: resource.Resource | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.templates = templates if templates is not None else Templates()
        self.xmlrpc = FingerXMLRPC(service)
        self.api = APIRoot(service)
        self.webfinger = WebFinger(service)
        self.soap = soap if soap is not None else SOAPResource(service)

    def notFound(self) -> NotFoundPage:
        return NotFoundPage(self.service, self.templates)

    def getChild(self, path: bytes, request) -> resource.Resource:
        if path == b"":
            return UsersPage(self.service, self.templates)
        try:
            name = path.decode("utf-8")
        except UnicodeDecodeError:
            return self.notFound()
        if name == urls.XMLRPC:
            return self.xmlrpc
        if name == urls.SOAP:
            return self.soap
        if name == urls.API:
            return self.api
        if name == urls.WELL_KNOWN:
            return WellKnown(self)
        if name == urls.STATIC:
            return StaticFiles(self.templates, self.notFound)
        return UserPage(self.service, self.templates, name)

    def render(self, request):
        return self.notFound().render(request)


class WellKnown(resource.Resource):
    """C{/.well-known/}: WebFinger on HTTPS; nothing else, and nothing on plain HTTP."""

    def __init__(self, root: FingerWebRoot) -> None:
        super().__init__()
        self.root = root

    def getChild(self, path: bytes, request) -> resource.Resource:
        if path == b"webfinger" and request.isSecure():
            return self.root.webfinger
        return self.root.notFound()

    def render(self, request):
        return self.root.notFound().render(request)


components.registerAdapter(FingerWebRoot, IFingerService, resource.IResource)
