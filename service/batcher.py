"""Micro-batching of triage requests, in turns.

Predictors cost far less per report in one call over many reports than in many calls over one
(TF-IDF and a linear model: ~9 ms for 1 report, ~60 ms for 100). Requests arriving while the worker
thread is busy are queued; when it is free it runs the models once over a *round*: a slice of
every queued request (up to ``slice_chars`` characters of one request, ``max_reports`` reports in
all). A large request is thus predicted in several rounds, taking turns with the requests that
arrive meanwhile: a single report queued behind a 1,000,000-character batch waits for one slice,
not for the whole batch. Nothing waits on purpose: at low load each request runs alone.

Each round runs the report-type model, the agency models (the default one, and the unit model
of a report's ``penerima`` where the set holds one: each model once over its reports) and, when
the set holds one, the disposition model, all over the same slice.

A request keeps the model set it started with: a round is grouped by model set, so a reload
never changes the model under a request in flight.
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


@dataclass(eq=False)
class _Job:
    models: ModelSet
    records: list[dict[str, Any]]
    top: int
    future: Future = field(default_factory=Future)
    done: int = 0  # records predicted so far
    types: list = field(default_factory=list)
    agencies: list = field(default_factory=list)
    agency_models: list = field(default_factory=list)  # the model key that ranked each report
    dispositions: list = field(default_factory=list)  # None where no disposition model is loaded


class TriageBatcher:
    def __init__(
        self,
        max_reports: int = 512,
        on_batch: Callable[[int], None] | None = None,
        slice_chars: int = 50_000,
    ):
        self.max_reports = max_reports
        self.slice_chars = slice_chars
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
    ) -> tuple[list[dict], list[dict], list[str], list[dict | None]]:
        """(report-type outputs, agency outputs, the agency model key of each report, disposition
        outputs or ``None``) for ``records``, computed with ``models``."""
        if not records:
            return [], [], [], []
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
        pending: list[_Job] = []
        stop = False
        with context:
            while True:
                if not pending:
                    if stop:
                        return
                    first = self._queue.get()
                    if first is _STOP:
                        return
                    pending.append(first)
                while not stop:  # everything queued meanwhile joins this round
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        stop = True  # finish what is queued, then stop
                    else:
                        pending.append(job)
                served = self._round(pending)
                # the jobs served this round go to the back: the others go first next time
                waiting = [j for j in pending if j not in served]
                pending = waiting + [j for j in served if not j.future.done()]

    def _round(self, pending: list[_Job]) -> list[_Job]:
        """Predict one slice of each pending job (in order, within ``max_reports``); the jobs
        served."""
        slices: list[tuple[_Job, int]] = []  # (job, end of its slice)
        reports = 0
        for job in pending:
            if reports >= self.max_reports:
                break
            end, chars = job.done, 0
            while end < len(job.records) and reports < self.max_reports:
                size = len(job.records[end].get("text", ""))
                if end > job.done and chars + size > self.slice_chars:
                    break
                chars += size
                end += 1
                reports += 1
            slices.append((job, end))
        self._process(slices)
        return [job for job, _ in slices]

    def _process(self, slices: list[tuple[_Job, int]]) -> None:
        groups: dict[tuple[int, int], list[tuple[_Job, int]]] = {}
        for job, end in slices:
            groups.setdefault((id(job.models), job.top), []).append((job, end))
        for group in groups.values():
            models, top = group[0][0].models, group[0][0].top
            records = [r for job, end in group for r in job.records[job.done : end]]
            if self.on_batch is not None:
                self.on_batch(len(records))
            try:
                types = models.get("report-type").predictor.predict_records(records)
                agencies, keys = _agencies(models, records, top)
                disposition = models.get("disposition")
                dispositions = (
                    disposition.predictor.predict_records(records, top=top)
                    if disposition is not None
                    else [None] * len(records)
                )
            except Exception as exc:
                log.error("triage prediction failed: %s: %s", type(exc).__name__, exc)
                for job, _ in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job, end in group:
                n = end - job.done
                job.types.extend(types[start : start + n])
                job.agencies.extend(agencies[start : start + n])
                job.agency_models.extend(keys[start : start + n])
                job.dispositions.extend(dispositions[start : start + n])
                start += n
                job.done = end
                if job.done == len(job.records):
                    job.future.set_result(
                        (job.types, job.agencies, job.agency_models, job.dispositions)
                    )


def _agencies(
    models: ModelSet, records: list[dict[str, Any]], top: int
) -> tuple[list[dict], list[str]]:
    """Agency outputs and the model key of each record: each record's ``penerima`` picks its unit
    model (``ModelSet.agency_key_for``); every model runs once over its own records."""
    keys = [models.agency_key_for(r.get("penerima")) for r in records]
    if all(k == "agency" for k in keys):  # the usual case: one call, no regrouping
        return models.get("agency").predictor.predict_records(records, top=top), keys
    out: list[dict] = [{}] * len(records)
    for key in dict.fromkeys(keys):
        idx = [i for i, k in enumerate(keys) if k == key]
        preds = models.get(key).predictor.predict_records([records[i] for i in idx], top=top)
        for i, pred in zip(idx, preds, strict=True):
            out[i] = pred
    return out, keys
