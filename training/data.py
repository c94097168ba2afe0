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
    columns of a generic file (see :func:`~training.data_layouts.file_layouts`).

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

The work is shared out: :mod:`~training.data_layouts` tells the layouts apart,
:mod:`~training.data_loader` reads the rows, :mod:`~training.data_values` parses dates and
salutations.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from lapor_triage.jsonl import OnError
from lapor_triage.labels import penerima_region
from lapor_triage.lapor_export import HEADER_SEARCH_ROWS, _read_table
from lapor_triage.training.data_layouts import GivenColumns, as_paths
from lapor_triage.training.data_loader import Loader

# parse_date and salutation_agency stay importable from here: the public face of the loader.
from lapor_triage.training.data_values import parse_date, salutation_agency
from lapor_triage.training.labels import REPORT_TYPES, AgencyNormaliser
from lapor_triage.training.records import DataError, Example, LoadResult

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
    files = as_paths(paths)
    if not files:
        raise DataError("no data files given")
    given = GivenColumns(text_column, label_column, date_column, id_column)
    loader = Loader(task, strict, agency_normaliser or AgencyNormaliser(), feedback_weight)
    for path in files:
        file = str(path)
        table = _read_table(path, file, on_bad_line)
        loader.summary.rows_read[file] += 0  # every file appears in the summary
        loader.summary.rows_used[file] += 0
        load = loader.load_records if table.fmt in {"jsonl", "json"} else loader.load_tabular
        load(table, path.name, given)
    _check_explicit_columns(loader, given._replace(label=label_column if task else None))
    if task == "agency" and unify_regional_names(loader.examples, loader.normaliser):
        loader.summary.label_counts = Counter(
            e.label for e in loader.examples if e.label is not None
        )
    return LoadResult(examples=loader.examples, summary=loader.summary)


def _check_explicit_columns(loader: Loader, given: GivenColumns) -> None:
    """An explicit column is honoured where a file has it, and never ignored without a word.

    Files of a known layout (LAPOR! export, Surabaya, posts, feedback) that lack it keep their own
    columns, with a warning naming the file; a column that no file has at all is an error listing
    the columns found.
    """
    for what, column in given._asdict().items():
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
    "label_counts_by_source",
    "load_dataset",
    "parse_date",
    "salutation_agency",
]
