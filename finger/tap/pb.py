"""The C{--pb} option of C{twistd finger} and the PB listeners it adds."""

from __future__ import annotations

from typing import Any, cast

from twisted.application import service

from finger.accounts.gate import Authenticator
from finger.adapt import frontend
from finger.frontends.pb import IFingerPBFactory, PBSettings
from finger.interfaces import IFingerService
from finger.listen import endpointDescriptions, listen

DEFAULT_ENDPOINTS = ["tcp:8889"]


class PBOptions:
    """The Perspective Broker option of C{twistd finger} (a mixin)."""

    def opt_pb(self, description: str) -> None:
        """Endpoint for the Perspective Broker frontend (repeatable; default tcp:8889)."""
        # Mixed into usage.Options, a dict.
        cast("dict[str, list[str]]", self).setdefault("pb", []).append(description)


def addPBListeners(
    top: service.MultiService,
    backend: IFingerService,
    options: Any,
    accounts: Authenticator | None = None,
) -> None:
    """
    Add the PB listeners the options ask for (default tcp:8889) to C{top};
    C{accounts} may log in (over TLS, C{--pb ssl:...}, or from this host).
    """
    settings = PBSettings(timeout=options["timeout"], queryLog=options.queryLog, accounts=accounts)
    for description in endpointDescriptions(options.get("pb", []), DEFAULT_ENDPOINTS):
        factory = frontend(IFingerPBFactory, backend, settings)
        listen(top, "pb", description, factory, limits=options.limits)
