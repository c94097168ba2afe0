"""The row-by-row work of :func:`lapor_triage.training.data.load_dataset`: one :class:`Loader` turns
the rows of each file into :class:`~training.records.Example` objects and counts every row it
skips, by reason."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lapor_triage.lapor_export import (
    PROGRESS_MIN_ROWS,
    _cell_str,
    _is_blank,
    _preamble_meta,
    _Table,
)
from lapor_triage.text import clean_text, normalise_whitespace, report_text
from lapor_triage.training.data_layouts import (
    Columns,
    GivenColumns,
    Layout,
    is_feedback,
    json_header,
    json_objects,
    resolve_layout,
    tabular_header,
)
from lapor_triage.training.data_values import parse_date, row_weight, salutation_agency
from lapor_triage.training.labels import AgencyNormaliser, UnknownLabelError, normalise_report_type
from lapor_triage.training.records import DataError, Example, LoadSummary

log = logging.getLogger(__name__)

FEEDBACK_LABEL_KEYS = {"report-type": "report_type", "agency": "agency"}
_LOSSY_ID_RE = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")


class Loader:
    """Examples and their accounting (:class:`LoadSummary`), file by file."""

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
        self.columns: dict[str, Columns] = {}  # file -> its header (layout detection)
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
                self.summary.supersede(self.examples, prev_index, ex, file, id_column, prev_file)
                self.seen_ids[key] = (file, ex.row, prev_index)
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
    def layout_of(
        self, file: str, header: Sequence[str], header_row: int | None, given: GivenColumns
    ) -> Layout:
        """The layout of ``file`` (noted for :func:`check_explicit_columns`)."""
        cols = Columns(header)
        layout = resolve_layout(cols, self.task, file, header_row, given)
        self.columns[file], self.layouts[file] = cols, layout.name
        return layout

    def load_tabular(self, table: _Table, source: str, given: GivenColumns) -> None:
        file = table.file
        idx, head = tabular_header(table, given)
        header_row, header_cells = table.records[idx][0], head[idx]
        layout = self.layout_of(file, header_cells, header_row, given)
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
    def load_records(self, table: _Table, source: str, given: GivenColumns) -> None:
        file = table.file
        for bad in table.bad_lines:  # skipped by the reader on request (on_bad_line="skip")
            self.summary.rows_read[file] += 1
            self.summary.skip(file, bad.line, None, "malformed_json", bad.reason)
        objects = json_objects(table)
        if not objects:
            raise DataError("no JSON objects in the file (expected one object per line)", file=file)
        if is_feedback(objects):
            self.layouts[file] = "feedback"
            self.load_feedback(table, source)
            return
        layout = self.layout_of(file, json_header(objects), None, given)
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
            weight = row_weight(obj, self.feedback_weight)
            if weight is None:
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
        layout: Layout,
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
