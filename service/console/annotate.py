"""A LAPOR! "Laporan Ringkas" export, read row by row, triaged, and written back as .xlsx with
suggestion and decision columns: shared by the console's queue and ``lapor-triage annotate``.

Reading reuses the training loader's file readers (:mod:`lapor_triage.training.data`), so an
export the loader accepts is read the same way here, with the same file/row/column errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lapor_triage.errors import DataError
from lapor_triage.lapor_export import (
    LAPOR_BODY,
    LAPOR_ID,
    LAPOR_META,
    LAPOR_TITLE,
    cell_str,
    find_lapor_header,
    preamble_meta,
    read_table,
)
from lapor_triage.text import one_line, report_text

TOP_K = 3
ADDED_COLUMNS: tuple[str, ...] = (
    "Saran Jenis Laporan",
    "Saran Instansi 1",
    "Keyakinan 1",
    "Saran Instansi 2",
    "Keyakinan 2",
    "Saran Instansi 3",
    "Keyakinan 3",
    "Perlu Disposisi Manual",
    "Keputusan",
    "Instansi Dipilih",
)
DECISION_LABELS = {"accepted": "diterima", "overridden": "dialihkan"}


@dataclass
class ExportRow:
    """One report of an export: where it is (spreadsheet row), its cells and the model input."""

    row: int
    report_id: str
    judul: str
    isi: str
    cells: list[Any]
    record: dict[str, Any]
    suggestion: dict[str, Any] | None = None
    decision: str | None = None
    decided_agency: str | None = None


@dataclass
class LaporExport:
    file: str
    preamble: list[list[Any]]
    header: list[str]
    rows: list[ExportRow]
    penerima: str | None = None
    models: dict[str, str] = field(default_factory=dict)


def read_export(path: Path, file: str | None = None, penerima: str | None = None) -> LaporExport:
    """Every report of a LAPOR! export (.xlsx or .csv). Raises :class:`DataError` naming the
    file, row and column at the first problem: no header, a missing column, a row without an id
    or text, a duplicate id. ``file`` is the name shown in errors (an upload's own name)."""
    file = file or path.name
    table = read_table(path, file)
    if table.fmt not in ("xlsx", "csv"):
        raise DataError("a LAPOR! export is an .xlsx or .csv file", file=file)
    rows = [(n, list(values)) for n, values in table.records]
    cells = [[cell_str(v) for v in values] for _, values in rows]
    idx = find_lapor_header(cells)
    if idx is None:
        raise DataError(
            f"no LAPOR! export header found (a row with {LAPOR_ID!r} and {LAPOR_BODY!r})",
            file=file,
        )
    header_row = rows[idx][0]
    header = [c.strip() for c in cells[idx]]
    where = {name: i for i, name in reversed(list(enumerate(header))) if name}
    for needed in (LAPOR_ID, LAPOR_TITLE, LAPOR_BODY):
        if needed not in where:
            raise DataError(
                f"missing column {needed!r}; found: {', '.join(n for n in header if n)}",
                file=file,
                row=header_row,
                column=needed,
            )
    meta = preamble_meta(cells[:idx])
    penerima = meta.get("penerima") or penerima
    out: list[ExportRow] = []
    seen: dict[str, int] = {}

    def cell(values: Sequence[str], name: str | None) -> str:
        i = where.get(name) if name else None
        return values[i].strip() if i is not None and i < len(values) else ""

    for (row_no, raw), values in zip(rows[idx + 1 :], cells[idx + 1 :], strict=True):
        if not any(v.strip() for v in values):
            continue
        rid = cell(values, LAPOR_ID)
        if not rid:
            raise DataError("empty Tracking ID", file=file, row=row_no, column=LAPOR_ID)
        if rid in seen:
            raise DataError(
                f"duplicate Tracking ID {rid!r} (first in row {seen[rid]})",
                file=file,
                row=row_no,
                column=LAPOR_ID,
            )
        seen[rid] = row_no
        judul, isi = cell(values, LAPOR_TITLE), cell(values, LAPOR_BODY)
        text = report_text(judul, isi)
        if not text.strip():
            raise DataError("the report has no text", file=file, row=row_no, column=LAPOR_BODY)
        record: dict[str, Any] = {"text": text}
        for key in ("kecamatan", "kelurahan", "kategori"):
            value = cell(values, LAPOR_META[key])
            if value:
                record[key] = value
        if penerima:
            record["penerima"] = one_line(penerima)
        out.append(ExportRow(row_no, rid, judul, isi, raw, record))
    if not out:
        raise DataError("the export has no reports below its header", file=file, row=header_row)
    return LaporExport(file, [r for _, r in rows[:idx]], header, out, penerima)


def paste_export(judul: str, isi: str, report_id: str = "", penerima: str | None = None):
    """One pasted report as a one-row export (the queue's "tempel satu laporan")."""
    text = report_text(judul, isi)
    if not text.strip():
        raise DataError("the report has no text", file="laporan tempel", column="isi")
    rid = report_id.strip() or "tempel-1"
    record: dict[str, Any] = {"text": text}
    if penerima:
        record["penerima"] = one_line(penerima)
    header = [LAPOR_ID, LAPOR_TITLE, LAPOR_BODY]
    row = ExportRow(1, rid, judul, isi, [rid, judul, isi], record)
    return LaporExport("laporan tempel", [], header, [row], penerima)


Predict = Callable[[list[dict[str, Any]], int], tuple[list[dict], list[dict]]]


def suggestion_of(t: dict[str, Any], a: dict[str, Any], top: int = TOP_K) -> dict[str, Any]:
    """The console's view of one triage output (the same fields as ``POST /v1/reports/triage``)."""
    top_k = a.get("top_k") or [
        {"agency": k, "probability": v} for k, v in a["probabilities"].items()
    ]
    return {
        "report_type": str(t["label"]),
        "type_probability": float(max(t["probabilities"].values(), default=0.0)),
        "abstain": bool(a.get("abstain", False)),
        "top_k": [
            {"agency": str(r["agency"]), "probability": float(r["probability"])}
            for r in top_k[:top]
        ],
    }


def annotate(export: LaporExport, types: list[dict], agencies: list[dict]) -> LaporExport:
    for row, t, a in zip(export.rows, types, agencies, strict=True):
        row.suggestion = suggestion_of(t, a)
    return export


def predict_with(models: Any) -> Predict:
    """Predict directly with a model set (the CLI; the service goes through its batcher)."""

    def _predict(records: list[dict[str, Any]], top: int) -> tuple[list[dict], list[dict]]:
        types = models.get("report-type").predictor.predict_records(records)
        agencies = models.get("agency").predictor.predict_records(records, top=top)
        return types, agencies

    return _predict


def write_xlsx(export: LaporExport, path: Path | Any) -> None:
    """The export as LAPOR! wrote it (preamble, header, rows) plus :data:`ADDED_COLUMNS`."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Laporan Ringkas")
    for values in export.preamble:
        ws.append(list(values))
    ws.append([*export.header, *ADDED_COLUMNS])
    width = len(export.header)
    for row in export.rows:
        cells = (list(row.cells) + [None] * width)[:width]
        s = row.suggestion or {}
        top = (s.get("top_k") or []) + [{}] * TOP_K
        added: list[Any] = [s.get("report_type")]
        for r in top[:TOP_K]:
            p = r.get("probability")
            added += [r.get("agency"), round(p, 4) if p is not None else None]
        added += [
            ("ya" if s.get("abstain") else "tidak") if s else None,
            DECISION_LABELS.get(row.decision or "", None),
            row.decided_agency,
        ]
        ws.append(cells + added)
    wb.save(path)
