"""What the two levels cost the triage hot path: one micro-batcher round (``TriageBatcher._process``,
in process, no HTTP) over 1 and over 100 reports, with the default agency model only, with a
disposition model added, and with two unit models besides.

    python -m tests.service.bench_two_levels [--data ../shared/data/lapor_national_posts_2017.csv]
        [--runs 300]

The report-type, agency and unit models are the service tests' tiny ones (tests/service/
tiny_models.py); the disposition model is trained here from ``--data`` (the national posts) when
the file is there, else the tiny one. The reports are the posts' own texts. Prints numbers; asserts
nothing (speed figures are not tests). Each row gives the wall-clock p50 / p95 and the p50 of
the CPU time the round took in this thread (steadier than the wall clock on a shared machine)."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from lapor_triage.service.batcher import TriageBatcher, _Job
from lapor_triage.service.model_store import ModelStore
from lapor_triage.service.settings import Settings
from tests.service.tiny_models import (
    disposition_examples,
    train_tiny_disposition,
    train_tiny_models,
    train_tiny_unit_models,
)

DEFAULT_DATA = Path("../shared/data/lapor_national_posts_2017.csv")


def _disposition(root: Path, data: Path) -> tuple[Path, list[str]]:
    if not data.is_file():
        print(f"{data} not found: the tiny disposition model instead")
        X, _ = disposition_examples()
        return train_tiny_disposition(root), [x["text"] for x in X]
    from rich.console import Console

    from lapor_triage.training.config import TrainConfig
    from lapor_triage.training.loop import load_task_data, run_training

    started = time.perf_counter()
    config = TrainConfig(task="disposition", data=[data], output=root / "disp", track=False)
    result = run_training(config, console=Console(stderr=True, quiet=True))
    print(f"disposition model trained from {data} in {time.perf_counter() - started:.1f} s")
    loaded = load_task_data("disposition", [data])
    return result.model_dir, [e.text for e in loaded.examples]


def _round_ms(
    batcher: TriageBatcher, models, records: list[dict], runs: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU (this thread's) milliseconds of each round: on a shared machine the wall
    time follows the other processes' load, the CPU time much less."""
    wall, cpu = [], []
    for i in range(runs):
        job = _Job(models, records[:], 5)
        started, started_cpu = time.perf_counter(), time.thread_time()
        batcher._process([(job, len(records))])
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        assert job.future.done(), i
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-two-levels-"))
    dirs = train_tiny_models(root)
    units = train_tiny_unit_models(root)
    disposition, texts = _disposition(root, args.data)
    base = dict(
        model_source="local",
        report_type_model_dir=dirs["report-type"],
        agency_model_dir=dirs["agency"],
        reply_quality_model_dir=dirs["reply-quality"],
        train_default_models=False,
    )
    setups = {
        "agency only (as before)": Settings(**base),
        "+ disposition": Settings(**base, disposition_model_dir=disposition),
        "+ disposition + 2 unit models": Settings(
            **base,
            disposition_model_dir=disposition,
            unit_models={k: str(v) for k, v in units.items()},
        ),
    }
    penerima = list(units) + [None]
    batcher = TriageBatcher()
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'setup':32} {'reports':>7} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50 ms':>10}")
    for name, settings in setups.items():
        models = ModelStore(settings).reload()
        for n in (1, 100):
            records = []
            for i in range(n):
                rec = {"text": texts[i % len(texts)]}
                if penerima[i % len(penerima)]:
                    rec["penerima"] = penerima[i % len(penerima)]
                records.append(rec)
            runs = args.runs if n == 1 else max(20, args.runs // 10)
            _round_ms(batcher, models, records, 5)  # warm up
            wall, cpu = _round_ms(batcher, models, records, runs)
            ms = sorted(wall)
            p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
            print(
                f"{name:32} {n:>7} {statistics.median(ms):>8.2f} {p95:>8.2f} "
                f"{statistics.median(cpu):>10.2f}"
            )


if __name__ == "__main__":
    main()
