"""
HTTPS listeners: Twisted's C{ssl:} endpoint syntax, TLS 1.2 or newer only.

C{--https ssl:8443:privateKey=key.pem:certKey=cert.pem} takes the same
arguments as Twisted's C{ssl:} endpoints, but Twisted's own parser would
still accept TLS 1.0 and 1.1 on Twisted 22.4 and cannot be told otherwise.
So L{httpsDescription} renames the endpoint type to C{finger-https}, whose
parser (L{HTTPSServerParser}, a plugin in C{twisted/plugins/finger_https.py})
builds the same listener with a TLS 1.2 minimum, and turns a missing,
unreadable, malformed or mismatched key or certificate into a one-line
L{TLSConfigurationError} naming the file (the tap layer makes it a start-up
error).
"""

from __future__ import annotations

import re

from OpenSSL import SSL, crypto
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.interfaces import IReactorSSL, IStreamServerEndpointStringParser
from twisted.plugin import IPlugin
from twisted.python.filepath import FilePath
from zope.interface import implementer

from finger.errors import FingerConfigurationError

PREFIX = "finger-https"
MINIMUM_TLS = ssl.TLSVersion.TLSv1_2
_CERTIFICATE_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


class TLSConfigurationError(FingerConfigurationError, ValueError):
    """The HTTPS endpoint, key or certificate cannot be used; one line naming the file."""


def httpsDescription(description: str) -> str:
    """Turn the C{ssl:} endpoint string given to C{--https} into a C{finger-https:} one."""
    kind, colon, rest = description.partition(":")
    if kind.strip().lower() != "ssl" or not colon:
        raise TLSConfigurationError(
            "--https wants an ssl: endpoint, e.g. "
            f"ssl:8443:privateKey=key.pem:certKey=cert.pem, not {description!r}"
        )
    return f"{PREFIX}:{rest}"


def _read(path: str, what: str) -> bytes:
    try:
        return FilePath(path).getContent()
    except OSError as e:
        raise TLSConfigurationError(f"cannot read the HTTPS {what} {path}: {e.strerror or e}") from None


def _loadKey(path: str) -> ssl.KeyPair:
    data = _read(path, "private key")
    try:
        return ssl.KeyPair.load(data, crypto.FILETYPE_PEM)
    except Exception:
        raise TLSConfigurationError(f"the HTTPS private key {path} is not a PEM private key") from None


def _loadCertificate(path: str) -> ssl.Certificate:
    data = _read(path, "certificate")
    try:
        return ssl.Certificate.loadPEM(data)
    except Exception:
        raise TLSConfigurationError(f"the HTTPS certificate {path} is not a PEM certificate") from None


def _loadChain(path: str) -> list:
    blocks = _CERTIFICATE_BLOCK.findall(_read(path, "certificate chain"))
    try:
        chain = [ssl.Certificate.loadPEM(block).original for block in blocks]
    except Exception:
        chain = []
    if not chain or len(chain) != len(blocks):
        raise TLSConfigurationError(f"the HTTPS certificate chain {path} holds no valid PEM certificates")
    return chain


def certificateOptions(
    privateKey: str = "server.pem",
    certKey: str | None = None,
    extraCertChain: str | None = None,
    dhParameters: str | None = None,
) -> ssl.CertificateOptions:
    """
    The TLS server settings for a key and certificate file (PEM): TLS 1.2
    or newer, Twisted's default ciphers.  Raises L{TLSConfigurationError} naming
    the file at fault.
    """
    certKey = certKey or privateKey
    key = _loadKey(privateKey)
    certificate = _loadCertificate(certKey)
    try:
        ssl.PrivateCertificate.fromCertificateAndKeyPair(certificate, key)
    except Exception:  # twisted.internet._sslverify.VerifyError
        raise TLSConfigurationError(
            f"the HTTPS private key {privateKey} does not match the certificate {certKey}"
        ) from None
    options = ssl.CertificateOptions(
        privateKey=key.original,
        certificate=certificate.original,
        extraCertChain=_loadChain(extraCertChain) if extraCertChain else None,
        dhParameters=(
            ssl.DiffieHellmanParameters.fromFile(FilePath(dhParameters)) if dhParameters else None
        ),
        raiseMinimumTo=MINIMUM_TLS,
    )
    try:
        options.getContext()  # Check it all now, not at the first client.
    except SSL.Error as e:
        raise TLSConfigurationError(
            f"cannot use the HTTPS key {privateKey} and certificate {certKey}: {e}"
        ) from None
    return options


@implementer(IPlugin, IStreamServerEndpointStringParser)
class HTTPSServerParser:
    """
    C{finger-https:PORT:privateKey=...:certKey=...}: Twisted's C{ssl:}
    endpoint (same arguments, except C{sslmethod}) with a TLS 1.2 minimum.
    """

    prefix = PREFIX

    # The interface declares (reactor: IReactorCore, *args: object, **kwargs:
    # object), which no parser with named, typed options can match; Twisted's
    # own parsers are untyped.  The endpoint string gives only str options.
    def parseStreamServer(  # type: ignore[override]
        self,
        reactor: IReactorSSL,
        port: str,
        privateKey: str = "server.pem",
        certKey: str | None = None,
        interface: str = "",
        backlog: str = "50",
        extraCertChain: str | None = None,
        dhParameters: str | None = None,
        **unknown: str,
    ) -> SSL4ServerEndpoint:
        if "sslmethod" in unknown:
            raise TLSConfigurationError(
                "--https: leave out sslmethod; HTTPS always allows TLS 1.2 and newer only"
            )
        if unknown:
            raise TLSConfigurationError(
                f"--https: unknown ssl: endpoint option(s): {', '.join(sorted(unknown))}"
            )
        options = certificateOptions(privateKey, certKey, extraCertChain, dhParameters)
        return SSL4ServerEndpoint(
            reactor, int(port), options, backlog=int(backlog), interface=interface
        )
