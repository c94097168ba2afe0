"""Prometheus metrics in the text exposition format (0.0.4), written without a client library.

Counters and histograms are process-local and thread-safe; ``render()`` produces the body of
``GET /metrics``.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: LabelValues, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labelnames: Iterable[str] = ()):
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Iterable[str] = ()):
        super().__init__(name, help, labelnames)
        self._values: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        with self._lock:
            return self._values.get(labels, 0.0)

    def total(self) -> float:
        with self._lock:
            return sum(self._values.values())

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.labelnames:
            items = [((), 0.0)]  # an unlabelled counter starts at 0
        lines = self.header()
        lines += [f"{self.name}{_labels(self.labelnames, k)} {_num(v)}" for k, v in items]
        return lines


class Gauge(_Metric):
    """A gauge whose value is computed when scraped."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help: str,
        fn: Callable[[], dict[LabelValues, float]],
        labelnames: Iterable[str] = (),
    ):
        super().__init__(name, help, labelnames)
        self._fn = fn

    def render(self) -> list[str]:
        lines = self.header()
        for k, v in sorted(self._fn().items()):
            lines.append(f"{self.name}{_labels(self.labelnames, k)} {_num(v)}")
        return lines


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Iterable[str] = (),
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ):
        super().__init__(name, help, labelnames)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[LabelValues, list[int]] = {}
        self._sums: dict[LabelValues, float] = {}

    def observe(self, value: float, *labels: str) -> None:
        i = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts = self._counts.get(labels)
            if counts is None:
                counts = self._counts[labels] = [0] * (len(self.buckets) + 1)
                self._sums[labels] = 0.0
            counts[i] += 1
            self._sums[labels] += value

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        lines = self.header()
        for labels, counts, total in items:
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += count
                le = f'le="{_num(bound)}"'
                lines.append(
                    f"{self.name}_bucket{_labels(self.labelnames, labels, le)} {cumulative}"
                )
            lines.append(f"{self.name}_sum{_labels(self.labelnames, labels)} {total!r}")
            lines.append(f"{self.name}_count{_labels(self.labelnames, labels)} {cumulative}")
        return lines


class ServiceMetrics:
    """The metrics of one app instance."""

    def __init__(self) -> None:
        self.requests = Counter(
            "lapor_http_requests_total",
            "HTTP requests by route and status",
            ("method", "route", "status"),
        )
        self.latency = Histogram(
            "lapor_http_request_duration_seconds", "HTTP request latency", ("method", "route")
        )
        self.reports = Counter("lapor_triage_reports_total", "reports triaged")
        self.abstained = Counter(
            "lapor_triage_abstained_total", "reports where the agency router abstained"
        )
        self.report_types = Counter(
            "lapor_triage_report_type_total", "predicted report types", ("report_type",)
        )
        self.replies = Counter(
            "lapor_replies_assessed_total", "replies assessed by predicted label", ("label",)
        )
        self.feedback = Counter("lapor_feedback_total", "feedback stored", ("kind", "decision"))
        self.reloads = Counter("lapor_model_reloads_total", "model reload attempts", ("outcome",))
        self.batch_size = Histogram(
            "lapor_batch_size",
            "items per prediction request",
            ("endpoint",),
            buckets=(1, 2, 5, 10, 25, 50, 100, 256, 1000),
        )
        self.model_batch_size = Histogram(
            "lapor_triage_model_batch_size",
            "reports per model call of the triage micro-batcher (requests queued together)",
            (),
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        )
        self._gauges: list[Gauge] = [
            Gauge(
                "lapor_triage_abstain_rate",
                "share of triaged reports where the router abstained",
                lambda: {(): self._ratio(self.abstained.total(), self.reports.total())},
            ),
            Gauge(
                "lapor_replies_normatif_rate",
                "share of assessed replies judged normatif",
                lambda: {(): self._ratio(self.replies.value("normatif"), self.replies.total())},
            ),
        ]

    @staticmethod
    def _ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    def add_gauge(self, gauge: Gauge) -> None:
        self._gauges.append(gauge)

    def render(self) -> str:
        lines: list[str] = []
        for metric in (
            self.requests,
            self.latency,
            self.reports,
            self.abstained,
            self.report_types,
            self.replies,
            self.feedback,
            self.reloads,
            self.batch_size,
            self.model_batch_size,
            *self._gauges,
        ):
            lines += metric.render()
        return "\n".join(lines) + "\n"
