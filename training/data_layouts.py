"""The layouts of data files (README of :mod:`lapor_triage.training.data`): which columns a file has,
which known layout that makes it, and which column holds the text, label, date and id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from lapor_triage.lapor_export import (
    _LAPOR_NORM,
    HEADER_SEARCH_ROWS,
    LAPOR_AGENCY,
    LAPOR_BODY,
    LAPOR_DATE,
    LAPOR_ID,
    LAPOR_META,
    LAPOR_TITLE,
    LAPOR_TYPE,
    _cell_str,
    _find_header_index,
    _norm_col,
    _read_table,
    _Table,
)
from lapor_triage.training.records import DataError

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


class GivenColumns(NamedTuple):
    """Columns named by the caller (``text_column`` and so on); None where not given."""

    text: str | None = None
    label: str | None = None
    date: str | None = None
    id: str | None = None


@dataclass
class Layout:
    name: str
    text: list[str]  # one column, or [title, body] combined with report_text
    label: str | None
    date: str | None = None
    id: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    weight: str | None = None
    label_from_salutation: bool = False
    id_namespace: str = ""


class Columns:
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


def missing_column(file: str, row: int | None, column: str, why: str, cols: Columns) -> DataError:
    return DataError(
        f"missing column {column!r} ({why}); columns found: {cols.found()}",
        file=file,
        row=row,
        column=column,
    )


def tabular_header(table: _Table, given: GivenColumns) -> tuple[int, list[list[str]]]:
    """``(index of the header row, the first rows as strings)`` of a CSV/XLSX/Parquet table: the
    header is the first of :data:`HEADER_SEARCH_ROWS` rows that looks like one."""
    head = [[_cell_str(v) for v in r] for _, r in table.records[:HEADER_SEARCH_ROWS]]
    idx = _find_header_index(head, [c for c in (given.text, given.label) if c])
    if idx is None:
        raise DataError("no header row found (the file has no non-empty rows)", file=table.file)
    return idx, head


def json_objects(table: _Table) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines / JSON table (other values left out)."""
    return [obj for _, obj in table.records if isinstance(obj, dict)]


def is_feedback(objects: Sequence[dict[str, Any]]) -> bool:
    """Rows exported by the service's feedback store: a ``kind`` key in every row (first 20)."""
    return bool(objects) and all("kind" in obj for obj in objects[:20])


def json_header(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every key of the objects, in order of first appearance."""
    return list(dict.fromkeys(str(k) for obj in objects for k in obj))


def resolve_layout(
    cols: Columns, task: str | None, file: str, header_row: int | None, given: GivenColumns
) -> Layout:
    """The layout of a file with these columns, and which column holds what under ``task``."""
    text_column, label_column, date_column, id_column = given
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
                raise missing_column(file, header_row, required, "LAPOR! export", cols)
        label = label_override
        if task and label is None:
            wanted = LAPOR_TYPE if task == "report-type" else LAPOR_AGENCY
            label = cols.get(wanted)
            if label is None:
                raise missing_column(file, header_row, wanted, f"label for task {task}", cols)
        body = text_override or cols.get(LAPOR_BODY)
        title = cols.get(LAPOR_TITLE)
        return Layout(
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
        raise missing_column(file, header_row, text_column, "given as the text column", cols)
    elif (judul := cols.get("judul", "judul_laporan", "title")) and (
        isi := cols.get("isi", "isi_laporan", "body")
    ):
        text = [judul, isi]
    else:
        found = cols.get(*TEXT_CANDIDATES)
        if found is None:
            raise missing_column(
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
            raise missing_column(file, header_row, label_column, "given as the label column", cols)
        elif is_posts and task == "agency":
            from_salutation = True
        else:
            label = cols.get(*LABEL_CANDIDATES[task])
            if label is None:
                wanted = label_column or LABEL_CANDIDATES[task][0]
                raise missing_column(
                    file,
                    header_row,
                    wanted,
                    f"no label column for task {task}: pass label_column / --label-column; "
                    "usual names: " + ", ".join(LABEL_CANDIDATES[task]),
                    cols,
                )
    if date_column and not date_override and not (is_surabaya or is_posts):
        raise missing_column(file, header_row, date_column, "given as the date column", cols)
    if id_column and not id_override and not (is_surabaya or is_posts):
        raise missing_column(file, header_row, id_column, "given as the id column", cols)
    used = {*text, label}
    return Layout(
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


def as_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """One path or several, as a list of paths."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def file_layouts(
    paths: str | Path | Iterable[str | Path],
    task: str | None,
    text_column: str | None = None,
    label_column: str | None = None,
) -> list[tuple[str, str, list[str]]]:
    """``(file, layout name, columns found)`` per file, without loading its rows.

    Serves ``lapor-triage train``, which refuses to guess the columns of a ``generic`` file.
    Raises :class:`~training.records.DataError` as ``load_dataset`` would for a file it cannot
    read or whose layout lacks a column it needs.
    """
    given = GivenColumns(text_column, label_column)
    out = []
    for path in as_paths(paths):
        file = str(path)
        table = _read_table(path, file)
        if table.fmt in {"jsonl", "json"}:
            objects = json_objects(table)
            if is_feedback(objects):
                out.append((file, "feedback", sorted({str(k) for o in objects for k in o})))
                continue
            header = json_header(objects)
        else:
            idx, head = tabular_header(table, given)
            header = [h for h in head[idx] if h.strip()]
        layout = resolve_layout(Columns(header), task, file, None, given)
        out.append((file, layout.name, header))
    return out
