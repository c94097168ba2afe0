"""Micro-batching of triage requests.

Predictors cost far less per report in one call over many reports than in many calls over one
(TF-IDF and a linear model: ~9 ms for 1 report, ~60 ms for 100). Requests arriving while the worker
thread is busy are queued; when it is free it takes everything queued (up to ``max_reports``)
and runs the models once. Nothing waits on purpose: at low load each request runs alone.

A request keeps the model set it started with: queued requests are grouped by model set, so a
reload never changes the model under a request in flight.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from lapor_triage.service.model_store import ModelSet

log = logging.getLogger(__name__)

_STOP = object()


@dataclass
class _Job:
    models: ModelSet
    records: list[dict[str, Any]]
    top: int
    future: Future = field(default_factory=Future)


class TriageBatcher:
    def __init__(self, max_reports: int = 512, on_batch: Callable[[int], None] | None = None):
        self.max_reports = max_reports
        self.on_batch = on_batch  # called with the reports of each model call (metrics)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="triage-batcher", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(_STOP)
                self._thread.join(timeout=10)
                self._thread = None

    async def predict(
        self, models: ModelSet, records: list[dict[str, Any]], top: int
    ) -> tuple[list[dict], list[dict]]:
        """(report-type outputs, agency outputs) for ``records``, computed with ``models``."""
        if self._thread is None or not self._thread.is_alive():
            self.start()
        job = _Job(models, records, top)
        self._queue.put(job)
        return await asyncio.wrap_future(job.future)

    # --- the worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            from sklearn import config_context

            context = config_context(assume_finite=True, skip_parameter_validation=True)
        except Exception:  # an older scikit-learn: run with its defaults
            from contextlib import nullcontext

            context = nullcontext()
        with context:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                jobs = [first]
                size = len(first.records)
                stop = False
                while size < self.max_reports:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        stop = True
                        break
                    jobs.append(job)
                    size += len(job.records)
                self._process(jobs)
                if stop:
                    return

    def _process(self, jobs: list[_Job]) -> None:
        groups: dict[tuple[int, int], list[_Job]] = {}
        for job in jobs:
            groups.setdefault((id(job.models), job.top), []).append(job)
        for group in groups.values():
            models, top = group[0].models, group[0].top
            records = [r for job in group for r in job.records]
            if self.on_batch is not None:
                self.on_batch(len(records))
            try:
                types = models.get("report-type").predictor.predict_records(records)
                agencies = models.get("agency").predictor.predict_records(records, top=top)
            except Exception as exc:
                log.error("triage prediction failed: %s: %s", type(exc).__name__, exc)
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job in group:
                end = start + len(job.records)
                job.future.set_result((types[start:end], agencies[start:end]))
                start = end
