"""
C{--metrics ENDPOINT}: Prometheus's text format on its own listener (off by
default), from L{finger.metrics}.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.python import usage
from twisted.web.server import Site

from finger.listen import ListeningService, listen
from finger.metrics import Metrics, metricsResource, requirePrometheus


class MetricsOptions(usage.Options):
    optParameters: list[Any] = [
        ["metrics", None, None,
         "Endpoint serving Prometheus metrics, e.g. tcp:9100:interface=127.0.0.1 "
         "(off by default; needs prometheus_client)."],
    ]

    def metricsWanted(self) -> Metrics | None:
        """A L{Metrics} to count into, if C{--metrics} was given."""
        return Metrics() if self["metrics"] and self["metrics"] != "none" else None


def _listeners(top: service.IServiceCollection) -> list[ListeningService]:
    found = []
    for child in top:
        if isinstance(child, ListeningService):
            found.append(child)
        elif isinstance(child, service.MultiService):
            found.extend(_listeners(child))
    return found


def addMetrics(top: service.MultiService, metrics: Metrics | None, options: usage.Options) -> None:
    """
    Serve C{metrics} on C{--metrics}, reporting every listener already in
    C{top} (call it last); raises L{finger.metrics.MetricsUnavailable}
    without prometheus_client.
    """
    if metrics is None:
        return
    requirePrometheus()
    for listener in _listeners(top):
        metrics.addListener(listener.frontend, listener.description, listener.factory)
    site = Site(metricsResource(metrics))
    site.noisy = False
    listen(top, "metrics", options["metrics"], site, limits=options.limits)  # type: ignore[attr-defined]
