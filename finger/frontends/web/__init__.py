"""
The web frontend: HTML pages, XML-RPC, a JSON API and WebFinger, all
served by one L{twisted.web.server.Site} over HTTP and HTTPS.

L{finger.frontends.web.root} adapts L{finger.interfaces.IFingerService} to
L{twisted.web.resource.IResource}; import it to register the adapter.
"""
