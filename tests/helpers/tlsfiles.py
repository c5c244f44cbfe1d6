"""The files an HTTPS test needs, from the throwaway CA of tlsca.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.helpers.tlsca import CertificateAuthority

HOSTNAME = "localhost"


@dataclass
class CertificateFiles:
    dir: str
    ca: str  # the CA certificate clients trust
    key: str  # the server's private key
    cert: str  # the server's certificate for HOSTNAME, signed by the CA
    otherKey: str  # a private key that matches neither


def makeCertificates(directory: str) -> CertificateFiles:
    """A CA, a server key and certificate for HOSTNAME, and a stray key, in C{directory}."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    authority = CertificateAuthority(path)
    cert, key = authority.issue(HOSTNAME)
    _, otherKey = authority.issue("other.example")
    return CertificateFiles(str(path), str(authority.path), str(key), str(cert), str(otherKey))
