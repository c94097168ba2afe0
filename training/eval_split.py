"""The evaluation split logged with a training run (``eval/eval_split.jsonl``): the rows the run
was scored on, PII-masked, which ``promote`` scores the champion and the candidate on again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lapor_triage.errors import DataError
from lapor_triage.jsonl import json_line, parse_jsonl
from lapor_triage.text import mask_pii

EVAL_SPLIT_ARTIFACT = "eval/eval_split.jsonl"


def eval_split_jsonl(records: Sequence[Any], labels: Sequence[str]) -> str:
    """The evaluation split as JSONL ({"record": ..., "label": ...}), texts PII-masked."""
    if len(records) != len(labels):
        raise ValueError(f"{len(records)} evaluation records but {len(labels)} labels")
    lines = []
    for rec, label in zip(records, labels, strict=True):
        if isinstance(rec, Mapping):
            rec = {k: (mask_pii(v) if isinstance(v, str) else v) for k, v in rec.items()}
        else:
            rec = mask_pii(str(rec))
        lines.append(json_line({"record": rec, "label": str(label)}))
    return "\n".join(lines) + "\n"


def read_eval_split(text: str, source: str = EVAL_SPLIT_ARTIFACT) -> tuple[list[Any], list[str]]:
    """Parse ``eval_split_jsonl`` output back to (records, labels).

    Read by :func:`lapor_triage.jsonl.parse_jsonl` (strict); ``source`` names the text in errors.
    """
    records, labels = [], []
    for n, row in parse_jsonl(text, source, allow_empty=True):
        if "record" not in row or "label" not in row:
            raise DataError(
                f"not an evaluation row: keys {sorted(row)}, expected 'record' and 'label'",
                file=source,
                line=n,
            )
        records.append(row["record"])
        labels.append(str(row["label"]))
    return records, labels
