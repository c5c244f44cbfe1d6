"""
Registers the C{finger-https:} endpoint type behind C{twistd finger --https}
(Twisted's C{ssl:} endpoint with a TLS 1.2 minimum; see
L{finger.frontends.web.tls}).
"""

from finger.frontends.web.tls import HTTPSServerParser

fingerHTTPS = HTTPSServerParser()
