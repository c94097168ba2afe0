"""Reading the tables lapor-triage is given: the LAPOR! "Laporan Ringkas" export and generic files.

A core module (it imports nothing of ours but the core): CSV (encoding and delimiter sniffed),
XLSX, JSON Lines and Parquet become rows of cell values with their spreadsheet row numbers, and the
LAPOR! export's header row and preamble are found by their content. The training loader
(``lapor_triage.training.data``) builds examples from these rows; the console and ``lapor-triage
annotate`` (``lapor_triage.service.console.annotate``) read the same exports through the same code.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lapor_triage.errors import DataError
from lapor_triage.jsonl import BadLine, OnError, describe_json_error, read_jsonl
from lapor_triage.text import normalise_whitespace

HEADER_SEARCH_ROWS = 40
PROGRESS_MIN_ROWS = 5000  # a progress bar while reading larger sheets

# --- LAPOR! "Laporan Ringkas" export -------------------------------------------------------
LAPOR_ID = "Tracking ID"
LAPOR_DATE = "Tanggal Laporan Masuk"
LAPOR_TITLE = "Judul Laporan"
LAPOR_BODY = "Isi Laporan Awal"
LAPOR_TYPE = "Klasifikasi Laporan"
LAPOR_AGENCY = "Instansi Terdisposisi"
LAPOR_META = {
    "kategori": "Kategori",
    "status": "Status Laporan",
    "kecamatan": "Kecamatan",
    "kelurahan": "Kelurahan",
    "sumber": "Sumber Laporan",
    "kota": "Kota/Kabupaten",
}
LAPOR_COLUMNS = (
    LAPOR_ID,
    LAPOR_DATE,
    "Waktu Laporan Masuk",
    LAPOR_TYPE,
    "Kategori",
    LAPOR_TITLE,
    LAPOR_BODY,
    "Isi Laporan Akhir",
    LAPOR_AGENCY,
    "Status Laporan",
)

# Every column of a "Laporan Ringkas" export as LAPOR! writes it (Kota Samarinda 2024; Kab.
# Bandung's export lacks "ID Instansi Terdisposisi", "Kecamatan" and "Kelurahan"). The loader needs
# only LAPOR_COLUMNS; the full list is for writing files in the export's layout (demo data, tests).
LAPOR_EXPORT_HEADER: tuple[str, ...] = (
    "Tracking ID",
    "Tanggal Laporan Masuk",
    "Waktu Laporan Masuk",
    "Klasifikasi Laporan",
    "ID Kategori",
    "Kategori",
    "Judul Laporan",
    "Isi Laporan Awal",
    "Isi Laporan Akhir",
    "Tipe Laporan (Anonim/Rahasia)",
    "Sumber Laporan",
    "Instansi Induk",
    "ID Instansi Terdisposisi",
    "Instansi Terdisposisi",
    "Status Laporan",
    "Alasan Tunda/Arsip",
    "Provinsi",
    "Kota/Kabupaten",
    "Kecamatan",
    "Kelurahan",
)


# The LAPOR! export's preamble names the instansi whose queue the rows come from ("Nama Instansi");
# it is kept on every row as ``penerima``: offices label report types differently.
LAPOR_PREAMBLE_META = {"penerima": "Nama Instansi"}


def _norm_col(name: object) -> str:
    """Column names compared case-, space- and underscore-insensitively."""
    return re.sub(r"[\s_]+", " ", str(name or "")).strip().casefold()


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _cell_str(value: object) -> str:
    """A cell value as text: integral floats without ``.0``, dates in ISO form, None as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class _Table:
    """Rows of one file: ``rows`` yields (row number, list of cell values) or (row, dict)."""

    file: str
    fmt: str  # csv, xlsx, jsonl, parquet
    records: list[tuple[int, Any]]
    header: list[str] = field(default_factory=list)
    header_row: int | None = None  # spreadsheet row of the header (None for JSON lines)
    bad_lines: list[BadLine] = field(default_factory=list)  # JSON Lines skipped on request


def _read_bytes(path: Path, file: str) -> bytes:
    if not path.exists():
        raise DataError("file not found", file=file)
    if path.is_dir():
        raise DataError("is a folder, not a data file", file=file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc}", file=file) from exc
    if not data.strip():
        raise DataError("file is empty", file=file)
    return data


def _decode(data: bytes, file: str, fmt: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8-sig", errors="replace")
        row, column = prefix.count("\n") + 1, None
        if fmt == "csv":
            row, column = _csv_position(prefix)
        raise DataError(
            f"not valid UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "save the file as UTF-8",
            file=file,
            row=row,
            column=column,
        ) from exc


def _csv_position(prefix: str) -> tuple[int, str | None]:
    """Spreadsheet row (and column name, when the header is known) where ``prefix`` ends."""
    delimiter = _sniff_delimiter(prefix)
    records = list(csv.reader(io.StringIO(prefix, newline=""), delimiter=delimiter))
    try:
        list(csv.reader(io.StringIO(prefix, newline=""), delimiter=delimiter, strict=True))
        inside_quotes = False
    except csv.Error:
        inside_quotes = True
    if not records:
        return 1, None
    header_idx = _find_header_index(records[:HEADER_SEARCH_ROWS], ())
    header = records[header_idx] if header_idx is not None else []
    if prefix.endswith("\n") and not inside_quotes:
        return len(records) + 1, header[0] if header else None
    n_fields = len(records[-1])
    column = header[n_fields - 1] if 0 < n_fields <= len(header) else None
    return len(records), column


def _sniff_delimiter(text: str) -> str:
    head = text[:20000].splitlines()[:HEADER_SEARCH_ROWS] or [""]
    counts = {d: sum(line.count(d) for line in head) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, file: str, delimiter: str | None = None) -> _Table:
    text = _decode(_read_bytes(path, file), file, "csv")
    delimiter = delimiter or _sniff_delimiter(text)
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for i, row in enumerate(reader, start=1):
            records.append((i, row))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DataError(
                "file ends inside a quoted field: it is truncated or a quote is not closed",
                file=file,
                row=len(records) + 1,
            ) from exc
        # Stray quotes inside unquoted fields: read leniently, as spreadsheets do.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = list(enumerate(reader, start=1))
    return _Table(file=file, fmt="csv", records=records)


def _read_xlsx(path: Path, file: str) -> _Table:
    import openpyxl

    _read_bytes(path, file)
    if not zipfile.is_zipfile(path):
        raise DataError(
            "not a readable .xlsx workbook (the file is truncated or not an Excel 2007+ file)",
            file=file,
        )
    row_no = 0
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            chosen: list[tuple[int, list[Any]]] | None = None
            for ws in wb.worksheets:
                rows: list[tuple[int, list[Any]]] = []
                cells_iter = ws.iter_rows(values_only=True)
                if (ws.max_row or 0) >= PROGRESS_MIN_ROWS:
                    from tqdm.auto import tqdm

                    cells_iter = tqdm(
                        cells_iter,
                        total=ws.max_row,
                        desc=f"reading {path.name}",
                        unit="row",
                        leave=False,
                        disable=None,
                    )
                for row_no, values in enumerate(cells_iter, start=1):
                    rows.append((row_no, list(values)))
                cells = [[_cell_str(v) for v in r] for _, r in rows[:HEADER_SEARCH_ROWS]]
                if chosen is None:
                    chosen = rows
                if _find_lapor_header(cells) is not None:
                    chosen = rows
                    break
                row_no = 0
        finally:
            wb.close()
    except DataError:
        raise
    except Exception as exc:  # zip/xml errors from a damaged workbook
        raise DataError(
            f"cannot read .xlsx workbook ({type(exc).__name__}: {exc}); "
            "the file is damaged or truncated",
            file=file,
            row=row_no or None,
        ) from exc
    if not chosen:
        raise DataError("workbook has no rows", file=file)
    return _Table(file=file, fmt="xlsx", records=chosen)


def _read_jsonl(path: Path, file: str, on_bad_line: OnError = "raise") -> _Table:
    """JSON Lines through :func:`lapor_triage.jsonl.read_jsonl` (its policy); or a JSON array."""
    if not path.exists():
        raise DataError("file not found", file=file)
    if path.is_dir():
        raise DataError("is a folder, not a data file", file=file)
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"["):  # a JSON array of objects (.json), not JSON Lines
        text = _decode(_read_bytes(path, file), file, "json")
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"malformed JSON: {describe_json_error(exc)}", file=file, line=exc.lineno
            ) from exc
        return _Table(file=file, fmt="json", records=list(enumerate(items, start=1)))
    reader = read_jsonl(path, on_error=on_bad_line)
    records: list[tuple[int, Any]] = list(reader)
    return _Table(file=file, fmt="jsonl", records=records, bad_lines=reader.skipped)


def _read_parquet(path: Path, file: str) -> _Table:
    import pandas as pd

    _read_bytes(path, file)
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(
            f"cannot read Parquet file ({type(exc).__name__}: {exc}); damaged or truncated",
            file=file,
        ) from exc
    header = [str(c) for c in df.columns]
    records = [
        (i + 2, list(values)) for i, values in enumerate(df.itertuples(index=False, name=None))
    ]
    return _Table(file=file, fmt="parquet", records=[(1, header), *records])


def _read_table(path: Path, file: str, on_bad_line: OnError = "raise") -> _Table:
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, file)
    if suffix in {".csv", ".txt"}:
        return _read_csv(path, file)
    if suffix == ".tsv":
        return _read_csv(path, file, delimiter="\t")
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return _read_jsonl(path, file, on_bad_line)
    if suffix in {".parquet", ".pq"}:
        return _read_parquet(path, file)
    if suffix in {".xls", ".ods"}:
        raise DataError(f"unsupported format {suffix}: save it as .xlsx or .csv", file=file)
    head = _read_bytes(path, file)[:4]
    if head.startswith(b"PK"):
        return _read_xlsx(path, file)
    if head.startswith(b"PAR1"):
        return _read_parquet(path, file)
    if head.lstrip()[:1] in {b"{", b"["}:
        return _read_jsonl(path, file, on_bad_line)
    return _read_csv(path, file)


_LAPOR_NORM = {_norm_col(c) for c in LAPOR_COLUMNS}


def _find_lapor_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the LAPOR! export header among ``rows`` (None when there is none)."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = {_norm_col(c) for c in row if c}
        has_keys = _norm_col(LAPOR_ID) in cells and _norm_col(LAPOR_BODY) in cells
        if has_keys or len(cells & _LAPOR_NORM) >= 3:
            return i
    return None


def _preamble_meta(rows: Sequence[Sequence[str]]) -> dict[str, str]:
    """``{"penerima": "Pemerintah Kota Samarinda"}`` from the rows above a LAPOR! export's header
    (a label cell such as ``Nama Instansi`` followed, in the same row, by its value)."""
    out: dict[str, str] = {}
    for row in rows:
        cells = [c.strip() for c in row if c and c.strip()]
        for key, name in LAPOR_PREAMBLE_META.items():
            if len(cells) >= 2 and cells[0].lower() == name.lower() and key not in out:
                out[key] = normalise_whitespace(cells[1])
    return out


def _find_header_index(rows: Sequence[Sequence[str]], wanted: Iterable[str]) -> int | None:
    """LAPOR! header, else the first row holding every wanted column, else the first non-empty."""
    idx = _find_lapor_header(rows)
    if idx is not None:
        return idx
    wanted_norm = {_norm_col(w) for w in wanted if w}
    if wanted_norm:
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if wanted_norm <= {_norm_col(c) for c in row if c}:
                return i
    for i, row in enumerate(rows):
        if any(c.strip() for c in row):
            return i
    return None


# The public names (the underscore names stay for the training loader, which grew up with them).
Table = _Table
read_table = _read_table
find_lapor_header = _find_lapor_header
preamble_meta = _preamble_meta
cell_str = _cell_str
norm_col = _norm_col
