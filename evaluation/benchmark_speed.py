"""Speed of the default agency router: a figure printer, not a timed test.

    python -m lapor_triage.evaluation.benchmark_speed [--data FILE] [--task agency|report-type]
                                         [--repeat 300] [--batch 2000]
                                         [--small-batches 1 8 32]

Prints training time on the Surabaya file (target ≤ 60 s), batch prediction throughput
(target ≥ 2,000 reports/s), single-report in-process latency p50/p95 (target p50 ≤ 5 ms) and the
peak resident memory; ``--small-batches`` adds the p50/p95 of ``predict_records`` on batches of those
sizes (what the service's micro-batcher hands the models). Reads ../shared/data/surabaya_media_center_2022_2023.csv; where the real data
is absent it falls back to datasets/demo/reports.csv, and says so.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.models.base import load_model
from lapor_triage.paths import datasets_dir, shared_data_dir

SHARED = shared_data_dir() / "surabaya_media_center_2022_2023.csv"
DEMO = datasets_dir() / "demo" / "reports.csv"
TARGETS = {"train_s": 60.0, "batch_per_s": 2000.0, "p50_ms": 5.0}


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _data_file(arg: Path | None) -> Path | None:
    if arg is not None:
        return arg
    if SHARED.is_file():
        return SHARED
    if DEMO.is_file():
        print(f"real data {SHARED} is absent: falling back to the demo data {DEMO}")
        return DEMO
    return None


def small_batch_ms(
    model: Any, records: Sequence[Any], size: int, rng: np.random.Generator, n: int = 200
) -> tuple[float, float]:
    """p50 and p95 in ms of ``model.predict_records`` on ``n`` random runs of ``size`` records."""
    size = max(1, min(size, len(records)))
    starts = rng.integers(0, len(records) - size + 1, size=n)
    times = []
    for i in starts:
        batch = records[int(i) : int(i) + size]
        t0 = time.perf_counter()
        model.predict_records(batch)
        times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)


def _time_batch(model: Any, batch: Sequence[Any], note: str) -> float:
    """Print and return the reports/s of one ``predict_records`` call over ``batch``."""
    wall0 = time.perf_counter()
    model.predict_records(batch)
    seconds = time.perf_counter() - wall0
    rate = len(batch) / seconds
    print(
        f"batch prediction: {len(batch)} reports in {seconds:.2f} s = {rate:,.0f} reports/s {note}"
    )
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lapor_triage.evaluation.benchmark_speed",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--data", type=Path, help="data file (default: the Surabaya file)")
    parser.add_argument("--task", default="agency", choices=["agency", "report-type"])
    parser.add_argument("--text-column", default=None)
    parser.add_argument("--label-column", default=None)
    parser.add_argument("--repeat", type=int, default=300, help="single-report predictions timed")
    parser.add_argument("--batch", type=int, default=2000, help="reports per batch prediction")
    parser.add_argument(
        "--small-batches",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also time predict_records on batches of these sizes (e.g. 1 8 32)",
    )
    args = parser.parse_args(argv)

    path = _data_file(args.data)
    if path is None:
        print(f"no data: neither {SHARED} nor {DEMO} exists; nothing to benchmark")
        return 0

    from lapor_triage.evaluation.quality import default_model, record_of
    from lapor_triage.training.data import load_dataset

    started = time.perf_counter()
    loaded = load_dataset([path], args.task, args.text_column, args.label_column)
    examples = [e for e in loaded.examples if e.label]
    load_s = time.perf_counter() - started
    records = [record_of(e) for e in examples]
    labels = [str(e.label) for e in examples]
    print(f"data: {path.name}: {len(examples)} labelled reports, {len(set(labels))} labels")
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    print(f"loading + cleaning: {load_s:.1f} s")

    model = default_model(args.task)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.fit(records, labels)
    train_s, train_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(
        f"training ({type(model).__name__}, all {len(records)} reports): {train_s:.1f} s wall, "
        f"{train_cpu:.1f} s CPU (target ≤ {TARGETS['train_s']:.0f} s)"
    )

    batch = (records * (args.batch // max(1, len(records)) + 1))[: args.batch]
    model.predict_proba(batch[:50])  # warm-up
    _time_batch(model, batch, f"(target ≥ {TARGETS['batch_per_s']:,.0f}/s)")
    # The same batch on a freshly loaded model: its per-word caches are empty (they are never
    # saved), as in a service just started, so every word is analysed once.
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        fresh = load_model(tmp)
    _time_batch(fresh, batch, "(freshly loaded model, cold caches)")

    rng = np.random.default_rng(0)
    picks = rng.choice(len(records), size=min(args.repeat, len(records)), replace=False)
    times = []
    for i in picks:
        t0 = time.perf_counter()
        model.predict_records([records[int(i)]])
        times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    print(
        f"single report (in-process predict_records): p50 {p50:.2f} ms, p95 {p95:.2f} ms "
        f"over {len(times)} reports (target p50 ≤ {TARGETS['p50_ms']:.0f} ms)"
    )
    for size in args.small_batches:
        p50, p95 = small_batch_ms(model, records, size, rng)
        print(
            f"batches of {size} (in-process predict_records): p50 {p50:.2f} ms, p95 {p95:.2f} ms "
            f"= {p50 / size:.3f} ms per report"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MiB")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average during the run: {load:.1f} (figures are wall-clock on a shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
