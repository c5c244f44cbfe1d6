"""finger.metrics: cheap counters, rendered in Prometheus's text format."""

import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twisted.web.test.requesthelper import DummyRequest

from finger.metrics import (
    MAX_OUTCOMES,
    Metrics,
    MetricsUnavailable,
    metricsResource,
    outcomeKind,
    requirePrometheus,
)


class FakeListener:
    def __init__(self) -> None:
        self.protocols = {object(): 1, object(): 1}
        self.refused = 3


def scrape(metrics: Metrics) -> dict:
    request = DummyRequest([b""])
    body = metricsResource(metrics).render(request)
    assert request.responseHeaders.getRawHeaders(b"content-type")[0].startswith(b"text/plain")
    samples = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_countersMove() -> None:
    metrics = Metrics()
    metrics.query("finger", "found", 0.0003)
    metrics.query("finger", "found", 0.2)
    metrics.query("finger", "refused: Query too long (limit 1024 bytes)", 0.001)
    metrics.query("web", "404 no such user", 0.002)
    metrics.addListener("finger", "tcp:79", FakeListener())
    metrics.reloaded(0.5)
    metrics.stored(True)
    metrics.stored(False)
    s = scrape(metrics)
    assert s[("finger_queries_total", (("frontend", "finger"), ("outcome", "found")))] == 2
    assert s[("finger_queries_total", (("frontend", "finger"), ("outcome", "refused")))] == 1
    assert s[("finger_queries_total", (("frontend", "web"), ("outcome", "404")))] == 1
    assert s[("finger_query_duration_seconds_count", (("frontend", "finger"),))] == 3
    assert s[("finger_query_duration_seconds_bucket", (("frontend", "finger"), ("le", "0.0005")))] == 1
    assert s[("finger_query_duration_seconds_bucket", (("frontend", "finger"), ("le", "+Inf")))] == 3
    assert s[("finger_query_duration_seconds_sum", (("frontend", "finger"),))] == pytest.approx(0.2013)
    labels = (("frontend", "finger"), ("listener", "tcp:79"))
    assert s[("finger_open_connections", labels)] == 2
    assert s[("finger_refused_connections_total", labels)] == 3
    assert s[("finger_users_file_reloads_total", ())] == 1
    assert s[("finger_users_file_reload_seconds_count", ())] == 1
    assert s[("finger_store_writes_total", ())] == 1
    assert s[("finger_store_write_failures_total", ())] == 1


def test_outcomeLabelsAreKindsAndBounded() -> None:
    assert outcomeKind("listed 12 users") == "listed"
    assert outcomeKind("connection lost before the answer (200)") == "connection lost before the answer"
    metrics = Metrics()
    for i in range(MAX_OUTCOMES * 3):
        metrics.query("finger", f"backend says {i}", 0.001)
    kinds = {outcome for (frontend, outcome) in metrics.queries}
    assert len(kinds) <= MAX_OUTCOMES + 1
    assert "other" in kinds
    assert sum(metrics.queries.values()) == MAX_OUTCOMES * 3


def test_missingPrometheusClientIsAOneLineError(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(MetricsUnavailable) as error:
        requirePrometheus()
    assert "\n" not in str(error.value)
    assert "python3-prometheus-client" in str(error.value)
