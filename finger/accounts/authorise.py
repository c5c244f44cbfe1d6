"""The one authorisation rule for writes."""

from __future__ import annotations

from finger.accounts.cred import IAccountAvatar


def mayWriteStatus(avatar: IAccountAvatar, target: str) -> bool:
    """A user may write only their own status; an admin anyone's."""
    return bool(avatar.admin) or avatar.name == target
