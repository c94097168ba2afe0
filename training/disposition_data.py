"""Examples for national disposition: which instansi a report goes to, as *kind* + *region*.

``lapor_national_posts_2017.csv`` (``id``, ``judul``, ``isi``) opens almost every post with
``Yth. <instansi>, <br><br>``: the instansi the citizen chose in LAPOR!'s form. That line is the
label and is removed from the text; the rest of the post stays as written (a second greeting in the
citizen's own words too). The salutation line ends at the comma before the first line break, so
``Yth. Dinas Sosial Kab. Bojonegoro,`` keeps its region (the general cleaner in
:mod:`lapor_triage.text` stops at the first dot, which is right for the agency task's texts but
would cut ``Kab.`` here).

Instansi names are normalised with :class:`~lapor_triage.training.labels.AgencyNormaliser`
(Kab./Kabupaten, Pemkot/Pemkab/Pemprov, Dishub, Disdukcapil, Satpol PP, ...) after a few
disposition-specific aliases (``Kantor Cabang``/``Kacab``/``Cabang`` -> ``KC``, the long BPJS
names -> ``BPJS Kesehatan`` / ``BPJS Ketenagakerjaan``, ``Polri``); the raw -> canonical map is
saved beside the model. :func:`split_instansi` splits a canonical name into its kind and region.

Regional files (Surabaya's media center, the LAPOR! exports of Kab. Bandung and Samarinda) are
read with :func:`~lapor_triage.training.data.load_dataset` (task ``agency``) and become extra
examples of the same kinds with their own region (``Kota Surabaya``, ``Kabupaten Bandung``),
weighted ``regional_weight`` and capped per kind so the big Surabaya file does not drown the
national posts.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from lapor_triage.labels import penerima_region
from lapor_triage.models.instansi_names import (
    _OFFICE_RE,
    _tidy,
    compose,
    region_level,
    split_instansi,
)
from lapor_triage.text import SALUTATION_MAX_WORDS, clean_text, read_salutation
from lapor_triage.training.labels import AgencyNormaliser, canonical_agency
from lapor_triage.training.records import DataError, Example, LoadResult, LoadSummary

# Disposition aliases applied before the shared canonicaliser (word-boundary, case-insensitive).
_ALIASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), r)
    for p, r in (
        (r"\bbadan penyelenggara jaminan sosial\s+(kesehatan|ketenagakerjaan)\b", r"BPJS \1"),
        (r"\bbpjs\s+kes\b\.?", "BPJS Kesehatan"),
        (r"\bbpjs\s+(?:tk|naker)\b\.?", "BPJS Ketenagakerjaan"),
        (r"\b(?:kantor\s+cabang(?:\s+utama)?|kacab|kc\.?|kcu|kcp|cabang|cab\.?)\s+", "KC "),
        (r"\bKC\s+(?:KC\s+)+", "KC "),
        (r"\bpolri\b", "Kepolisian Republik Indonesia"),
        (r"\bdiskominfo\b", "Dinas Komunikasi dan Informatika"),
        (r"\bdinas komunikasi dan informasi\b", "Dinas Komunikasi dan Informatika"),
        (r"\bdpu\b", "Dinas Pekerjaan Umum"),
        (r"\bdinkes\b", "Dinas Kesehatan"),
        (r"\bdinsos\b", "Dinas Sosial"),
        (r"\bdisdik\b", "Dinas Pendidikan"),
        (r"\bkemensos\b", "Kementerian Sosial"),
        (r"\bkemendikbud\b", "Kementerian Pendidikan dan Kebudayaan"),
        (r"\bkemenkumham\b", "Kementerian Hukum dan HAM"),
        (r"\bkementrian\b", "Kementerian"),
        (r"\bpemprov\b\.?", "Pemerintah Provinsi"),
    )
)

# Kinds whose offices belong to a regional government: examples of regional files without a
# region in their name get the file's region appended (``Dinas Sosial`` -> ``... Kota Surabaya``).
_REGIONAL_KIND_RE = re.compile(
    r"^(?:dinas|badan|satuan|kecamatan|kelurahan|desa|bagian|biro|rumah sakit|rsud|inspektorat|"
    r"sekretariat|kantor|pdam|perusahaan daerah|upt|uptd|puskesmas)\b",
    re.IGNORECASE,
)
SURABAYA_REGION = "Kota Surabaya"


def split_salutation(isi: object) -> tuple[str | None, str]:
    """``(instansi as written, the rest of the post)`` for a post's raw ``isi``.

    ``"Yth. Dinas Sosial Kab. Bojonegoro, <br><br>Pak ..."`` -> ``("Dinas Sosial Kab. Bojonegoro",
    "<br>Pak ...")``; a post without an opening salutation that names an instansi gives
    ``(None, isi)``. The reading is :func:`lapor_triage.text.read_salutation`, the one the agency
    loader and the text cleaner use.
    """
    s = "" if isi is None else str(isi)
    sal = read_salutation(s)
    if (
        sal.name is None
        or sal.how == "comma"
        or (sal.how == "dot" and sal.line_words > SALUTATION_MAX_WORDS)
    ):
        # A name that does not fill LAPOR!'s form line ("Yth. <instansi>, <br>") is mostly the
        # citizen's own greeting ("Yth. Pak Hendi, ini kali kedua ..."): no label. A sentence dot
        # on a short line ("dinas koperasi dan ukm. Kapan dana ... Trim,") keeps the name and
        # leaves the question in the text.
        return None, s
    return sal.name, s[sal.end :]


def normalise_instansi(raw: object, normaliser: AgencyNormaliser | None = None) -> str:
    """One canonical instansi name (``""`` for an empty value); ``normaliser`` records the map."""
    s = "" if raw is None else " ".join(str(raw).split())
    if not s:
        return ""
    aliased = s
    for rx, repl in _ALIASES:
        aliased = rx.sub(repl, aliased)
    if normaliser is None:
        return _tidy(canonical_agency(aliased))
    canonical = _tidy(normaliser(aliased))
    normaliser.mapping_[aliased] = canonical
    if aliased != s:  # the map keys the spelling in the file, not the aliased form
        normaliser.mapping_[s] = canonical
        normaliser.counts_[s] += 1
    return canonical


def _example(
    ex_id: str, text: str, label: str, source: str, row: int, weight: float, **meta: object
) -> Example:
    kind, region = split_instansi(label)
    return Example(
        id=ex_id,
        text=text,
        label=label,
        source=source,
        row=row,
        weight=weight,
        meta={"kind": kind, "region": region, **{k: v for k, v in meta.items() if v}},
    )


def load_national_posts(path: str | Path, normaliser: AgencyNormaliser) -> list[Example]:
    """Labelled examples of ``lapor_national_posts_2017.csv``; posts without a salutation are
    left out. Raises :class:`DataError` naming the file (and row) for unusable input."""
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror or exc})", file=file) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid UTF-8 (byte {exc.start})", file=file) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DataError("the file is empty", file=file)
    cols = {h.strip().lower(): i for i, h in enumerate(header)}
    for needed in ("judul", "isi"):
        if needed not in cols:
            raise DataError(f"no {needed!r} column (found: {', '.join(header)})", file=file, row=1)
    out: list[Example] = []
    for values in reader:
        row_no = reader.line_num  # the (last) line of the record, as an editor shows it
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DataError(
                f"{len(values)} fields where the header has {len(header)}", file=file, row=row_no
            )
        name, rest = split_salutation(values[cols["isi"]])
        if name is None:
            continue
        label = normalise_instansi(name, normaliser)
        body = clean_text(rest, salutation=False)
        title = clean_text(values[cols["judul"]], salutation=False)
        text = f"{title}\n{body}" if title and body else title or body
        if not label or not text:
            continue
        ex_id = values[cols["id"]].strip() if "id" in cols else ""
        ex_id = ex_id or f"{path.name}:{row_no}"
        out.append(_example(ex_id, text, label, path.name, row_no, 1.0, label_raw=name))
    if not out:
        raise DataError("no post opens with a 'Yth. <instansi>,' salutation", file=file)
    return out


def _file_region(ex: Example) -> str | None:
    """The regional government a regional file's example belongs to."""
    region = penerima_region(ex.meta.get("penerima"))
    if region:
        return region
    if ex.meta.get("source_format") == "surabaya_media_center":
        return SURABAYA_REGION
    return None


def load_regional(
    path: str | Path,
    normaliser: AgencyNormaliser,
    weight: float = 0.3,
    max_per_label: int | None = 60,
) -> list[Example]:
    """Examples of a regional file (agency label + the file's region), ``weight`` each, at most
    ``max_per_label`` per instansi (the latest rows, where dates are known)."""
    from lapor_triage.training.data import load_dataset

    loaded = load_dataset([path], "agency").examples
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in loaded:
        region = _file_region(ex)
        label = normalise_instansi(ex.meta.get("label_raw") or ex.label, normaliser)
        if not label:
            continue
        kind, own_region = split_instansi(label)
        if own_region is None and region and _REGIONAL_KIND_RE.match(kind):
            if kind in {"Kecamatan", "Kelurahan", "Desa"}:
                continue  # "Kecamatan" without its name: no office to compose
            label = f"{kind} {region}"
        elif m := _OFFICE_RE.match(label):
            if region and region not in label:
                label = f"{m.group(1)} {m.group(2)} {region}"
        loc = {k: ex.meta.get(k) for k in ("kecamatan", "kelurahan")}
        by_label[label].append(
            _example(
                f"{Path(path).name}:{ex.id}",
                ex.text,
                label,
                Path(path).name,
                ex.row or 0,
                weight,
                **loc,
                kota=region,
                label_raw=ex.meta.get("label_raw"),
            )
        )
    out: list[Example] = []
    for items in by_label.values():
        if max_per_label is not None and len(items) > max_per_label:
            items = items[-max_per_label:]
        out.extend(items)
    return out


def is_national_posts(path: str | Path) -> bool:
    """True for a CSV whose header has ``judul`` and ``isi`` and no label column."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        return False
    cols = {h.strip().lower() for h in header}
    return {"judul", "isi"} <= cols and not cols & {"instansi", "agency", "label"}


def load_disposition(
    paths: Iterable[str | Path],
    normaliser: AgencyNormaliser | None = None,
    regional_weight: float = 0.3,
    max_per_label: int | None = 60,
) -> tuple[list[Example], AgencyNormaliser]:
    """Examples of every file (national posts and regional files) and the name map used."""
    normaliser = normaliser or AgencyNormaliser()
    out: list[Example] = []
    files = [Path(p) for p in paths]
    if not files:
        raise DataError("no data files given")
    for path in files:
        if not path.exists():
            raise DataError("no such file", file=str(path))
        if is_national_posts(path):
            out.extend(load_national_posts(path, normaliser))
        else:
            out.extend(load_regional(path, normaliser, regional_weight, max_per_label))
    return out, normaliser


def load_disposition_result(paths: Iterable[str | Path]) -> LoadResult:
    """:func:`load_disposition` in the form the training loop takes (rows used per file)."""
    paths = list(paths)
    examples, _ = load_disposition(paths)
    summary = LoadSummary()
    for path in paths:  # every file appears, by the name its examples carry as source
        summary.rows_read[Path(path).name] += 0
        summary.rows_used[Path(path).name] += 0
    for ex in examples:
        summary.rows_used[ex.source] += 1
        summary.rows_read[ex.source] += 1
        summary.label_counts[str(ex.label)] += 1
    return LoadResult(examples=examples, summary=summary)


def kind_region_counts(examples: Sequence[Example]) -> dict[str, Counter[str]]:
    """``{kind: Counter(region level)}`` of labelled examples (for reports and tests)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in examples:
        kind, region = split_instansi(str(ex.label))
        out[kind][region_level(region)] += 1
    return dict(out)


__all__ = [
    "compose",
    "is_national_posts",
    "kind_region_counts",
    "load_disposition",
    "load_disposition_result",
    "load_national_posts",
    "load_regional",
    "normalise_instansi",
    "region_level",
    "split_instansi",
    "split_salutation",
]
