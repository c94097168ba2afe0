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
from lapor_triage.fields import report_fields
from lapor_triage.labels import agency_key
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
LEVELS = ("disposition", "unit")
"""The two levels of suggestion: the national disposition (instansi, for Admin Pusat) and the
unit inside one regional government (the agency router of the report's ``penerima``)."""
EXPORT_FIELDS = {
    "kecamatan": LAPOR_META["kecamatan"],
    "kelurahan": LAPOR_META["kelurahan"],
    "kategori": LAPOR_META["kategori"],
    "kabkota": LAPOR_META["kota"],  # "Kota/Kabupaten": the reported place's, e.g. Kota Samarinda
    "provinsi": "Provinsi",
}
"""Report fields (lapor_triage.fields) -> the export's columns (``penerima`` is its preamble's)."""
ADDED_COLUMNS: tuple[str, ...] = (
    "Saran Jenis Laporan",
    *(f"{c} {i}" for i in range(1, TOP_K + 1) for c in ("Saran Disposisi", "Keyakinan Disposisi")),
    "Jenis Instansi 1",
    "Wilayah 1",
    "Bukti Wilayah 1",
    "Disposisi Ragu",
    *(f"{c} {i}" for i in range(1, TOP_K + 1) for c in ("Saran Unit", "Keyakinan Unit")),
    "Unit Ragu",
    "Keputusan Disposisi",
    "Instansi Dipilih",
    "Keputusan Unit",
    "Unit Dipilih",
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
    # level ("disposition" / "unit") -> (decision "accepted"/"overridden", the name chosen)
    decisions: dict[str, tuple[str, str]] = field(default_factory=dict)


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
        # The report fields (lapor_triage.fields) the export holds, read as the API reads them.
        places = {f: cell(values, column) for f, column in EXPORT_FIELDS.items()}
        record: dict[str, Any] = {"text": text, **report_fields(places)}
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


Predict = Callable[[list[dict[str, Any]], int], "Triaged"]


@dataclass
class Triaged:
    """The model outputs for a list of records, as the service's batcher returns them."""

    types: list[dict]
    agencies: list[dict]
    agency_keys: list[str]  # the agency model of each record ("agency" or "agency@<penerima>")
    dispositions: list[dict | None]  # None where no disposition model is loaded

    def extend(self, other: Triaged) -> Triaged:
        self.types += other.types
        self.agencies += other.agencies
        self.agency_keys += other.agency_keys
        self.dispositions += other.dispositions
        return self


def disposition_view(d: dict[str, Any], top: int = TOP_K) -> dict[str, Any]:
    """The console's view of a disposition output (``DispositionModel.predict_records``; the
    ``disposition`` of ``POST /v1/reports/triage``)."""
    return {
        "abstain": bool(d.get("abstain", False)),
        "top_k": [
            {
                "name": str(s["instansi"]),
                "probability": float(s["probability"]),
                "kind": str(s.get("kind") or ""),
                "region": None if s.get("region") is None else str(s["region"]),
                "evidence": [str(e) for e in s.get("evidence") or []],
                "seen_in_training": bool(s.get("seen_in_training", True)),
            }
            for s in (d.get("top_k") or [])[:top]
        ],
    }


def unit_view(a: dict[str, Any], model: str, top: int = TOP_K) -> dict[str, Any]:
    """The console's view of an agency router output (the ``agency`` of the triage answer)."""
    top_k = a.get("top_k") or [
        {"agency": k, "probability": v} for k, v in a["probabilities"].items()
    ]
    return {
        "model": model,
        "abstain": bool(a.get("abstain", False)),
        "top_k": [
            {"name": str(r["agency"]), "probability": float(r["probability"])} for r in top_k[:top]
        ],
    }


def shows_unit(key: str, has_disposition: bool, penerima: str | None, own: str | None) -> bool:
    """Whether the unit level is shown for a report: when a unit model for its ``penerima`` is
    loaded (``key`` names one; the default ``agency`` model is the unit model of the deployment's
    own ``LAPOR_PENERIMA``, ``own``), and always when no disposition model is (then it is the only
    suggestion)."""
    if not has_disposition or key != "agency":
        return True
    return bool(own and penerima and agency_key(penerima) == agency_key(own))


def suggestion_of(
    t: dict[str, Any],
    a: dict[str, Any],
    key: str = "agency",
    d: dict[str, Any] | None = None,
    show_unit: bool = True,
    top: int = TOP_K,
) -> dict[str, Any]:
    """The console's view of one report's triage: type, and the levels there are. ``primary``
    is the level the queue sorts and filters by (the disposition when there is one)."""
    disposition = disposition_view(d, top) if d is not None else None
    unit = unit_view(a, key, top) if show_unit or disposition is None else None
    primary = disposition or unit or {"top_k": [], "abstain": False}
    return {
        "report_type": str(t["label"]),
        "type_probability": float(max(t["probabilities"].values(), default=0.0)),
        "disposition": disposition,
        "unit": unit,
        "confidence": primary["top_k"][0]["probability"] if primary["top_k"] else 0.0,
        "abstain": bool(primary["abstain"]),
    }


def annotate(export: LaporExport, triaged: Triaged, own_penerima: str | None = None) -> LaporExport:
    """Each row's suggestion from the model outputs (``own_penerima``: ``LAPOR_PENERIMA``)."""
    rows = zip(
        export.rows,
        triaged.types,
        triaged.agencies,
        triaged.agency_keys,
        triaged.dispositions,
        strict=True,
    )
    for row, t, a, key, d in rows:
        show = shows_unit(key, d is not None, row.record.get("penerima"), own_penerima)
        row.suggestion = suggestion_of(t, a, key, d, show)
    return export


def predict_with(models: Any) -> Predict:
    """Predict directly with a model set (the CLI; the service goes through its batcher), the
    agency model chosen per report by its ``penerima`` as the batcher does."""

    def _predict(records: list[dict[str, Any]], top: int) -> Triaged:
        types = models.get("report-type").predictor.predict_records(records)
        keys = [models.agency_key_for(r.get("penerima")) for r in records]
        agencies: list[dict] = [{}] * len(records)
        for key in dict.fromkeys(keys):
            idx = [i for i, k in enumerate(keys) if k == key]
            preds = models.get(key).predictor.predict_records([records[i] for i in idx], top=top)
            for i, pred in zip(idx, preds, strict=True):
                agencies[i] = pred
        disposition = models.get("disposition")
        dispositions = (
            disposition.predictor.predict_records(records, top=top)
            if disposition is not None
            else [None] * len(records)
        )
        return Triaged(types, agencies, keys, dispositions)

    return _predict


def _level_cells(view: dict[str, Any] | None) -> list[Any]:
    top = ((view or {}).get("top_k") or []) + [{}] * TOP_K
    cells: list[Any] = []
    for r in top[:TOP_K]:
        p = r.get("probability")
        cells += [r.get("name"), round(p, 4) if p is not None else None]
    return cells


def _flag(view: dict[str, Any] | None) -> str | None:
    return None if view is None else ("ya" if view["abstain"] else "tidak")


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
        d, u = s.get("disposition"), s.get("unit")
        first = (d or {}).get("top_k", [{}])[0] if d and d["top_k"] else {}
        added: list[Any] = [s.get("report_type"), *_level_cells(d)]
        added += [
            first.get("kind"),
            first.get("region"),
            ", ".join(first.get("evidence") or []) or None,
            _flag(d),
            *_level_cells(u),
            _flag(u),
        ]
        for level in LEVELS:
            decision, name = row.decisions.get(level, (None, None))
            added += [DECISION_LABELS.get(decision or ""), name]
        ws.append(cells + added)
    wb.save(path)
