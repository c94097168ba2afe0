"""``lapor-triage models``: registered model versions, their key metrics, and the champion."""

from __future__ import annotations

import argparse
from typing import Any

from lapor_triage.cli.common import add_command
from lapor_triage.training.config import TASKS


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "models",
        help="list registered model versions with key metrics and the champion",
        description=(
            "List the versions of lapor-triage-TASK in the MLflow registry (MLFLOW_TRACKING_URI, "
            "default the local store in mlflow/) with their evaluation metrics; ★ marks the champion."
        ),
        func=run,
    )
    p.add_argument("--task", choices=TASKS, help="one task (default: all)")
    p.add_argument("--limit", type=int, default=20, help="newest N versions per task")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lapor_triage.training import registry
    from lapor_triage.training.tracking import redact_uri, registered_model_name, tracking_uri

    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table to 80 columns
        console = Console(width=max(console.width, 140))
    tasks = [args.task] if args.task else list(TASKS)
    console.print(f"[dim]tracking store: {redact_uri(tracking_uri())}[/dim]")
    for task in tasks:
        versions = registry.list_versions(task)
        if not versions:
            console.print(f"{registered_model_name(task)}: no versions registered yet")
            continue
        console.print(versions_table(task, versions[: args.limit]))
    return 0


def versions_table(task: str, versions: list[Any]) -> Any:
    from rich.table import Table

    from lapor_triage.training.registry import KEY_METRICS

    primary = versions[0].primary_metric
    metric_names = [primary] + [
        m for m in KEY_METRICS if m != primary and any(m in v.metrics for v in versions)
    ]
    table = Table(
        title=f"lapor-triage-{task}",
        caption=f"★ = champion alias (serves); {primary} is the primary metric",
    )
    table.add_column("version", justify="right", no_wrap=True)
    table.add_column("champion", justify="center", no_wrap=True)
    table.add_column("created (UTC)", no_wrap=True)
    for m in metric_names:
        table.add_column(m, justify="right", no_wrap=True, style="bold" if m == primary else None)
    table.add_column("eval rows", justify="right", no_wrap=True)
    table.add_column("run", no_wrap=True)
    table.add_column("notes")
    for v in versions:
        notes = []
        if v.forced:
            notes.append("forced promotion")
        if v.tags.get("promotion.superseded_by"):
            notes.append(f"superseded by v{v.tags['promotion.superseded_by'].split()[0]}")
        table.add_row(
            str(v.version),
            "★ champion" if v.is_champion else "",
            v.created.strftime("%Y-%m-%d %H:%M"),
            *[_fmt(v.metrics.get(m)) for m in metric_names],
            _fmt_int(v.metrics.get("n_eval")),
            (v.run_id or "")[:8],
            ", ".join(notes + [a for a in v.aliases if a != "champion"]),
            style="bold green" if v.is_champion else None,
        )
    return table


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


def _fmt_int(v: float | None) -> str:
    return "" if v is None else str(int(v))
