"""``lapor-triage predict``: score a JSONL file with a saved model, output rows in input order."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lapor_triage.jsonl import read_jsonl, write_jsonl
from lapor_triage.text import clean_text
from lapor_triage.training.records import DataError

REPORT_META = ("kecamatan", "kelurahan", "kategori", "kota", "kabupaten", "provinsi")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predict with a saved model on a JSONL file",
        description=(
            'Input rows: {"id", "text"} for report-type and agency models, '
            '{"id", "report_text", "reply_text", "agency"?} for reply-quality models.'
        ),
    )
    p.add_argument("--model", required=True, type=Path, help="saved model folder")
    p.add_argument("--input", required=True, type=Path, help="input JSONL")
    p.add_argument("--output", required=True, type=Path, help="output JSONL")
    p.add_argument("--top", type=int, default=10, help="probabilities kept per row (default 10)")
    p.add_argument("--batch-size", type=int, default=512)
    p.set_defaults(func=run)


def input_records(task: str, path: Path) -> list[dict[str, Any]]:
    """Validate and convert every input row before predicting anything."""
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, row in read_jsonl(path):
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
            rec.update({k: row[k] for k in REPORT_META if row.get(k)})
        records.append(rec)
    return records


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lapor_triage.models.base import load_model

    predictor = load_model(args.model)
    records = input_records(predictor.task, args.input)
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
