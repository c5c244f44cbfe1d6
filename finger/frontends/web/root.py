"""
The web frontend's root resource: an adapter from L{IFingerService} to
L{IResource}.

  /               the user list (HTML, C{?page=N})
  /NAME           one user (HTML)
  /RPC2           XML-RPC
  /soap           SOAP 1.1 (and its WSDL)
  /api/...        JSON; /api/events, status changes as server-sent events
  /.well-known/webfinger   WebFinger, on HTTPS only (directly or via a trusted proxy)
  /.well-known/host-meta, host-meta.json   its lrdd template (RFC 6415), likewise
  /static/...     the stylesheet
  /login, /logout signing in and out (with accounts: WebSettings.accounts)

The reserved paths take precedence over user names.

C{IResource(backend)} is the root with the shipped templates;
C{frontend(IResource, backend, WebSettings(templates=...))} is the root
configured otherwise (see L{finger.adapt}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.python import components
from twisted.web import resource

from finger.accounts.gate import Authenticator
from finger.adapt import registerFrontend
from finger.frontends.web import urls
from finger.frontends.web.api import APIRoot
from finger.frontends.web.events import EventSettings, EventsResource
from finger.frontends.web.hostmeta import HostMeta, HostMetaJSON
from finger.frontends.web.login import LoginPage, LogoutPage
from finger.frontends.web.pages import NotFoundPage, UserPage, UsersPage
from finger.frontends.web.rendercache import RenderCache
from finger.frontends.web.sessions import SessionStore
from finger.frontends.web.signin import SignIn
from finger.frontends.web.soap import SOAPResource
from finger.frontends.web.static import StaticFiles
from finger.frontends.web.templates import Templates
from finger.frontends.web.webfinger import NotOnPlainHTTP, WebFinger, WebFingerSettings
from finger.frontends.web.xmlrpc import FingerXMLRPC
from finger.interfaces import IFingerChangeFeed, IFingerService

if TYPE_CHECKING:
    from finger.frontends.web.site import FingerRequest


@dataclass(frozen=True)
class WebSettings:
    """
    The web frontend's settings.

    @ivar templates: the parsed templates and static files; C{None} means
        the shipped ones, read when the root is made.
    @ivar soap: the C{/soap} endpoint; C{None} means one with its default
        settings (see L{finger.frontends.web.soap}).
    @ivar webfinger: WebFinger's domains and per-user links.
    @ivar events: the C{/api/events} streams' settings (there when the
        backend provides L{IFingerChangeFeed}).
    @ivar accounts: who may write (JSON and XML-RPC writes, and signing in
        for the web forms; L{finger.accounts.gate}); C{None}: no accounts,
        writes are refused, no one can sign in, and pages have no forms.
    @ivar sessions: where web sign-in sessions are kept; C{None} means a
        store with the default bounds on the global reactor, made with the root.
    """

    templates: Templates | None = None
    soap: resource.Resource | None = None
    webfinger: WebFingerSettings = WebFingerSettings()
    events: EventSettings = EventSettings()
    accounts: Authenticator | None = None
    sessions: SessionStore | None = None


DEFAULT = WebSettings()


class FingerWebRoot(resource.Resource):
    """
    Dispatches each request to the page or interface it names, with the
    templates of its L{WebSettings}.
    """

    frontend = "web"

    def __init__(self, service: IFingerService, settings: WebSettings = DEFAULT) -> None:
        super().__init__()
        self.service = service
        self.settings = settings
        self.templates = settings.templates if settings.templates is not None else Templates()
        self.xmlrpc = FingerXMLRPC(service, settings.accounts)
        self.events = (
            EventsResource(service, settings.events)
            if IFingerChangeFeed.providedBy(service)
            else None
        )
        self.api = APIRoot(service, self.events, settings.accounts, settings.webfinger.accounts)
        self.webfinger = WebFinger(service, settings.webfinger)
        self.soap = settings.soap if settings.soap is not None else SOAPResource(service)
        # The anonymous user pages, each as rendered for its current status.
        self.pages: RenderCache[bytes] = RenderCache()
        self.signIn: SignIn | None = None
        if settings.accounts is not None:
            sessions = settings.sessions if settings.sessions is not None else SessionStore()
            self.signIn = SignIn(settings.accounts, sessions)

    def notFound(self) -> NotFoundPage:
        """The 404 page, for any path that names nothing."""
        return NotFoundPage(self.service, self.templates, signIn=self.signIn)

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path == b"":
            return UsersPage(self.service, self.templates, self.signIn)
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
        if name == urls.LOGIN:
            return LoginPage(self.service, self.templates, self.signIn)
        if name == urls.LOGOUT:
            return LogoutPage(self.service, self.templates, self.signIn)
        return UserPage(self.service, self.templates, name, self.signIn, self.pages)

    def render(self, request: FingerRequest) -> int:
        return self.notFound().render(request)


class WellKnown(resource.Resource):
    """
    C{/.well-known/}: WebFinger and host-meta for clients that used HTTPS
    (directly or through a trusted proxy); a JSON 404 for the others.
    """

    def __init__(self, root: FingerWebRoot) -> None:
        super().__init__()
        self.root = root

    def getChild(self, path: bytes, request: FingerRequest) -> resource.Resource:
        if path not in (b"webfinger", b"host-meta", b"host-meta.json"):
            return self.root.notFound()
        if not request.isSecure():
            return NotOnPlainHTTP()
        if path == b"webfinger":
            return self.root.webfinger
        return HostMeta() if path == b"host-meta" else HostMetaJSON()

    def render(self, request: FingerRequest) -> int:
        return self.root.notFound().render(request)


components.registerAdapter(FingerWebRoot, IFingerService, resource.IResource)
registerFrontend(FingerWebRoot, WebSettings, resource.IResource)
