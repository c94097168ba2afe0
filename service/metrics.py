"""Prometheus metrics of the service, kept with ``prometheus_client``.

With one process the values live in memory (one registry per app). Under ``lapor-triage serve
--workers N`` the serve command sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, so
``prometheus_client`` keeps every value in a per-process file there (multiprocess mode) and a
scrape of ``GET /metrics`` on any worker adds up the files of all workers, dead ones included
(counters never go backwards). ``render()`` produces the body, in the text format 0.0.4.

The two rates (``lapor_triage_abstain_rate``, ``lapor_replies_normatif_rate``) are computed at
scrape time from the summed counters, so they too cover every worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LabelValues = tuple[str, ...]

# No ``*_created`` series: the names and series documented in service/README.md stay as they
# were (and multiprocess mode has none anyway). Process-wide, as prometheus_client offers it.
prometheus_client.disable_created_metrics()


def multiprocess_mode() -> bool:
    """True when prometheus_client keeps its values in ``PROMETHEUS_MULTIPROC_DIR`` (decided by
    prometheus_client when it is first imported, from the environment)."""
    return values.ValueClass is not values.MutexValue


class Counter:
    """A counter with the service's call style: ``inc(amount, *label_values)``."""

    def __init__(
        self, name: str, help: str, labelnames: Iterable[str] = (), *, registry: CollectorRegistry
    ):
        self.labelnames = tuple(labelnames)
        self._metric = prometheus_client.Counter(name, help, self.labelnames, registry=registry)
        self._children: dict[LabelValues, prometheus_client.Counter] = {}

    def _child(self, labels: LabelValues) -> prometheus_client.Counter:
        if not self.labelnames:
            return self._metric
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*labels)
        return child

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        self._child(labels).inc(amount)


class Histogram:
    """A histogram with the service's call style: ``observe(value, *label_values)``."""

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Iterable[str] = (),
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
        *,
        registry: CollectorRegistry,
    ):
        self.labelnames = tuple(labelnames)
        self._metric = prometheus_client.Histogram(
            name, help, self.labelnames, buckets=buckets, registry=registry
        )
        self._children: dict[LabelValues, prometheus_client.Histogram] = {}

    def observe(self, value: float, *labels: str) -> None:
        if not self.labelnames:
            self._metric.observe(value)
            return
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*labels)
        child.observe(value)


class _Collected:
    """Already collected metric families, in the shape ``generate_latest`` reads."""

    def __init__(self, families: list[Metric]):
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


class ServiceMetrics:
    """The metrics of one app instance (in multiprocess mode: of all worker processes)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_mode()
        r = self.registry
        self.requests = Counter(
            "lapor_http_requests_total",
            "HTTP requests by route and status",
            ("method", "route", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "lapor_http_request_duration_seconds",
            "HTTP request latency",
            ("method", "route"),
            registry=r,
        )
        self.reports = Counter("lapor_triage_reports_total", "reports triaged", registry=r)
        self.abstained = Counter(
            "lapor_triage_abstained_total", "reports where the agency router abstained", registry=r
        )
        self.report_types = Counter(
            "lapor_triage_report_type_total",
            "predicted report types",
            ("report_type",),
            registry=r,
        )
        self.replies = Counter(
            "lapor_replies_assessed_total",
            "replies assessed by predicted label",
            ("label",),
            registry=r,
        )
        self.feedback = Counter(
            "lapor_feedback_total", "feedback stored", ("kind", "decision"), registry=r
        )
        self.reloads = Counter(
            "lapor_model_reloads_total", "model reload attempts", ("outcome",), registry=r
        )
        self.batch_size = Histogram(
            "lapor_batch_size",
            "items per prediction request",
            ("endpoint",),
            buckets=(1, 2, 5, 10, 25, 50, 100, 256, 1000),
            registry=r,
        )
        self.model_batch_size = Histogram(
            "lapor_triage_model_batch_size",
            "reports per model call of the triage micro-batcher (requests queued together)",
            (),
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )

    def collect(self) -> list[Metric]:
        """Every metric family: this process's, or in multiprocess mode all workers' summed."""
        if self.multiprocess:
            families = list(MultiProcessCollector(None).collect())
            families.sort(key=lambda family: family.name)
        else:
            families = list(self.registry.collect())
        return families + self._rates(families)

    def render(self) -> str:
        return generate_latest(_Collected(self.collect())).decode("utf-8")

    @staticmethod
    def _rates(families: list[Metric]) -> list[Metric]:
        def total(sample_name: str, **labels: str) -> float:
            return sum(
                s.value
                for family in families
                for s in family.samples
                if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
            )

        def ratio(a: float, b: float) -> float:
            return a / b if b else 0.0

        abstain = GaugeMetricFamily(
            "lapor_triage_abstain_rate",
            "share of triaged reports where the router abstained",
            value=ratio(total("lapor_triage_abstained_total"), total("lapor_triage_reports_total")),
        )
        normatif = GaugeMetricFamily(
            "lapor_replies_normatif_rate",
            "share of assessed replies judged normatif",
            value=ratio(
                total("lapor_replies_assessed_total", label="normatif"),
                total("lapor_replies_assessed_total"),
            ),
        )
        return [abstain, normatif]
