"""
The only place where finger uses Twisted's private APIs.

Each use below exists because Twisted offers no public way to do the same
thing; each names the Twisted versions it was checked on, and has a test in
C{tests/unit/test_compat.py} that fails if Twisted changes it.
"""

from __future__ import annotations

from typing import Any

from twisted.web import http

# HTTP/2 (twisted.web._http2, present when the h2 and priority packages are).
# Twisted offers it only through Site's default channel, which switches to
# it when TLS negotiated h2; finger's own channel (web/site.py) does the same
# switch, so it needs the class.  Checked: Twisted 22.4, 26.10 (h2 4.1, 4.4).
H2_ENABLED: bool = bool(getattr(http, "H2_ENABLED", False))
H2Connection: Any = None
if H2_ENABLED:
    from twisted.web._http2 import H2Connection  # noqa: F401, F811 (finger.frontends.web.site)


def requestLine(channel: http.HTTPChannel) -> tuple[bytes | None, bytes | None, bytes | None]:
    """
    The method, path and version of the request line an L{http.HTTPChannel}
    is reading the headers of (C{None} where it has none yet).

    HTTPChannel keeps them in C{_command}, C{_path} and C{_version} from the
    request line until the request is complete, and has no public way to
    them before the body arrives.  Checked: Twisted 22.4, 26.10.
    """
    return (
        getattr(channel, "_command", None),
        getattr(channel, "_path", None),
        getattr(channel, "_version", None),
    )
