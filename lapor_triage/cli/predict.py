"""``lapor-triage predict``: score a JSONL file with a saved model, output rows in input order."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lapor_triage.cli.common import add_command, add_model_argument
from lapor_triage.fields import REPORT_FIELDS, FieldError, report_fields, warn_missing_fields
from lapor_triage.jsonl import read_jsonl, write_jsonl
from lapor_triage.text import clean_text
from lapor_triage.training.records import DataError

REPORT_META = REPORT_FIELDS  # penerima, kecamatan, ..., kabkota, provinsi (lapor_triage.fields)
# Older keys for the reported place that the disposition model also reads where a row names them,
# kept so existing input files score as before; the field contract's key is ``kabkota``, which
# the HTTP API and the pyfunc take too (lapor_triage.fields).
DISPOSITION_PLACES = ("kota", "kabupaten")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "predict",
        help="predict with a saved model on a JSONL file",
        description=(
            'Input rows: {"id", "text"} for report-type, agency and disposition models, '
            "with the optional report fields "
            + ", ".join(f'"{name}"' for name in REPORT_FIELDS)
            + '; {"id", "report_text", "reply_text", "agency"?} for reply-quality models.'
        ),
        func=run,
    )
    add_model_argument(p)
    p.add_argument(
        "--input", required=True, type=Path, help="input JSON Lines file (one object per line)"
    )
    p.add_argument("--output", required=True, type=Path, help="output JSONL")
    p.add_argument("--top", type=int, default=10, help="probabilities kept per row (default 10)")
    p.add_argument("--batch-size", type=int, default=512)


TABULAR = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet"}
CONVERT_HINT = (
    "lapor-triage predict reads JSON Lines (one JSON object per line, e.g. "
    '{"id": "1", "text": "..."}); convert a table first, e.g. python -c "import pandas as pd; '
    "pd.read_csv('in.csv', dtype=str).to_json('in.jsonl', orient='records', lines=True, "
    'force_ascii=False)" (pd.read_excel for .xlsx)'
)


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The input's rows (lapor_triage.jsonl policy), with the way out for a CSV or Excel file."""
    if path.suffix.lower() in TABULAR:
        raise DataError(f"a {path.suffix} file, not JSON Lines; {CONVERT_HINT}", file=str(path))
    try:
        return list(read_jsonl(path))
    except DataError as exc:
        if "looks like CSV" in str(exc) or "not UTF-8" in str(exc):
            raise DataError(f"{exc}. {CONVERT_HINT}") from exc
        raise


def input_records(task: str, path: Path) -> list[dict[str, Any]]:
    """Validate and convert every input row before predicting anything."""
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, row in _rows(path):
        if "id" not in row:
            raise DataError("missing field 'id'", file=str(path), row=n, column="id")
        rid = row["id"]
        if str(rid) in seen:
            raise DataError(f"duplicate id {rid!r}", file=str(path), row=n, column="id")
        seen.add(str(rid))
        if task == "reply-quality":
            rec = {"id": rid}
            for key in ("report_text", "reply_text"):
                value = row.get(key)
                if not isinstance(value, str) or not value.strip():
                    raise DataError(
                        f"{key!r} must be a non-empty string", file=str(path), row=n, column=key
                    )
                rec[key] = clean_text(value, salutation=key == "report_text")
            rec["agency"] = row.get("agency")
        else:
            text = row.get("text")
            if text is None and ("judul" in row or "isi" in row):
                from lapor_triage.text import report_text

                text = report_text(row.get("judul"), row.get("isi"))
            if not isinstance(text, str) or not clean_text(text):
                raise DataError(
                    "'text' must be a non-empty string", file=str(path), row=n, column="text"
                )
            rec = {"id": rid, "text": clean_text(text)}
            try:
                rec.update(report_fields(row))
            except FieldError as exc:
                raise DataError(str(exc), file=str(path), row=n, column=exc.field) from exc
            for place in DISPOSITION_PLACES:
                if isinstance(row.get(place), str) and row[place].strip():
                    rec[place] = " ".join(row[place].split())
        records.append(rec)
    return records


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lapor_triage.models.base import load_model

    predictor = load_model(args.model)
    records = input_records(predictor.task, args.input)
    warn_missing_fields(predictor, records)
    out: list[dict[str, Any]] = []
    with tqdm(total=len(records), desc="predicting", unit="row", disable=None) as bar:
        for start in range(0, len(records), args.batch_size):
            batch = records[start : start + args.batch_size]
            for rec, pred in zip(
                batch, predictor.predict_records(batch, top=args.top), strict=True
            ):
                out.append({"id": rec["id"], **pred})
            bar.update(len(batch))
    n = write_jsonl(args.output, out)
    print(f"wrote {n} predictions to {args.output}")
    return 0
