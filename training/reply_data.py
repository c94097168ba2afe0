"""Load labelled follow-up replies (guideline JSONL or CSV, and feedback JSONL) for reply quality.

Guideline format (../shared/data/replies/GUIDELINE.md), one reply per line::

    {"id", "report_source", "report_id", "report_text", "agency", "reply_text",
     "label": "normatif"|"substantif", "reasons": [codes], "date"?}

CSV files with the same columns are read too (``reasons`` separated by ``;``, ``,`` or ``|``, or a
JSON list). Feedback JSONL rows (admins' corrections) of ``"kind": "reply"`` carry ``report_text``
(or ``text``), ``reply_text`` and ``reply_label`` (or ``label``); they get provenance "feedback".

Every unusable row is skipped with a reason naming file, row and column (or raises
:class:`~training.records.DataError` with ``strict=True``). JSON Lines are read by
:func:`lapor_triage.jsonl.read_jsonl`: a line that is not a JSON object is a broken file, not a
bad row, and raises unless ``on_bad_line="skip"``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lapor_triage.jsonl import OnError, read_jsonl
from lapor_triage.models.reply_lexicon import REASONS
from lapor_triage.text import clean_text
from lapor_triage.training.records import DataError, Example, LoadResult, LoadSummary

LABELS = ("normatif", "substantif")
REQUIRED = ("id", "report_text", "reply_text", "label")


class _Skip(Exception):
    def __init__(self, reason: str, column: str | None, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.column, self.detail = reason, column, detail


def _rows_jsonl(path: Path, on_bad_line: OnError) -> Iterator[tuple[int, dict[str, Any] | _Skip]]:
    """Rows of a JSON Lines file (the policy of :mod:`lapor_triage.jsonl`); lines skipped on
    request come back as ``_Skip("malformed_json")`` so the summary counts them."""
    reader = read_jsonl(path, on_error=on_bad_line)
    rows: list[tuple[int, dict[str, Any] | _Skip]] = list(reader)
    rows += [(bad.line, _Skip("malformed_json", None, bad.reason)) for bad in reader.skipped]
    yield from sorted(rows, key=lambda r: r[0])


def _rows_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | _Skip]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [
            c for c in ("report_text", "reply_text", "label") if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise DataError(
                f"missing column(s) {missing}; found {reader.fieldnames}", file=str(path), row=1
            )
        for n, row in enumerate(reader, start=2):  # row 1 is the header
            yield n, dict(row)


def _reasons(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        v = value.strip()
        if not v:
            return []
        if v.startswith("["):
            try:
                value = json.loads(v)
            except json.JSONDecodeError as exc:
                raise _Skip("bad_reasons", "reasons", f"invalid JSON list {v!r}") from exc
        else:
            for sep in (";", "|"):
                v = v.replace(sep, ",")
            value = [p.strip() for p in v.split(",") if p.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Skip("bad_reasons", "reasons", "reasons must be a list of reason codes")
    return [v.strip() for v in value]


def _parse(row: dict[str, Any], *, feedback: bool) -> dict[str, Any]:
    """Validate one row; raise _Skip with reason and column when it cannot be used."""
    if feedback:
        row = {
            **row,
            "report_text": row.get("report_text", row.get("text")),
            "label": row.get("reply_label", row.get("label")),
        }
    for col in REQUIRED:
        if col == "id" and feedback:
            continue
        value = row.get(col)
        if value is None or (isinstance(value, str) and not value.strip() and col != "reply_text"):
            raise _Skip("missing_field", col, f"field {col!r} is missing")
    reply = clean_text(row.get("reply_text"), salutation=False)
    if not reply:
        raise _Skip("empty_reply", "reply_text", "reply_text is empty")
    report = clean_text(row.get("report_text"))
    if not report:
        raise _Skip("empty_report", "report_text", "report_text is empty")
    label = str(row["label"]).strip().lower()
    if label not in LABELS:
        raise _Skip(
            "unknown_label", "label", f"label {row['label']!r} is not one of {list(LABELS)}"
        )
    reasons = _reasons(row.get("reasons"))
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise _Skip("unknown_reason", "reasons", f"unknown reason code(s) {unknown}")
    return {"report": report, "reply": reply, "label": label, "reasons": reasons}


def _weight(row: dict[str, Any], feedback_weight: float) -> float:
    try:
        return float(row.get("weight", 1.0)) * feedback_weight
    except (TypeError, ValueError):
        return feedback_weight


def load_replies(
    paths: str | Path | Sequence[str | Path],
    strict: bool = False,
    feedback_weight: float = 1.0,
    *,
    on_bad_line: OnError = "raise",
) -> LoadResult:
    """Labelled (report, reply) pairs from guideline JSONL/CSV files and feedback JSONL.

    A JSON Lines line that is not a JSON object stops the load naming file and line (the policy
    of :mod:`lapor_triage.jsonl`); ``on_bad_line="skip"`` skips and counts it (``malformed_json``).
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    summary = LoadSummary()
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        name = str(path)
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".json", ".ndjson"):
            rows: Iterable[tuple[int, dict[str, Any] | _Skip]] = _rows_jsonl(path, on_bad_line)
        elif suffix == ".csv":
            rows = _rows_csv(path)
        else:
            raise DataError(f"unsupported file type {suffix!r} (use .jsonl or .csv)", file=name)
        for n, row in rows:
            summary.rows_read[name] += 1
            try:
                if isinstance(row, _Skip):
                    raise row
                kind = row.get("kind")
                feedback = kind is not None or "reply_label" in row
                if feedback and kind not in (None, "reply"):
                    raise _Skip("other_kind", "kind", f"feedback row of kind {kind!r}, not 'reply'")
                parsed = _parse(row, feedback=feedback)
                rid = row.get("id")
                rid = f"feedback-{path.stem}-{n}" if rid in (None, "") else str(rid)
                if rid in seen:
                    raise _Skip("duplicate_id", "id", f"id {rid!r} already used at {seen[rid]}")
            except _Skip as skip:
                if strict:
                    raise DataError(skip.detail, file=name, row=n, column=skip.column) from None
                summary.skip(name, n, skip.column, skip.reason, skip.detail)
                continue
            seen[rid] = f"{name} row {n}"
            meta: dict[str, Any] = {
                "report_text": parsed["report"],
                "reply_text": parsed["reply"],
                "agency": row.get("agency") or None,
                "reasons": parsed["reasons"],
                "report_id": str(row.get("report_id") or rid),
                "report_source": row.get("report_source") or path.name,
            }
            if feedback:
                meta["provenance"] = "feedback"
            date = row.get("date") or row.get("reply_date") or row.get("created_at")
            if date:
                meta["date"] = str(date)[:10]
            examples.append(
                Example(
                    id=rid,
                    text=parsed["reply"],
                    label=parsed["label"],
                    source=name,
                    row=n,
                    date=meta.get("date"),
                    weight=_weight(row, feedback_weight) if feedback else 1.0,
                    meta=meta,
                )
            )
            summary.rows_used[name] += 1
            summary.label_counts[parsed["label"]] += 1
    return LoadResult(examples, summary)
