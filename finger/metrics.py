"""
Counters for operators, served in Prometheus's text format
(C{--metrics ENDPOINT}, see L{finger.tap.metrics}).

Counting costs a few dictionary operations per query: the numbers live in
plain Python objects and become Prometheus metric families only when scraped
(L{Metrics.collect}, a C{prometheus_client} custom collector).
C{prometheus_client} is an optional dependency, imported only here, when
metrics are asked for: L{requirePrometheus} raises L{MetricsUnavailable}
without it.

  - C{finger_queries_total{frontend, outcome}} and the histogram
    C{finger_query_duration_seconds{frontend}}, from L{finger.querylog};
  - C{finger_open_connections{frontend, listener}} and
    C{finger_refused_connections_total{frontend, listener}}, read from each
    listener's L{finger.limits.LimitedFactory} when scraped;
  - C{finger_users_file_reloads_total} and the histogram
    C{finger_users_file_reload_seconds};
  - C{finger_store_writes_total} and C{finger_store_write_failures_total}.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from finger.errors import FingerConfigurationError

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
RELOAD_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MAX_OUTCOMES = 32  # distinct outcome labels per frontend; more become "other"
OUTCOME_CACHE = 1024


class MetricsUnavailable(FingerConfigurationError):
    """Metrics were asked for, but prometheus_client is not installed."""


def requirePrometheus() -> None:
    """Raise L{MetricsUnavailable} unless C{prometheus_client} can be imported."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise MetricsUnavailable(
            "--metrics needs prometheus_client "
            "(apt-get install python3-prometheus-client, or pip install prometheus_client)"
        ) from None


def outcomeKind(outcome: str) -> str:
    """
    The label of an outcome: its kind, not its details (C{"refused: Query too
    long (limit 1024 bytes)"} is C{refused}, C{"404 no such user"} is C{404},
    C{"listed 12 users"} is C{listed}).
    """
    head = outcome.split(":", 1)[0].split(" (", 1)[0].strip()
    first = head.split(" ", 1)[0]
    if first.isdigit() or first == "listed":
        return first
    return head[:40] or "?"


class Histogram:
    """Bucket counts, their sum and count, kept cheaply."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        """C{(le, count)} pairs, as Prometheus wants them (the last is C{+Inf})."""
        result, total = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            total += count
            result.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
        return result


class Metrics:
    """Everything C{--metrics} reports; see the module docstring."""

    def __init__(self) -> None:
        self.queries: dict[tuple[str, str], int] = {}
        self.latency: dict[str, Histogram] = {}
        self._kinds: dict[tuple[str, str], str] = {}
        self._kindsPerFrontend: dict[str, set[str]] = {}
        self.listeners: list[tuple[str, str, Any]] = []
        self.reloads = Histogram(RELOAD_BUCKETS)
        self.storeWrites = 0
        self.storeFailures = 0

    # Recording

    def query(self, frontend: str, outcome: str, seconds: float) -> None:
        """Count one query and its latency."""
        key = self._kinds.get((frontend, outcome))
        if key is None:
            key = self._kind(frontend, outcome)
        self.queries[(frontend, key)] = self.queries.get((frontend, key), 0) + 1
        histogram = self.latency.get(frontend)
        if histogram is None:
            histogram = self.latency[frontend] = Histogram(LATENCY_BUCKETS)
        histogram.observe(seconds)

    def _kind(self, frontend: str, outcome: str) -> str:
        kind = outcomeKind(outcome)
        seen = self._kindsPerFrontend.setdefault(frontend, set())
        if kind not in seen:
            if len(seen) >= MAX_OUTCOMES:
                kind = "other"
            seen.add(kind)
        if len(self._kinds) >= OUTCOME_CACHE:
            self._kinds.clear()
        self._kinds[(frontend, outcome)] = kind
        return kind

    def addListener(self, frontend: str, listener: str, factory: Any) -> None:
        """
        Report C{factory}'s open connections (its C{protocols}) and refusals
        (its C{refused}): a L{finger.limits.LimitedFactory}.
        """
        self.listeners.append((frontend, listener, factory))

    def reloaded(self, seconds: float) -> None:
        """The users file was read again, in C{seconds}."""
        self.reloads.observe(seconds)

    def stored(self, ok: bool) -> None:
        """A status write to the store succeeded (or failed)."""
        if ok:
            self.storeWrites += 1
        else:
            self.storeFailures += 1

    # prometheus_client's custom collector

    def describe(self) -> list[Any]:
        return []  # collected only when scraped

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        queries = CounterMetricFamily(
            "finger_queries", "Queries answered, by frontend and outcome",
            labels=["frontend", "outcome"],
        )
        for (frontend, outcome), count in sorted(self.queries.items()):
            queries.add_metric([frontend, outcome], count)
        yield queries
        latency = HistogramMetricFamily(
            "finger_query_duration_seconds", "Time from a query's arrival to its answer",
            labels=["frontend"],
        )
        for frontend, histogram in sorted(self.latency.items()):
            latency.add_metric([frontend], histogram.cumulative(), histogram.sum)
        yield latency
        connections = GaugeMetricFamily(
            "finger_open_connections", "Connections open, per listener",
            labels=["frontend", "listener"],
        )
        refused = CounterMetricFamily(
            "finger_refused_connections", "Connections refused by the limits, per listener",
            labels=["frontend", "listener"],
        )
        for frontend, listener, factory in self.listeners:
            connections.add_metric([frontend, listener], len(factory.protocols))
            refused.add_metric([frontend, listener], factory.refused)
        yield connections
        yield refused
        reloads = HistogramMetricFamily(
            "finger_users_file_reload_seconds", "Users-file reloads and their duration",
        )
        reloads.add_metric([], self.reloads.cumulative(), self.reloads.sum)
        yield reloads
        yield CounterMetricFamily(
            "finger_users_file_reloads", "Users-file reloads",
            value=sum(self.reloads.counts),
        )
        yield CounterMetricFamily(
            "finger_store_writes", "Statuses written to the store", value=self.storeWrites,
        )
        yield CounterMetricFamily(
            "finger_store_write_failures", "Status writes the store failed",
            value=self.storeFailures,
        )


def metricsResource(metrics: Metrics) -> Any:
    """
    A twisted.web resource serving C{metrics} (and nothing else) in the text
    format, rendered in the reactor's thread (the counters are not locked).
    """
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from twisted.web.resource import Resource

    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)

    class MetricsPage(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
            return generate_latest(registry)

    return MetricsPage()
