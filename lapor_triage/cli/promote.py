"""``lapor-triage promote``: move the ``champion`` alias to a model version, gated on quality."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lapor_triage.cli.common import add_command, fail
from lapor_triage.training.config import TASKS


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "promote",
        help="make a registered model version the champion (if it is not worse)",
        description=(
            "Move the `champion` alias of lapor-triage-TASK to VERSION if, on the same evaluation "
            "data, it is not worse than the current champion by more than the margin on the "
            "task's primary metric. The data is the gate part logged with the candidate's run "
            "(rows kept out of every training run by a stable hash of the report id), so neither "
            "model was fitted on it; the difference is shown with a paired bootstrap 95% "
            "interval. Exit 0 when promoted, 1 when refused."
        ),
        func=run,
    )
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--version", required=True, type=int, help="registered model version")
    p.add_argument(
        "--margin",
        type=float,
        default=0.01,
        help="largest allowed drop of the primary metric (default 0.01)",
    )
    p.add_argument(
        "--force", action="store_true", help="promote even if worse (the override is recorded)"
    )
    p.add_argument("--reason", help="why (recorded with the promotion; expected with --force)")
    p.add_argument(
        "--eval-data",
        type=Path,
        help=(
            "compare on this labelled file instead of the candidate's logged evaluation split "
            "(an eval_split.jsonl, or any training data file of the task)"
        ),
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lapor_triage.training import promotion, registry

    console = Console()
    eval_data = load_eval_data(args.task, args.eval_data) if args.eval_data else None
    try:
        result = promotion.promote(
            args.task,
            args.version,
            margin=args.margin,
            force=args.force,
            eval_data=eval_data,
            reason=args.reason,
        )
    except registry.RegistryError as exc:
        return fail("promote", exc)
    print_result(console, result)
    return 0 if result.promoted else 1


def print_result(console: Any, result: Any) -> None:
    from rich.table import Table

    if result.candidate_metrics or result.champion_metrics:
        table = Table(
            title=(
                f"lapor-triage-{result.task}: champion v{result.previous_champion} "
                f"vs candidate v{result.version}"
            ),
            caption=f"on {result.n_eval} rows: {result.eval_source}",
        )
        table.add_column("metric")
        table.add_column(f"champion v{result.previous_champion}", justify="right")
        table.add_column(f"candidate v{result.version}", justify="right")
        table.add_column("Δ", justify="right")
        for i, (m, champ, cand, delta) in enumerate(result.comparison_rows()):
            style = "bold" if i == 0 else None
            table.add_row(m + (" (primary)" if i == 0 else ""), champ, cand, delta, style=style)
        console.print(table)
        if result.delta_low is not None:
            console.print(
                f"Δ {result.primary_metric} (candidate − champion): {result.delta:+.4f}, paired "
                f"bootstrap 95% interval [{result.delta_low:+.4f}, {result.delta_high:+.4f}]"
            )
        console.print(f"margin: {result.margin} (the primary metric may drop at most this much)")
        for note in result.notes:
            console.print(f"[yellow]note: {note}[/yellow]")
    colour = "yellow" if result.forced else ("green" if result.promoted else "red")
    console.print(f"[{colour}]{result.message}[/{colour}]")


def load_eval_data(task: str, path: Path) -> tuple[list[Any], list[str]]:
    """(records, labels) from an eval_split.jsonl or any labelled training file of ``task``."""
    if not path.is_file():
        raise FileNotFoundError(f"evaluation data {path} does not exist")
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
        try:
            row = json.loads(first)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict) and "record" in row and "label" in row:
            from lapor_triage.training.eval_split import read_eval_split

            return read_eval_split(path.read_text(encoding="utf-8"), str(path))
    from lapor_triage.training.loop import load_task_data, task_record

    loaded = load_task_data(task, [path])
    examples = [e for e in loaded.examples if e.label]
    return [task_record(task, e) for e in examples], [str(e.label) for e in examples]
