"""
What the SQLite and PostgreSQL account stores do alike: the columns they
select, how a row becomes a record, the name check, and the bound on a
stored WebFinger entry.  Only the placeholders and transactions differ
(L{finger.accounts.sqlite}, L{finger.accounts.postgres}).
"""

from __future__ import annotations

from finger.accounts.interfaces import MAX_WEBFINGER_BYTES, Account, AccountError, TokenRecord
from finger.users import userNameProblem

SELECT_ACCOUNT = "SELECT name, password_hash, admin, created_at, last_used_at FROM accounts"
SELECT_TOKEN = "SELECT id, name, token_hash, created_at, last_used_at FROM tokens"


def checkName(name: str) -> None:
    """Raise L{AccountError} unless C{name} may name an account."""
    problem = userNameProblem(name)
    if problem:
        raise AccountError(f"invalid account name: {problem}")


def checkWebFinger(entry: str | None) -> None:
    """Raise L{AccountError} if C{entry} is longer than a store keeps."""
    if entry is not None and len(entry.encode("utf-8")) > MAX_WEBFINGER_BYTES:
        raise AccountError(
            f"a WebFinger entry is at most {MAX_WEBFINGER_BYTES // 1024} KiB of JSON"
        )


def accountFromRow(row: tuple) -> Account:
    """An L{Account} from a row of L{SELECT_ACCOUNT}."""
    return Account(row[0], row[1], bool(row[2]), row[3], row[4])


def tokenFromRow(row: tuple) -> TokenRecord:
    """A L{TokenRecord} from a row of L{SELECT_TOKEN}."""
    return TokenRecord(row[0], row[1], row[2], row[3], row[4])
