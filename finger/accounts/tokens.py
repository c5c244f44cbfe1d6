"""
API tokens: random, shown once, stored only as hashes, revocable.

A token reads C{fngr_<id>_<secret>}: the prefix makes a leaked token easy to
recognise (and to scan for), the C{id} (12 hex digits) is public and names
the token (C{finger-admin revoke NAME ID}, logs), the secret is 32 random
bytes from L{secrets} (256 bits, URL-safe base64, so a token fits in a URL's
user-info and in an HTTP header as it is).

The store keeps SHA-256 of the whole token.  A fast hash is right here, and
a slow one would only cost time: the token is 256 bits of randomness, so
nobody can guess it or search for it from its hash, whatever the hash's
speed (passwords, chosen by people, need argon2id's slowness; tokens do
not).  Comparison is constant-time (L{hmac.compare_digest}).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "fngr_"
ID_HEX_DIGITS = 12
SECRET_BYTES = 32
_TOKEN = re.compile(r"fngr_([0-9a-f]{12})_[A-Za-z0-9_-]{43}\Z")


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: C{token} is shown once and never stored."""

    id: str
    token: str
    tokenHash: str

    def __repr__(self) -> str:
        return f"NewToken(id={self.id!r})"


def newToken() -> NewToken:
    """Make a new random token."""
    tokenId = secrets.token_hex(ID_HEX_DIGITS // 2)
    token = f"{PREFIX}{tokenId}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewToken(tokenId, token, hashToken(token))


def tokenId(text: str) -> str | None:
    """The id of C{text} if it has a token's form, else C{None}."""
    match = _TOKEN.match(text)
    return match.group(1) if match else None


def looksLikeToken(text: str) -> bool:
    """Whether C{text} has a token's form (so it is checked as one)."""
    return tokenId(text) is not None


def hashToken(token: str) -> str:
    """The stored form of C{token}: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokenMatches(token: str, tokenHash: str) -> bool:
    """Whether C{token} hashes to C{tokenHash}, compared in constant time."""
    return hmac.compare_digest(hashToken(token).encode("ascii"), tokenHash.encode("ascii", "replace"))
