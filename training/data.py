"""Load labelled reports from the files LAPOR! admins and data scientists actually have.

One call, :func:`load_dataset`, reads several files of different formats and returns cleaned
:class:`~training.records.Example` objects plus a :class:`~training.records.LoadSummary` that
accounts for every row read (``rows_read == rows_used + skipped`` per file).

Layouts recognised by their columns (whatever the file format):

``lapor_export``
    SP4N-LAPOR!'s "Laporan Ringkas" admin export (.xlsx or .csv). Preamble rows (instansi,
    generation date, period) come before the header; the header row is found by its columns in
    the first :data:`HEADER_SEARCH_ROWS` rows. Text = ``Judul Laporan`` + ``Isi Laporan Awal``
    (never ``Isi Laporan Akhir``, the admin's edit that does not exist at triage time).
``surabaya_media_center``
    ``keluhan`` (text), ``instansi`` (agency), ``tanggal_keluhan``, ``kecamatan``, ``kelurahan``,
    ``topik``.
``lapor_posts``
    ``id``, ``judul``, ``isi`` (public lapor.go.id posts): no label column; for the agency task the
    agency named in the opening "Yth. <instansi>" salutation is the label (and is removed from
    the text).
``feedback``
    JSON lines exported by the service (a ``kind`` key in every row): admins' corrections. Triage
    rows of ``"level": "disposition"`` (Admin Pusat's national instansi, a different label space)
    are skipped for the agency task as ``other_level``; ``lapor-triage train --task disposition``
    reads them (:mod:`lapor_triage.training.disposition_feedback`).
``generic``
    Any CSV / TSV / JSONL / JSON / Parquet / XLSX with a text and a label column, given with
    ``text_column`` / ``label_column`` or found under a usual name (``text``, ``label``,
    ``report_type``, ``agency``, ...). ``lapor-triage train`` does not guess: it asks for both
    columns of a generic file (see :func:`file_layouts`).

An explicit column is used by every file that has it; a file of a known layout without it keeps
its own columns (with a warning naming the file), and a column that no file has is an error.

Row numbers are those a spreadsheet shows (1-based, header and preamble rows counted) for CSV,
XLSX and Parquet, and line numbers for JSONL. File-level problems (unreadable, truncated, invalid
UTF-8, malformed JSON, missing columns) raise :class:`~training.records.DataError`; row-level
problems are skipped and counted by reason (``empty_text``, ``missing_label``,
``unknown_label``, ``duplicate_id``, ``malformed_row``), or raise with ``strict=True``. JSON Lines
are read by :func:`lapor_triage.jsonl.read_jsonl` under its policy: a line that is not a JSON
object stops the load, unless ``on_bad_line="skip"`` asks to skip and count it
(``malformed_json``).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lapor_triage.jsonl import OnError
from lapor_triage.labels import penerima_region
from lapor_triage.lapor_export import (  # the raw readers live in the core (console, annotate)
    _LAPOR_NORM,
    HEADER_SEARCH_ROWS,
    LAPOR_AGENCY,
    LAPOR_BODY,
    LAPOR_DATE,
    LAPOR_ID,
    LAPOR_META,
    LAPOR_TITLE,
    LAPOR_TYPE,
    PROGRESS_MIN_ROWS,
    _cell_str,
    _find_header_index,
    _is_blank,
    _norm_col,
    _preamble_meta,
    _read_table,
    _Table,
)
from lapor_triage.text import (
    clean_text,
    normalise_whitespace,
    report_text,
    salutation_name,
    strip_html,
)
from lapor_triage.training.labels import (
    REPORT_TYPES,
    AgencyNormaliser,
    UnknownLabelError,
    normalise_report_type,
)
from lapor_triage.training.records import DataError, Example, LoadResult, LoadSummary

log = logging.getLogger(__name__)

TASKS: tuple[str, ...] = ("report-type", "agency")
SKIP_REASONS = (
    "empty_text",
    "missing_label",
    "unknown_label",
    "duplicate_id",
    "malformed_row",
    "malformed_json",
    "other_level",
)

# --- usual column names of generic files (compared case- and space-insensitively) ----------
TEXT_CANDIDATES = (
    "text",
    "teks",
    "report_text",
    "keluhan",
    "laporan",
    "isi",
    "content",
    "message",
    "tweet",
)
LABEL_CANDIDATES = {
    "report-type": ("report_type", "label", "klasifikasi", "klasifikasi_laporan", "jenis_laporan"),
    "agency": ("agency", "instansi", "label", "instansi_terdisposisi"),
}
DATE_CANDIDATES = (
    "date",
    "tanggal",
    "created_at",
    "tanggal_laporan",
    "tanggal_keluhan",
    "timestamp",
)
ID_CANDIDATES = ("id", "report_id", "tracking_id")
META_CANDIDATES = ("kecamatan", "kelurahan", "kategori", "topik", "status", "penerima")

FEEDBACK_LABEL_KEYS = {"report-type": "report_type", "agency": "agency"}

_MONTHS = {
    **dict.fromkeys(["jan", "januari", "january"], 1),
    **dict.fromkeys(["feb", "februari", "february", "peb", "pebruari"], 2),
    **dict.fromkeys(["mar", "maret", "march"], 3),
    **dict.fromkeys(["apr", "april"], 4),
    **dict.fromkeys(["mei", "may"], 5),
    **dict.fromkeys(["jun", "juni", "june"], 6),
    **dict.fromkeys(["jul", "juli", "july"], 7),
    **dict.fromkeys(["agu", "agt", "ags", "agustus", "aug", "august"], 8),
    **dict.fromkeys(["sep", "sept", "september"], 9),
    **dict.fromkeys(["okt", "oct", "oktober", "october"], 10),
    **dict.fromkeys(["nov", "nop", "november", "nopember"], 11),
    **dict.fromkeys(["des", "dec", "desember", "december"], 12),
}
_ISO_DATE_RE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[\sT])")
_DMY_NAME_RE = re.compile(r"^\s*(\d{1,2})[\s\-/.]+([A-Za-z]+)\.?[\s\-/.,]+(\d{4})(?:$|[\s,T])")
_DMY_NUM_RE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:$|[\s,T])")
_LOSSY_ID_RE = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
_HONORIFIC_RE = re.compile(r"^(?:(?:bapak|ibu|bpk|pimpinan|kepala)\.?\s+)+", re.IGNORECASE)
_SALUTATION_AGENCY_RE = re.compile(
    r"^\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\.?\s*:?\s*"
    r"(?:(?:bapak|ibu|bpk|pimpinan|kepala)\.?\s+)*"
    r"([^\n,.:;!?]{2,160}?)\s*(?:[,:.;!?]|\n|$)",
    re.IGNORECASE,
)


# ============================================================================ helpers ======


def parse_date(value: object) -> str | None:
    """ISO date (``YYYY-MM-DD``) from the date forms found in the exports.

    Accepts ``date``/``datetime`` objects, ISO strings (with a time part), ``"6 Jan 2024"``,
    ``"21 Des 2015, 02:50:25 PM"`` (Indonesian or English month names, short or long) and
    day-first numeric dates (``"23/01/2023"``). Empty values give ``None``; anything else raises
    ``ValueError``.
    """
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date().isoformat()  # type: ignore[union-attr]
    s = str(value).strip()
    y = m = d = None
    if match := _ISO_DATE_RE.match(s):
        y, m, d = (int(g) for g in match.groups())
    elif match := _DMY_NAME_RE.match(s):
        month = _MONTHS.get(match.group(2).lower())
        if month is None:
            raise ValueError(f"unknown month name {match.group(2)!r} in date {s!r}")
        d, m, y = int(match.group(1)), month, int(match.group(3))
    elif match := _DMY_NUM_RE.match(s):
        d, m, y = (int(g) for g in match.groups())
    else:
        raise ValueError(f"unrecognised date {s!r}")
    try:
        return date(y, m, d).isoformat()
    except ValueError as exc:
        raise ValueError(f"invalid date {s!r}: {exc}") from None


def salutation_agency(text: object) -> str | None:
    """The agency a post addresses in its opening ``Yth. <instansi>,`` salutation, if any."""
    if _is_blank(text):
        return None
    s = normalise_whitespace(strip_html(str(text)))
    whole = salutation_name(s)  # the whole name, "Kab." included
    if whole:
        whole = _HONORIFIC_RE.sub("", whole).strip(" -")
        if whole:
            return whole
    match = _SALUTATION_AGENCY_RE.match(s)
    if not match:
        return None
    name = match.group(1).strip(" -")
    return name or None


# ====================================================================== raw reading ======


# ============================================================================ layouts ======


@dataclass
class _Layout:
    name: str
    text: list[str]  # one column, or [title, body] combined with report_text
    label: str | None
    date: str | None = None
    id: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    weight: str | None = None
    label_from_salutation: bool = False
    id_namespace: str = ""


class _Columns:
    """Case-/space-insensitive column lookup over a header."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = [str(h) for h in header]
        self._by_norm: dict[str, str] = {}
        for h in self.header:
            self._by_norm.setdefault(_norm_col(h), h)

    def get(self, *names: str | None) -> str | None:
        for n in names:
            if n and (hit := self._by_norm.get(_norm_col(n))):
                return hit
        return None

    def __contains__(self, name: object) -> bool:
        return self.get(str(name)) is not None

    def found(self) -> str:
        return ", ".join(repr(h) for h in self.header if h) or "none"


def _missing(file: str, row: int | None, column: str, why: str, cols: _Columns) -> DataError:
    return DataError(
        f"missing column {column!r} ({why}); columns found: {cols.found()}",
        file=file,
        row=row,
        column=column,
    )


def _resolve_layout(
    cols: _Columns,
    task: str | None,
    file: str,
    header_row: int | None,
    text_column: str | None,
    label_column: str | None,
    date_column: str | None,
    id_column: str | None,
) -> _Layout:
    is_lapor = (
        cols.get(LAPOR_ID) is not None
        and cols.get(LAPOR_BODY) is not None
        or (len({_norm_col(h) for h in cols.header} & _LAPOR_NORM) >= 3)
    )
    # An explicit column applies to the files that have it; files of a known layout that do not
    # have it keep their own columns (several files of different formats can be combined).
    text_override = cols.get(text_column)
    label_override = cols.get(label_column)
    date_override = cols.get(date_column)
    id_override = cols.get(id_column)

    if is_lapor:
        for required in (LAPOR_ID, LAPOR_DATE, LAPOR_TITLE, LAPOR_BODY):
            if cols.get(required) is None and not (required == LAPOR_BODY and text_override):
                raise _missing(file, header_row, required, "LAPOR! export", cols)
        label = label_override
        if task and label is None:
            wanted = LAPOR_TYPE if task == "report-type" else LAPOR_AGENCY
            label = cols.get(wanted)
            if label is None:
                raise _missing(file, header_row, wanted, f"label for task {task}", cols)
        body = text_override or cols.get(LAPOR_BODY)
        title = cols.get(LAPOR_TITLE)
        return _Layout(
            name="lapor_export",
            text=[title, body] if title and body != title else [body],  # type: ignore[list-item]
            label=label,
            date=date_override or cols.get(LAPOR_DATE),
            id=id_override or cols.get(LAPOR_ID),
            meta={k: c for k, v in LAPOR_META.items() if (c := cols.get(v))},
            id_namespace="lapor",
        )

    is_surabaya = "keluhan" in cols and "instansi" in cols and "tanggal_keluhan" in cols
    is_posts = (
        "judul" in cols
        and "isi" in cols
        and not any(c in cols for c in LABEL_CANDIDATES["agency"] + LABEL_CANDIDATES["report-type"])
    )

    text: list[str]
    if text_override:
        text = [text_override]
    elif text_column and not (is_surabaya or is_posts):
        raise _missing(file, header_row, text_column, "given as the text column", cols)
    elif (judul := cols.get("judul", "judul_laporan", "title")) and (
        isi := cols.get("isi", "isi_laporan", "body")
    ):
        text = [judul, isi]
    else:
        found = cols.get(*TEXT_CANDIDATES)
        if found is None:
            raise _missing(
                file,
                header_row,
                text_column or "text",
                "no text column: pass text_column / --text-column; usual names: "
                + ", ".join(TEXT_CANDIDATES),
                cols,
            )
        text = [found]

    label = None
    from_salutation = False
    if task:
        if label_override:
            label = label_override
        elif label_column and not (is_surabaya or is_posts):
            raise _missing(file, header_row, label_column, "given as the label column", cols)
        elif is_posts and task == "agency":
            from_salutation = True
        else:
            label = cols.get(*LABEL_CANDIDATES[task])
            if label is None:
                wanted = label_column or LABEL_CANDIDATES[task][0]
                raise _missing(
                    file,
                    header_row,
                    wanted,
                    f"no label column for task {task}: pass label_column / --label-column; "
                    "usual names: " + ", ".join(LABEL_CANDIDATES[task]),
                    cols,
                )
    if date_column and not date_override and not (is_surabaya or is_posts):
        raise _missing(file, header_row, date_column, "given as the date column", cols)
    if id_column and not id_override and not (is_surabaya or is_posts):
        raise _missing(file, header_row, id_column, "given as the id column", cols)
    used = {*text, label}
    return _Layout(
        name="surabaya_media_center" if is_surabaya else "lapor_posts" if is_posts else "generic",
        text=text,
        label=label,
        date=date_override or cols.get(*DATE_CANDIDATES),
        id=id_override or cols.get(*ID_CANDIDATES),
        meta={m: c for m in META_CANDIDATES if (c := cols.get(m)) and c not in used},
        weight=cols.get("weight"),
        label_from_salutation=from_salutation,
        id_namespace=file,
    )


# ============================================================================ loading ======


class _Loader:
    def __init__(
        self,
        task: str | None,
        strict: bool,
        normaliser: AgencyNormaliser,
        feedback_weight: float,
    ) -> None:
        self.task = task
        self.strict = strict
        self.normaliser = normaliser
        self.feedback_weight = feedback_weight
        self.summary = LoadSummary()
        self.examples: list[Example] = []
        self.seen_ids: dict[tuple[str, str], tuple[str, int | None, int]] = {}
        self.columns: dict[str, _Columns] = {}  # file -> its header (layout detection)
        self.layouts: dict[str, str] = {}  # file -> layout name

    # -- bookkeeping ------------------------------------------------------------------------
    def skip(
        self, file: str, row: int | None, column: str | None, reason: str, detail: str = ""
    ) -> None:
        if self.strict:
            raise DataError(
                f"{reason}" + (f": {detail}" if detail else "") + " (strict mode)",
                file=file,
                row=row,
                column=column,
            )
        self.summary.skip(file, row, column, reason, detail)

    def label_for(
        self, file: str, row: int, column: str | None, raw: object
    ) -> tuple[str | None, str | None]:
        """(label, skip reason) for a raw label value under this task."""
        if self.task == "report-type":
            try:
                label = normalise_report_type(raw)
            except UnknownLabelError as exc:
                self.skip(file, row, column, "unknown_label", str(exc))
                return None, "unknown_label"
        else:
            label = self.normaliser(raw) or None
        if label is None:
            self.skip(file, row, column, "missing_label", "the label is empty")
            return None, "missing_label"
        return label, None

    def add(
        self,
        ex: Example,
        file: str,
        namespace: str,
        id_column: str | None,
        *,
        latest_wins: bool = False,
    ) -> None:
        key = (namespace, ex.id)
        first = self.seen_ids.get(key)
        if first is not None:
            prev_file, prev_row, prev_index = first
            if latest_wins and not self.strict:
                # A later decision on the same report supersedes the earlier one.
                prev = self.examples[prev_index]
                self.summary.rows_used[prev_file] -= 1
                if prev.label is not None:
                    self.summary.label_counts[prev.label] -= 1
                    self.summary.label_counts += Counter()  # drop zero counts
                self.summary.skip(
                    prev_file,
                    prev_row,
                    id_column,
                    "duplicate_id",
                    f"id {ex.id!r} superseded by {file} row {ex.row}",
                )
                self.examples[prev_index] = ex
                self.seen_ids[key] = (file, ex.row, prev_index)
                self.summary.rows_used[file] += 1
                if ex.label is not None:
                    self.summary.label_counts[ex.label] += 1
                return
            where = f"{prev_file} row {prev_row}" if prev_file != file else f"row {prev_row}"
            self.skip(
                file, ex.row, id_column, "duplicate_id", f"id {ex.id!r} already used at {where}"
            )
            return
        self.seen_ids[key] = (file, ex.row, len(self.examples))
        self.examples.append(ex)
        self.summary.rows_used[file] += 1
        if ex.label is not None:
            self.summary.label_counts[ex.label] += 1

    # -- tabular files (CSV, XLSX, Parquet) -------------------------------------------------
    def load_tabular(
        self,
        table: _Table,
        source: str,
        text_column: str | None,
        label_column: str | None,
        date_column: str | None,
        id_column: str | None,
    ) -> None:
        file = table.file
        head = [[_cell_str(v) for v in r] for _, r in table.records[:HEADER_SEARCH_ROWS]]
        wanted = [c for c in (text_column, label_column) if c]
        idx = _find_header_index(head, wanted)
        if idx is None:
            raise DataError("no header row found (the file has no non-empty rows)", file=file)
        header_row, header_cells = table.records[idx][0], head[idx]
        cols = _Columns(header_cells)
        layout = _resolve_layout(
            cols, self.task, file, header_row, text_column, label_column, date_column, id_column
        )
        self.columns[file], self.layouts[file] = cols, layout.name
        index = {}
        for i, h in enumerate(header_cells):
            index.setdefault(h, i)
        width = len(header_cells)
        while width and not header_cells[width - 1].strip():
            width -= 1
        log.info("%s: %s layout, header on row %d", file, layout.name, header_row)
        preamble = _preamble_meta(head[:idx]) if layout.name == "lapor_export" else {}

        rows = table.records[idx + 1 :]
        for row_no, values in _progress(rows, f"reading {Path(file).name}"):
            if all(_is_blank(v) for v in values):
                continue  # an empty spreadsheet row is not a record
            self.summary.rows_read[file] += 1
            extra = [v for v in values[width:] if not _is_blank(v)]
            if len(values) < width and table.fmt == "csv" or extra:
                self.skip(
                    file,
                    row_no,
                    None,
                    "malformed_row",
                    f"{len(values)} fields where the header has {width}",
                )
                continue
            cells = {h: values[i] if i < len(values) else None for h, i in index.items()}
            self.emit(file, source, row_no, cells, layout, table.fmt, preamble)

    # -- JSON lines -------------------------------------------------------------------------
    def load_records(
        self,
        table: _Table,
        source: str,
        text_column: str | None,
        label_column: str | None,
        date_column: str | None,
        id_column: str | None,
    ) -> None:
        file = table.file
        for bad in table.bad_lines:  # skipped by the reader on request (on_bad_line="skip")
            self.summary.rows_read[file] += 1
            self.summary.skip(file, bad.line, None, "malformed_json", bad.reason)
        objects = [obj for _, obj in table.records if isinstance(obj, dict)]
        if not objects:
            raise DataError("no JSON objects in the file (expected one object per line)", file=file)
        if all("kind" in obj for obj in objects[:20]):
            self.layouts[file] = "feedback"
            self.load_feedback(table, source)
            return
        header: list[str] = []
        for obj in objects:
            for k in obj:
                if k not in header:
                    header.append(str(k))
        cols = _Columns(header)
        layout = _resolve_layout(
            cols, self.task, file, None, text_column, label_column, date_column, id_column
        )
        self.columns[file], self.layouts[file] = cols, layout.name
        for row_no, obj in _progress(table.records, f"reading {Path(file).name}"):
            self.summary.rows_read[file] += 1
            if not isinstance(obj, dict):
                self.skip(
                    file,
                    row_no,
                    None,
                    "malformed_row",
                    f"a JSON {type(obj).__name__}, not an object",
                )
                continue
            self.emit(file, source, row_no, obj, layout, table.fmt)

    def load_feedback(self, table: _Table, source: str) -> None:
        file = table.file
        label_key = FEEDBACK_LABEL_KEYS.get(self.task or "")
        for row_no, obj in table.records:
            self.summary.rows_read[file] += 1
            if not isinstance(obj, dict):
                self.skip(file, row_no, None, "malformed_row", "not a JSON object")
                continue
            text = clean_text(obj.get("text"))
            if not text:
                self.skip(file, row_no, "text", "empty_text", "the text is empty")
                continue
            label = None
            if label_key and obj.get("kind") != "triage":
                self.skip(
                    file,
                    row_no,
                    "kind",
                    "missing_label",
                    f"feedback of kind {obj.get('kind')!r} is not a triage decision",
                )
                continue
            if self.task == "agency" and obj.get("level") == "disposition":
                self.skip(
                    file,
                    row_no,
                    "level",
                    "other_level",
                    "a national disposition (instansi), not a unit-level agency decision",
                )
                continue
            if label_key:
                raw = obj.get(label_key)
                if _is_blank(raw):
                    self.skip(
                        file,
                        row_no,
                        label_key,
                        "missing_label",
                        f"feedback row of kind {obj.get('kind')!r} has no {label_key}",
                    )
                    continue
                label, reason = self.label_for(file, row_no, label_key, raw)
                if reason:
                    continue
            weight = self.feedback_weight
            if not _is_blank(obj.get("weight")):
                try:
                    weight = float(obj["weight"])
                except (TypeError, ValueError):
                    self.skip(file, row_no, "weight", "malformed_row", f"weight {obj['weight']!r}")
                    continue
            date_iso = self.date_of(file, row_no, "created_at", obj.get("created_at"), {})
            report_id = obj.get("report_id")
            meta: dict[str, Any] = {
                "provenance": "feedback",
                "source_format": "feedback",
                "kind": obj.get("kind"),
                "decision": obj.get("decision"),
            }
            for loc in ("kecamatan", "kelurahan", "penerima"):
                if not _is_blank(obj.get(loc)):
                    meta[loc] = str(obj[loc]).strip()
            if label_key:
                meta["label_raw"] = obj.get(label_key)
            ex = Example(
                id=str(report_id) if not _is_blank(report_id) else f"{source}:{row_no}",
                text=text,
                label=label,
                source=source,
                row=row_no,
                date=date_iso,
                weight=weight,
                meta=meta,
            )
            self.add(ex, file, "feedback", "report_id", latest_wins=True)

    # -- one row of a table or JSON object --------------------------------------------------
    def date_of(
        self, file: str, row: int, column: str | None, raw: object, meta: dict[str, Any]
    ) -> str | None:
        try:
            return parse_date(raw)
        except ValueError as exc:
            if self.strict:
                raise DataError(f"{exc} (strict mode)", file=file, row=row, column=column) from exc
            meta["date_raw"] = str(raw)
            log.warning("%s row %s column %r: %s; row kept without a date", file, row, column, exc)
            return None

    def emit(
        self,
        file: str,
        source: str,
        row_no: int,
        cells: dict[str, Any],
        layout: _Layout,
        fmt: str,
        preamble: dict[str, str] | None = None,
    ) -> None:
        for col in layout.text:
            value = cells.get(col)
            if isinstance(value, (dict, list)):
                self.skip(file, row_no, col, "malformed_row", "text is not a string")
                return
        if len(layout.text) == 2:
            text = report_text(
                _cell_str(cells.get(layout.text[0])), _cell_str(cells.get(layout.text[1]))
            )
        else:
            text = clean_text(_cell_str(cells.get(layout.text[0])))
        text_col = layout.text[-1]
        if not text:
            self.skip(file, row_no, text_col, "empty_text", "the text is empty after cleaning")
            return

        label = None
        label_raw: Any = None
        if self.task:
            if layout.label_from_salutation:
                label_raw = salutation_agency(_cell_str(cells.get(layout.text[-1])))
                if label_raw is None:
                    self.skip(
                        file,
                        row_no,
                        text_col,
                        "missing_label",
                        "no opening 'Yth. <instansi>' salutation naming the agency",
                    )
                    return
                label_col = text_col
            else:
                label_raw = cells.get(layout.label)  # type: ignore[arg-type]
                label_col = layout.label
            if isinstance(label_raw, (dict, list)):
                self.skip(file, row_no, label_col, "malformed_row", "label is not a string")
                return
            label, reason = self.label_for(file, row_no, label_col, _cell_str(label_raw))
            if reason:
                return

        weight = 1.0
        if layout.weight and not _is_blank(cells.get(layout.weight)):
            try:
                weight = float(cells[layout.weight])
            except (TypeError, ValueError):
                self.skip(
                    file,
                    row_no,
                    layout.weight,
                    "malformed_row",
                    f"weight {cells[layout.weight]!r} is not a number",
                )
                return

        meta: dict[str, Any] = {"source_format": layout.name, "provenance": "data"}
        meta.update(preamble or {})
        for key, col in layout.meta.items():
            value = cells.get(col)
            meta[key] = None if _is_blank(value) else normalise_whitespace(_cell_str(value))
        if self.task:
            meta["label_raw"] = _cell_str(label_raw).strip() or None
        date_iso = None
        if layout.date:
            date_iso = self.date_of(file, row_no, layout.date, cells.get(layout.date), meta)

        raw_id = _cell_str(cells.get(layout.id)).strip() if layout.id else ""
        if _LOSSY_ID_RE.match(raw_id):
            # "6.78845e+17": a long number a spreadsheet rounded; not an identifier any more.
            meta["id_raw"] = raw_id
            raw_id = ""
        ex = Example(
            id=raw_id or f"{source}:{row_no}",
            text=text,
            label=label,
            source=source,
            row=row_no,
            date=date_iso,
            weight=weight,
            meta=meta,
        )
        self.add(ex, file, layout.id_namespace if raw_id else f"{file}#row", layout.id)


def _progress(items: Sequence[Any], desc: str) -> Iterator[Any]:
    """Iterate with a tqdm bar on a terminal when the file is big enough to take a while."""
    if len(items) < PROGRESS_MIN_ROWS:
        return iter(items)
    from tqdm.auto import tqdm

    return iter(tqdm(items, desc=desc, unit="row", leave=False, disable=None))


def _as_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def load_dataset(
    paths: str | Path | Iterable[str | Path],
    task: str | None,
    text_column: str | None = None,
    label_column: str | None = None,
    strict: bool = False,
    date_column: str | None = None,
    id_column: str | None = None,
    *,
    feedback_weight: float = 1.0,
    agency_normaliser: AgencyNormaliser | None = None,
    on_bad_line: OnError = "raise",
) -> LoadResult:
    """Read labelled examples for ``task`` from one or more files of any supported format.

    ``task`` is ``"report-type"`` (labels normalised to :data:`~training.labels.REPORT_TYPES`),
    ``"agency"`` (labels mapped by :func:`~training.labels.canonical_agency`; pass an
    :class:`~training.labels.AgencyNormaliser` to keep the raw→canonical map) or ``None``
    (unlabelled: no label column needed, every row with text is used).

    ``text_column`` / ``label_column`` / ``date_column`` / ``id_column`` name columns of generic
    files; files of a recognised layout that do not have them keep their own columns. Admin
    feedback rows get ``meta["provenance"] = "feedback"`` and their own ``weight`` or
    ``feedback_weight``.

    Raises :class:`~training.records.DataError` for file-level problems, and for the first
    row-level problem when ``strict`` is true. A JSON Lines line that is not a JSON object is a
    file-level problem (the policy of :mod:`lapor_triage.jsonl`); ``on_bad_line="skip"`` passes
    such lines over and counts them as ``malformed_json``.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    files = _as_paths(paths)
    if not files:
        raise DataError("no data files given")
    loader = _Loader(task, strict, agency_normaliser or AgencyNormaliser(), feedback_weight)
    for path in files:
        file = str(path)
        table = _read_table(path, file, on_bad_line)
        loader.summary.rows_read[file] += 0  # every file appears in the summary
        loader.summary.rows_used[file] += 0
        args = (table, path.name, text_column, label_column, date_column, id_column)
        if table.fmt in {"jsonl", "json"}:
            loader.load_records(*args)
        else:
            loader.load_tabular(*args)
    _check_explicit_columns(
        loader,
        {
            "text": text_column,
            "label": label_column if task else None,
            "date": date_column,
            "id": id_column,
        },
    )
    if task == "agency" and unify_regional_names(loader.examples, loader.normaliser):
        loader.summary.label_counts = Counter(
            e.label for e in loader.examples if e.label is not None
        )
    return LoadResult(examples=loader.examples, summary=loader.summary)


def _check_explicit_columns(loader: _Loader, given: dict[str, str | None]) -> None:
    """An explicit column is honoured where a file has it, and never ignored without a word.

    Files of a known layout (LAPOR! export, Surabaya, posts, feedback) that lack it keep their own
    columns, with a warning naming the file; a column that no file has at all is an error listing
    the columns found.
    """
    for what, column in given.items():
        if not column:
            continue
        has = {f for f, cols in loader.columns.items() if column in cols}
        if not has:
            found = "; ".join(f"{f}: {cols.found()}" for f, cols in loader.columns.items())
            kinds = ", ".join(sorted(set(loader.layouts.values())))
            raise DataError(
                f"column {column!r} given as the {what} column is in none of the files "
                f"({kinds} layout); columns found: {found or 'none (feedback export)'}",
                file=", ".join(loader.layouts),
                column=column,
            )
        for file, name in loader.layouts.items():
            if file not in has:
                log.warning(
                    "%s: no column %r (given as the %s column): this %s file keeps its own "
                    "%s column",
                    file,
                    column,
                    what,
                    name.replace("_", " "),
                    what,
                )


def file_layouts(
    paths: str | Path | Iterable[str | Path],
    task: str | None,
    text_column: str | None = None,
    label_column: str | None = None,
) -> list[tuple[str, str, list[str]]]:
    """``(file, layout name, columns found)`` per file, without loading its rows.

    Serves ``lapor-triage train``, which refuses to guess the columns of a ``generic`` file.
    Raises :class:`~training.records.DataError` as :func:`load_dataset` would for a file it cannot
    read or whose layout lacks a column it needs.
    """
    out = []
    for path in _as_paths(paths):
        file = str(path)
        table = _read_table(path, file)
        if table.fmt in {"jsonl", "json"}:
            objects = [obj for _, obj in table.records if isinstance(obj, dict)]
            if objects and all("kind" in obj for obj in objects[:20]):
                out.append((file, "feedback", sorted({str(k) for o in objects for k in o})))
                continue
            header = list(dict.fromkeys(str(k) for o in objects for k in o))
        else:
            head = [[_cell_str(v) for v in r] for _, r in table.records[:HEADER_SEARCH_ROWS]]
            idx = _find_header_index(head, [c for c in (text_column, label_column) if c])
            if idx is None:
                raise DataError("no header row found (the file has no non-empty rows)", file=file)
            header = [h for h in head[idx] if h.strip()]
        cols = _Columns(header)
        layout = _resolve_layout(cols, task, file, None, text_column, label_column, None, None)
        out.append((file, layout.name, header))
    return out


def unify_regional_names(
    examples: Sequence[Example], normaliser: AgencyNormaliser | None = None
) -> int:
    """One name for an office written with and without its region.

    In the export of ``Pemerintah Kabupaten Bandung``, "Dinas X" and "Dinas X Kabupaten Bandung"
    are one office: where both names occur among the labels, the short one becomes the long one
    (in the examples and the normaliser's map). Returns how many examples changed.
    """
    labels = {e.label for e in examples if e.label}
    changed = 0
    for ex in examples:
        region = penerima_region(ex.meta.get("penerima"))
        if not region or not ex.label:
            continue
        longer = f"{ex.label} {region}"
        if ex.label.endswith(region) or longer not in labels:
            continue
        raw = ex.meta.get("label_raw")
        if normaliser is not None and raw:
            normaliser.mapping_[str(raw).strip()] = longer
        ex.label = longer
        changed += 1
    return changed


def label_counts_by_source(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    """``{source file name: {label: count}}`` for per-source reporting."""
    out: dict[str, dict[str, int]] = {}
    for ex in examples:
        if ex.label is not None:
            counts = out.setdefault(ex.source, {})
            counts[ex.label] = counts.get(ex.label, 0) + 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lapor_triage.training.data --task agency FILE ...``: what the loader makes of some files."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m lapor_triage.training.data", description=main.__doc__
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--task", choices=[*TASKS, "none"], default="none")
    parser.add_argument("--text-column")
    parser.add_argument("--label-column")
    parser.add_argument("--date-column")
    parser.add_argument("--id-column")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--agency-map", type=Path, help="write the raw→canonical agency map here")
    args = parser.parse_args(argv)
    norm = AgencyNormaliser()
    try:
        result = load_dataset(
            args.files,
            None if args.task == "none" else args.task,
            text_column=args.text_column,
            label_column=args.label_column,
            strict=args.strict,
            date_column=args.date_column,
            id_column=args.id_column,
            agency_normaliser=norm,
        )
    except DataError as exc:
        print(f"error: {exc}")
        return 2
    print(result.summary.render())
    for source, counts in label_counts_by_source(result.examples).items():
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        print(f"{source}: {len(counts)} labels: " + ", ".join(f"{k} {v}" for k, v in top[:12]))
    dated = [e.date for e in result.examples if e.date]
    if dated:
        print(f"dates: {len(dated)} of {len(result.examples)} dated, {min(dated)} … {max(dated)}")
    if args.task == "agency":
        print(f"agencies: {norm.n_raw} raw spellings -> {norm.n_canonical} canonical")
        if args.agency_map:
            norm.save(args.agency_map)
            print(f"agency map written to {args.agency_map}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = [
    "HEADER_SEARCH_ROWS",
    "REPORT_TYPES",
    "SKIP_REASONS",
    "TASKS",
    "file_layouts",
    "label_counts_by_source",
    "load_dataset",
    "parse_date",
    "salutation_agency",
]
