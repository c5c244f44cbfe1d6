"""A throwaway certificate authority and server certificate for TLS tests."""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class CertificateFiles:
    dir: str
    ca: str  # the CA certificate clients trust
    key: str  # the server's private key
    cert: str  # the server's certificate (localhost, 127.0.0.1), signed by the CA
    otherKey: str  # a private key that matches nothing


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return path


def _keyPEM(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def makeCertificates(directory: str) -> CertificateFiles:
    """Write a CA, a server key and certificate, and a stray key into C{directory}."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    caKey = ec.generate_private_key(ec.SECP256R1())
    caCert = (
        x509.CertificateBuilder()
        .subject_name(_name("finger test CA"))
        .issuer_name(_name("finger test CA"))
        .public_key(caKey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(caKey, hashes.SHA256())
    )
    serverKey = ec.generate_private_key(ec.SECP256R1())
    serverCert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(caCert.subject)
        .public_key(serverKey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(caKey, hashes.SHA256())
    )
    otherKey = ec.generate_private_key(ec.SECP256R1())
    return CertificateFiles(
        dir=directory,
        ca=_write(
            os.path.join(directory, "ca.pem"), caCert.public_bytes(serialization.Encoding.PEM)
        ),
        key=_write(os.path.join(directory, "key.pem"), _keyPEM(serverKey)),
        cert=_write(
            os.path.join(directory, "cert.pem"), serverCert.public_bytes(serialization.Encoding.PEM)
        ),
        otherKey=_write(os.path.join(directory, "other-key.pem"), _keyPEM(otherKey)),
    )
