"""``lapor-triage evaluate``: metrics and a visual report of a saved model on labelled data."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from lapor_triage.cli.common import add_command, add_model_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "evaluate",
        help="evaluate a saved model on labelled files",
        description=(
            "Prints metrics and writes a report (report.html, per_class.csv/.md, "
            "confusion_matrix.png, calibration.png): per-class precision/recall/F1, for agency "
            "models top-k accuracy and coverage-vs-accuracy at the abstain threshold, for "
            "reply-quality models length buckets and reason codes (reply_report.md)."
        ),
        func=run,
    )
    add_model_argument(p)
    p.add_argument("--data", required=True, nargs="+", type=Path, help="labelled files")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--output", type=Path, help="report folder (default MODEL/evaluation)")
    p.add_argument("--strict", action="store_true")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from lapor_triage.models.base import load_model
    from lapor_triage.training.loop import evaluate_predictor, load_task_data, task_record

    console = Console(stderr=True)
    predictor = load_model(args.model)
    task = predictor.task
    with console.status(f"loading {len(args.data)} file(s)…"):
        loaded = load_task_data(
            task,
            list(args.data),
            text_column=args.text_column,
            label_column=args.label_column,
            strict=args.strict,
        )
    console.print(loaded.summary.render())
    examples = [e for e in loaded.examples if e.label]
    known = {str(c) for c in predictor.classes_}
    unseen = sum(1 for e in examples if str(e.label) not in known)
    if unseen:
        console.print(
            f"note: {unseen} rows carry labels the model never saw (they count as errors)"
        )
    out_dir = args.output or Path(args.model) / "evaluation"
    out_dir.mkdir(parents=True, exist_ok=True)
    with console.status(f"evaluating on {len(examples)} rows…"):
        metrics, files = evaluate_predictor(
            predictor,
            [task_record(task, e) for e in examples],
            [str(e.label) for e in examples],
            out_dir,
            title=f"{task} — {', '.join(p.name for p in args.data)}",
            examples=examples,
        )
    # NaN marks a group with nothing to measure (an empty length bucket): left out, never "nan"
    metrics = {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}
    table = Table(title=f"{task} on {len(examples)} rows")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, f"{value:.4f}")
    Console().print(table)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    print(f"report written to {out_dir}")
    for name, path in sorted(files.items()):
        print(f"  {name}: {path}")
    return 0
