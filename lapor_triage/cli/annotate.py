"""``lapor-triage annotate``: a LAPOR! export (.xlsx/.csv) back as .xlsx with the suggested type,
the top-3 suggestions of each level with their confidence (the national disposition when a
disposition model is configured, the units when a unit model for the report's ``penerima`` is), the
abstain marks and (empty) decision columns: the same annotation as the console's "Antrean
disposisi" download."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from lapor_triage.cli.common import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "annotate",
        help="add triage suggestions to a LAPOR! export (.xlsx/.csv -> .xlsx)",
        description="Uses the models the service would load (LAPOR_MODEL_SOURCE, "
        "LAPOR_*_MODEL_DIR, the MLflow alias, else the default models).",
        func=run,
    )
    p.add_argument("--input", required=True, type=Path, help="LAPOR! export, .xlsx or .csv")
    p.add_argument("--output", required=True, type=Path, help="annotated workbook (.xlsx)")
    p.add_argument("--batch-size", type=int, default=512)


def run(args: argparse.Namespace) -> int:
    # A short batch process: the cyclic garbage collector would walk the models' millions of
    # objects again and again while they load and predict; reference counting frees what this
    # command drops (tests/cli/bench_annotate.py measures the command).
    gc.disable()
    from lapor_triage.service.console.annotate import (
        Triaged,
        annotate,
        predict_with,
        read_export,
        write_xlsx,
    )
    from lapor_triage.service.model_store import ModelStore
    from lapor_triage.service.settings import Settings
    from lapor_triage.training.records import DataError

    if args.output.suffix.lower() != ".xlsx":
        raise DataError("the output must be an .xlsx file", file=str(args.output))
    settings = Settings()
    started = time.perf_counter()
    export = read_export(args.input, str(args.input), penerima=settings.penerima)
    read_s = time.perf_counter() - started
    store = ModelStore(settings, tasks=("report-type", "agency"), optional=("disposition",))
    models = store.reload()
    loaded = time.perf_counter()
    predict = predict_with(models)
    triaged = Triaged([], [], [], [])
    records = [r.record for r in export.rows]
    for start in range(0, len(records), args.batch_size):
        triaged.extend(predict(records[start : start + args.batch_size], 3))
    annotate(export, triaged, settings.penerima)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(export, args.output)
    done = time.perf_counter()
    abstained = sum(1 for r in export.rows if r.suggestion and r.suggestion["abstain"])
    print(
        f"{len(export.rows)} reports annotated -> {args.output} ({abstained} abstained); "
        f"read {read_s:.2f} s, models {loaded - started - read_s:.2f} s, "
        f"predict+write {done - loaded:.2f} s, total {done - started:.2f} s",
        file=sys.stderr,
    )
    return 0
