"""
Credentials from an HTTP request's C{Authorization} header, and the
request facts the write flow (L{finger.frontends.publish}) needs.

  - C{Basic} (RFC 7617): a name and a password or an API token, as
    C{IUsernamePassword};
  - C{Bearer} (RFC 6750): an API token alone, as L{IBearerToken}.

Anything else, or a malformed header, is L{MalformedCredentials}: refused as
a failed login.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.internet.address import IPv4Address, IPv6Address

from finger.accounts.cred import BearerToken
from finger.frontends.publish import LoginFailed

MAX_HEADER = 4096


class MalformedCredentials(LoginFailed):
    """An C{Authorization} header that is neither Basic nor Bearer, or is broken."""

    outcome = "malformed credentials"


def credentialsFrom(request: Any) -> ICredentials | None:
    """The request's credentials, C{None} if it has none; raise L{MalformedCredentials}."""
    header = request.getHeader(b"authorization")
    if header is None:
        return None
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if len(header) > MAX_HEADER:
        raise MalformedCredentials()
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return BearerToken(value)
    if scheme.lower() == "basic" and value:
        try:
            decoded = b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedCredentials() from None
        name, colon, password = decoded.partition(b":")
        if colon:
            return UsernamePassword(name, password)
    raise MalformedCredentials()


def clientAddress(request: Any) -> object:
    """
    The client's address, for the loopback check and the login throttle:
    the connection's peer, or, behind a trusted proxy (C{--trusted-proxy},
    L{finger.frontends.web.forwarded}), the client the proxy names, so
    that clients behind one proxy are neither all "loopback" nor all
    throttled together.
    """
    origin = request.origin
    if origin is None or origin.proxy is None:
        return request.getClientAddress()
    host = origin.address
    return IPv6Address("TCP", host, 0) if ":" in host else IPv4Address("TCP", host, 0)
