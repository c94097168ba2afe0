"""``lapor-triage monev``: per-agency view of how many follow-ups are normatif, and reused templates."""

from __future__ import annotations

import argparse
from pathlib import Path

from lapor_triage.cli.common import add_command, add_model_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "monev",
        help="monitoring: share of normatif replies per agency/month, most reused templates",
        description=(
            "Judge every reply with a reply-quality model and write monev.csv, monev.md and "
            "normatif_share.png (bar chart). Input: JSONL/CSV rows with reply_text and agency "
            "(report_text, id, date optional)."
        ),
        func=run,
    )
    add_model_argument(p, "saved reply-quality model folder")
    p.add_argument("--data", required=True, type=Path, nargs="+", help="reply JSONL/CSV file(s)")
    p.add_argument("--output", required=True, type=Path, help="output folder")
    p.add_argument(
        "--template-threshold",
        type=float,
        default=0.85,
        help="cosine similarity at which two replies count as the same template (default 0.85)",
    )


def run(args: argparse.Namespace) -> int:
    from lapor_triage.evaluation.monev import run_monev
    from lapor_triage.models.base import ModelFormatError, load_model

    scorer = load_model(args.model)
    if scorer.task != "reply-quality":
        raise ModelFormatError(
            f"{args.model}: this model is for the {scorer.task} task; monev needs a "
            "reply-quality model"
        )
    files = run_monev(scorer, args.data, args.output, template_threshold=args.template_threshold)
    for name, path in files.items():
        print(f"{name}: {path}")
    return 0
