"""
The manhole's command line: C{--manhole ENDPOINT} (off by default),
C{--manhole-keys FILE} (required with it), C{--manhole-host-key FILE}.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service

from finger.adapt import frontend
from finger.listen import endpointDescriptions, listen
from finger.tap.errors import StartupError

DEFAULT_HOST_KEY = "manhole_host_key"


class ManholeOptions:
    """Options mixin for L{finger.tap.Options}."""

    optParameters: list[Any] = [
        ["manhole", None, None,
         "Serve a Python console (manhole) over SSH on this endpoint, e.g. "
         "tcp:2222:interface=127.0.0.1 (off by default; public keys only)."],
        ["manhole-keys", None, None,
         "The public keys allowed into the manhole (OpenSSH authorized_keys format); "
         "required with --manhole."],
        ["manhole-host-key", None, DEFAULT_HOST_KEY,
         "The manhole's SSH host key, created (mode 0600) if missing."],
    ]


def addManhole(top: service.MultiService, backend, options) -> None:
    """Listen for the manhole if the options ask for it."""
    descriptions = endpointDescriptions([options["manhole"]] if options["manhole"] else [], [])
    if not descriptions:
        return
    # Imported only when asked for: twisted.conch is a large import, and on
    # Debian 12 it warns about deprecated ciphers at import time.
    from finger.frontends.manhole import (
        IManholeFactory,
        ManholeError,
        ManholeSettings,
        loadOrCreateHostKey,
        readAuthorizedKeys,
    )

    if not options["manhole-keys"]:
        raise StartupError(
            "--manhole needs --manhole-keys FILE (OpenSSH authorized_keys format): "
            "it accepts public keys only"
        )
    try:
        settings = ManholeSettings(
            authorizedKeys=readAuthorizedKeys(options["manhole-keys"]),
            hostKey=loadOrCreateHostKey(options["manhole-host-key"]),
            namespace={"top": top},
        )
    except ManholeError as e:
        raise StartupError(f"manhole: {e}") from None
    factory = frontend(IManholeFactory, backend, settings)
    for description in descriptions:
        listen(top, "manhole", description, factory, limits=options.limits)
