"""Data loading: the LAPOR! export, generic files, feedback, and every kind of bad input.

Real files are read from ../shared/data (skipped with a message where absent), each once per
session. Fixture files are written into tmp_path by the small builders below.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from lapor_triage.lapor_export import LAPOR_EXPORT_HEADER
from lapor_triage.text import clean_text
from lapor_triage.training.data import (
    load_dataset,
    parse_date,
    salutation_agency,
)
from lapor_triage.training.labels import REPORT_TYPES, AgencyNormaliser
from lapor_triage.training.records import DataError, Example, LoadResult
from tests.conftest import DEMO_DIR, shared_file

# The Kab. Bandung variant of the export header (no "ID Instansi Terdisposisi").
LAPOR_HEADER = [c for c in LAPOR_EXPORT_HEADER if c != "ID Instansi Terdisposisi"]

# ---------------------------------------------------------------------- fixture builders ---


def lapor_row(
    tid: str,
    klas: str = "Pengaduan Berkadar Pengawasan",
    judul: str = "Jalan rusak",
    isi: str = "Jalan di depan rumah kami rusak parah sejak bulan lalu.",
    instansi: str = "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung",
    tanggal: str = "6 Jan 2024",
    **extra: str,
) -> dict[str, str]:
    row = dict.fromkeys(LAPOR_HEADER, "")
    row.update(
        {
            "Tracking ID": tid,
            "Tanggal Laporan Masuk": tanggal,
            "Waktu Laporan Masuk": "10:00:00",
            "Klasifikasi Laporan": klas,
            "Kategori": "Infrastruktur",
            "Judul Laporan": judul,
            "Isi Laporan Awal": isi,
            "Isi Laporan Akhir": "TEKS AKHIR ADMIN " + isi,
            "Instansi Terdisposisi": instansi,
            "Status Laporan": "Ditutup oleh Sistem",
            "Kecamatan": "Soreang",
            "Kelurahan": "",
        }
    )
    row.update(extra)
    return row


PREAMBLE = [
    ["Judul Laporan", None, "Laporan Ringkas"],
    [],
    ["Nama Instansi", None, "Pemerintah Kabupaten Contoh"],
    [],
    ["Periode Masuk", None, "(2024-01-01) - (2024-12-31)"],
]


def write_lapor_xlsx(
    path: Path,
    rows: list[dict[str, str]],
    *,
    preamble: list[list[Any]] = PREAMBLE,
    header: list[str] = LAPOR_HEADER,
    sheets_before: int = 0,
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Laporan Ringkas"
    for i in range(sheets_before):
        other = wb.create_sheet(f"Info {i}", 0)
        other.append(["Catatan", "bukan data"])
    for line in preamble:
        ws.append(line)
    ws.append(header)
    for r in rows:
        ws.append([r.get(h, "") for h in header])
    wb.save(path)
    return path


def write_csv(
    path: Path, header: list[str], rows: list[list[Any]], preamble: list[list[Any]] = ()
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for line in preamble:
            w.writerow(line)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_lapor_csv(
    path: Path, rows: list[dict[str, str]], preamble: list[list[Any]] = PREAMBLE[:3]
) -> Path:
    return write_csv(path, LAPOR_HEADER, [[r[h] for h in LAPOR_HEADER] for r in rows], preamble)


def write_jsonl(path: Path, objects: list[Any]) -> Path:
    path.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8"
    )
    return path


def assert_accounted(result: LoadResult) -> None:
    """Nothing silently dropped: every row read is used or skipped with a reason."""
    s = result.summary
    skipped = Counter(sk.file for sk in s.skipped)
    for f in s.rows_read:
        assert s.rows_read[f] == s.rows_used[f] + skipped[f], f
    assert sum(s.rows_used.values()) == len(result.examples)


# --------------------------------------------------------------------------- real data ---


KAB_BANDUNG = "lapor_export_kab_bandung_2021_2024.xlsx"
SAMARINDA = "lapor_export_kota_samarinda_2024.csv"
SURABAYA = "surabaya_media_center_2022_2023.csv"
POSTS = "lapor_national_posts_2017.csv"
LAPOR_KLASIFIKASI = {
    "Pengaduan Berkadar Pengawasan",
    "Pengaduan Tidak Berkadar Pengawasan",
    "Aspirasi",
    "Permintaan Informasi",
}


@functools.cache
def load_real(names: tuple[str, ...], task: str) -> tuple[LoadResult, AgencyNormaliser]:
    """Real files are read once per test session (per task)."""
    norm = AgencyNormaliser()
    paths = [shared_file(n) for n in names]
    return load_dataset(paths, task, agency_normaliser=norm), norm


def lapor_report_types() -> LoadResult:
    """Both LAPOR! exports (.xlsx and .csv) loaded together, as the report-type model is trained."""
    return load_real((KAB_BANDUNG, SAMARINDA), "report-type")[0]


def from_source(result: LoadResult, name: str) -> list[Example]:
    return [e for e in result.examples if e.source == name]


@pytest.mark.parametrize(
    ("name", "rows", "header_row"), [(KAB_BANDUNG, 1594, 11), (SAMARINDA, 177, 11)]
)
def test_real_lapor_exports_report_type(name: str, rows: int, header_row: int) -> None:
    result = lapor_report_types()
    s = result.summary
    assert_accounted(result)
    assert {Path(f).name for f in s.rows_read} == {KAB_BANDUNG, SAMARINDA}
    (f,) = [f for f in s.rows_read if Path(f).name == name]
    assert s.rows_read[f] == rows
    exs = from_source(result, name)
    assert len(exs) == s.rows_used[f]
    assert min(e.row for e in exs) == header_row + 1, "header found, preamble not read as data"
    labels = Counter(e.label for e in exs)
    assert set(labels) == set(REPORT_TYPES)
    assert labels["pengaduan"] > labels["aspirasi"] + labels["permintaan_informasi"]
    # The only reason to skip a row here is the empty Klasifikasi of admin-closed reports.
    skipped = [sk for sk in s.skipped if sk.file == f]
    assert {sk.reason for sk in skipped} <= {"missing_label"}
    assert all(sk.column == "Klasifikasi Laporan" for sk in skipped)
    assert all(e.date and "2021-01-01" <= e.date <= "2024-12-31" for e in exs)
    assert all(e.meta["source_format"] == "lapor_export" for e in exs)
    expected_penerima = {
        KAB_BANDUNG: "Pemerintah Kabupaten Bandung",
        SAMARINDA: "Pemerintah Kota Samarinda",
    }[name]
    assert {e.meta["penerima"] for e in exs} == {expected_penerima}, "preamble 'Nama Instansi'"
    assert all(e.meta["status"] for e in exs)
    assert sum(1 for e in exs if e.meta["kategori"]) > 0.9 * len(exs)
    assert all(e.id.isdigit() for e in exs)
    assert {e.meta["label_raw"] for e in exs} <= LAPOR_KLASIFIKASI


def test_real_aspirasi_share_differs_by_office_as_the_readme_says() -> None:
    result = lapor_report_types()
    kab, sam = from_source(result, KAB_BANDUNG), from_source(result, SAMARINDA)
    share = lambda exs: sum(e.label == "aspirasi" for e in exs) / len(exs)  # noqa: E731
    assert share(kab) < 0.03
    assert 0.15 < share(sam) < 0.35
    assert any(e.meta.get("kecamatan") for e in sam), "Samarinda has location columns"


def test_real_lapor_text_is_title_and_original_body_never_the_admin_edit() -> None:
    path = shared_file(SAMARINDA)
    raw = pd.read_csv(path, skiprows=10, dtype=str, keep_default_na=False)
    raw = raw.set_index("Tracking ID")
    differs = 0
    for e in from_source(lapor_report_types(), SAMARINDA):
        src = raw.loc[e.id]
        assert e.text.startswith(clean_text(src["Judul Laporan"], salutation=False))
        awal, akhir = clean_text(src["Isi Laporan Awal"]), clean_text(src["Isi Laporan Akhir"])
        assert e.text.endswith(awal), e.id
        if akhir != awal:
            differs += 1
            assert akhir not in e.text, e.id
    assert differs > 0, "the export has admin-edited bodies to tell apart"


@pytest.mark.parametrize(
    ("name", "rows"), [(KAB_BANDUNG, 1594), (SAMARINDA, 177), (SURABAYA, 11270)]
)
def test_real_agency_routing_data(name: str, rows: int) -> None:
    result, norm = load_real((name,), "agency")
    s = result.summary
    assert sum(s.rows_read.values()) == rows
    assert_accounted(result)
    assert set(s.skipped_by_reason) <= {"missing_label"}
    counts = Counter(e.label for e in result.examples)
    assert len(counts) >= 15
    assert norm.n_canonical <= norm.n_raw
    assert set(counts) == set(norm.mapping_.values())
    # Long tail: the top agency is a large share but far from all.
    assert 0.05 < counts.most_common(1)[0][1] / len(result.examples) < 0.5


def test_real_kab_bandung_agency_spellings_collapse() -> None:
    result, norm = load_real((KAB_BANDUNG,), "agency")
    assert norm.n_canonical < norm.n_raw
    rebuilt = AgencyNormaliser.from_examples(result.examples)
    assert rebuilt.mapping_ == norm.mapping_
    merged = {k: v for k, v in norm.variants.items() if len(v) > 1}
    assert any("Kesehatan" in k for k in merged), merged


def test_real_surabaya_auto_detected_with_location() -> None:
    result, _ = load_real((SURABAYA,), "agency")
    exs = result.examples
    assert all(e.meta["source_format"] == "surabaya_media_center" for e in exs)
    assert sum(1 for e in exs if e.meta.get("kecamatan")) > 0.9 * len(exs)
    assert sum(1 for e in exs if e.meta.get("kelurahan")) > 0.3 * len(exs)
    assert all(e.date and "2022-01-01" <= e.date <= "2023-12-31" for e in exs)
    assert exs[0].row == 2


def test_real_national_posts_take_the_agency_from_the_salutation_and_drop_it() -> None:
    result, _ = load_real((POSTS,), "agency")
    assert_accounted(result)
    assert len(result.examples) > 0.9 * sum(result.summary.rows_read.values())
    assert not any(
        e.text.lower().split("\n")[-1].startswith(("yth", "kepada yth")) for e in result.examples
    )
    assert set(result.summary.skipped_by_reason) <= {"missing_label", "duplicate_id"}


def test_demo_data_loads_for_both_tasks() -> None:
    reports = DEMO_DIR / "reports.csv"
    feedback = DEMO_DIR / "feedback.jsonl"
    assert reports.is_file() and feedback.is_file(), "the demo data belongs to the repository"
    paths = [reports, feedback]
    types = load_dataset(paths, "report-type")
    agencies = load_dataset(paths, "agency")
    for result in (types, agencies):
        assert_accounted(result)
        assert result.summary.rows_used[str(reports)] == result.summary.rows_read[str(reports)]
    assert set(types.summary.label_counts) == set(REPORT_TYPES)
    assert len(agencies.summary.label_counts) >= 15


# -------------------------------------------------------------------- fixture formats ---


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_lapor_preamble_names_the_receiving_instansi(tmp_path: Path, fmt: str) -> None:
    rows = [lapor_row("101"), lapor_row("102", judul="Lampu jalan mati")]
    if fmt == "xlsx":
        path = write_lapor_xlsx(tmp_path / "export.xlsx", rows)
    else:
        path = write_lapor_csv(tmp_path / "export.csv", rows)
    result = load_dataset([path], "report-type")
    assert [e.meta["penerima"] for e in result.examples] == ["Pemerintah Kabupaten Contoh"] * 2
    assert result.examples[0].as_record()["penerima"] == "Pemerintah Kabupaten Contoh"


def test_an_office_named_with_and_without_its_region_is_one_label(tmp_path: Path) -> None:
    long = "Dinas Pengendalian Penduduk Keluarga Berencana Pemberdayaan Perempuan dan Perlindungan Anak"
    rows = [
        lapor_row("101", instansi=long),
        lapor_row("102", instansi="DALDUKPPA Kabupaten Contoh"),
        lapor_row("103", instansi="Dinas Sosial"),  # no regional twin: left alone
    ]
    result = load_dataset([write_lapor_csv(tmp_path / "export.csv", rows)], "agency")
    labels = [e.label for e in result.examples]
    assert labels == [f"{long} Kabupaten Contoh", f"{long} Kabupaten Contoh", "Dinas Sosial"]
    assert result.summary.label_counts == Counter(labels)


def test_lapor_export_without_preamble_has_no_penerima(tmp_path: Path) -> None:
    path = write_lapor_csv(tmp_path / "export.csv", [lapor_row("101")], preamble=[])
    (example,) = load_dataset([path], "report-type").examples
    assert "penerima" not in example.meta


def test_generic_and_feedback_files_carry_penerima(tmp_path: Path) -> None:
    generic = write_jsonl(
        tmp_path / "reports.jsonl",
        [{"id": "a", "text": "Jalan rusak parah", "label": "pengaduan", "penerima": "Pemkot X"}],
    )
    feedback = write_jsonl(
        tmp_path / "feedback.jsonl",
        [
            {
                "kind": "triage",
                "report_id": "b",
                "text": "Sampah menumpuk di pasar",
                "report_type": "pengaduan",
                "agency": "Dinas Lingkungan Hidup",
                "decision": "overridden",
                "penerima": "Pemkot Y",
                "kecamatan": "Gubeng",
                "created_at": "2024-02-12T08:30:00+00:00",
                "weight": 1.0,
            }
        ],
    )
    result = load_dataset([generic, feedback], "report-type")
    by_id = {e.id: e for e in result.examples}
    assert by_id["a"].meta["penerima"] == "Pemkot X"
    assert by_id["b"].meta["penerima"] == "Pemkot Y"
    assert by_id["b"].meta["kecamatan"] == "Gubeng"


@pytest.mark.parametrize("preamble_rows", [0, 3, 17])
def test_lapor_xlsx_header_found_at_any_offset(tmp_path: Path, preamble_rows: int) -> None:
    preamble = [["Laporan Ringkas"], [], ["Nama Instansi", None, "Pemkab Contoh"]] * 10
    path = write_lapor_xlsx(
        tmp_path / "export.xlsx",
        [
            lapor_row("101", "Pengaduan Tidak Berkadar Pengawasan"),
            lapor_row("102", "Aspirasi", tanggal="15 Agustus 2023", Kelurahan="Pamekaran"),
            lapor_row("103", "Permintaan Informasi", tanggal="2 Des 2022"),
        ],
        preamble=preamble[:preamble_rows],
        sheets_before=1,
    )
    result = load_dataset(path, "report-type")
    header_row = preamble_rows + 1
    assert [e.row for e in result.examples] == [header_row + 1, header_row + 2, header_row + 3]
    assert [e.label for e in result.examples] == ["pengaduan", "aspirasi", "permintaan_informasi"]
    assert [e.date for e in result.examples] == ["2024-01-06", "2023-08-15", "2022-12-02"]
    assert [e.id for e in result.examples] == ["101", "102", "103"]
    e = result.examples[1]
    assert e.text.startswith("Jalan rusak\n")
    assert "TEKS AKHIR" not in e.text
    assert e.meta["kecamatan"] == "Soreang" and e.meta["kelurahan"] == "Pamekaran"
    assert e.meta["kategori"] == "Infrastruktur" and e.meta["status"] == "Ditutup oleh Sistem"
    assert e.meta["label_raw"] == "Aspirasi"
    assert e.source == "export.xlsx"
    assert_accounted(result)


def test_lapor_xlsx_numeric_ids_and_real_dates(tmp_path: Path) -> None:
    from datetime import datetime

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Laporan Ringkas"])
    ws.append(LAPOR_HEADER)
    row = lapor_row("x")
    values = [row[h] for h in LAPOR_HEADER]
    values[0], values[1] = 7297246, datetime(2024, 3, 9, 0, 0)
    ws.append(values)
    wb.save(tmp_path / "n.xlsx")
    (e,) = load_dataset(tmp_path / "n.xlsx", "agency").examples
    assert e.id == "7297246" and e.date == "2024-03-09" and e.row == 3
    assert e.label == "Dinas Pekerjaan Umum dan Tata Ruang Kabupaten Bandung"


def test_lapor_csv_cleans_html_salutation_and_pii(tmp_path: Path) -> None:
    isi = (
        "Yth. Dinas Kesehatan Kab. Contoh,<br><br>Puskesmas tutup &amp; tidak ada petugas. "
        "Hubungi saya di 0812-3456-7890 atau budi@example.com, NIK 3204123456789012."
    )
    path = write_lapor_csv(
        tmp_path / "export.csv", [lapor_row("5", isi=isi, instansi="DINAS KESEHATAN KAB. Contoh")]
    )
    (e,) = load_dataset(path, "agency").examples
    assert e.row == 5  # 3 preamble rows + header
    assert e.label == "Dinas Kesehatan Kabupaten Contoh"
    body = e.text.split("\n", 1)[1]
    assert not body.lower().startswith("yth"), "the salutation names the answer"
    assert "&amp;" not in e.text and "<br>" not in e.text and "& tidak" in e.text
    assert "0812" not in e.text and "budi@" not in e.text and "3204123456789012" not in e.text
    assert "[TELEPON]" in e.text and "[EMAIL]" in e.text and "[NIK]" in e.text


def test_generic_csv_with_named_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "laporan.csv",
        ["no", "uraian", "jenis", "tgl", "kecamatan"],
        [
            ["a1", "Mohon info jadwal vaksin", "Permintaan Informasi", "2024-02-01", "Genteng"],
            ["a2", "Sampah menumpuk", "pengaduan", "03/02/2024", ""],
        ],
    )
    result = load_dataset(
        path,
        "report-type",
        text_column="uraian",
        label_column="jenis",
        date_column="tgl",
        id_column="no",
    )
    assert [(e.id, e.label, e.date, e.row) for e in result.examples] == [
        ("a1", "permintaan_informasi", "2024-02-01", 2),
        ("a2", "pengaduan", "2024-02-03", 3),
    ]
    assert result.examples[0].meta["kecamatan"] == "Genteng"
    assert result.examples[1].meta["kecamatan"] is None


def test_surabaya_layout_is_recognised_without_options(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_csv(
        tmp_path / "surabaya.csv",
        ["id", "tanggal_keluhan", "keluhan", "topik", "instansi", "kecamatan", "kelurahan"],
        [
            [
                "9",
                "2023-01-23 13:09:00.000",
                "Parkir liar di trotoar",
                "Parkir",
                "Dinas Perhubungan",
                "Bubutan",
                "",
            ],
            [
                "10",
                "2022-05-02 08:00:00.000",
                "Saluran mampet",
                "Saluran",
                "Kelurahan Wonorejo - Rungkut",
                "Rungkut",
                "Wonorejo",
            ],
        ],
    )
    result = load_dataset(path, "agency")
    a, b = result.examples
    assert (a.id, a.label, a.date, a.meta["topik"], a.meta["kecamatan"]) == (
        "9",
        "Dinas Perhubungan",
        "2023-01-23",
        "Parkir",
        "Bubutan",
    )
    assert b.label == "Kelurahan Wonorejo-Rungkut" and b.meta["kelurahan"] == "Wonorejo"
    assert a.meta["source_format"] == "surabaya_media_center"
    # The Surabaya layout keeps its own columns where only another file has the given ones ...
    other = tmp_path / "other.csv"
    other.write_text("Isi Laporan Awal,jenis\nLampu mati,Dinas Perhubungan\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        again = load_dataset(
            [path, other], "agency", text_column="Isi Laporan Awal", label_column="jenis"
        )
    assert [e.text for e in again.examples][:2] == [e.text for e in result.examples]
    assert again.examples[2].text == "Lampu mati"
    assert f"{path}: no column 'Isi Laporan Awal'" in caplog.text  # said, not silently ignored
    # ... and a column no file has is refused, listing the columns found.
    with pytest.raises(DataError) as err:
        load_dataset(path, "agency", text_column="Isi Laporan Awal", label_column="jenis")
    assert "'Isi Laporan Awal' given as the text column is in none of the files" in str(err.value)
    assert "'keluhan'" in str(err.value)


def test_jsonl_parquet_and_json_array(tmp_path: Path) -> None:
    objs = [
        {"id": "j1", "text": "Lampu jalan mati", "label": "Pengaduan", "date": "2024-05-01"},
        {"id": "j2", "text": "Usul taman baca", "label": "Aspirasi", "kecamatan": "Soreang"},
    ]
    jl = write_jsonl(tmp_path / "a.jsonl", objs)
    pq = tmp_path / "b.parquet"
    pd.DataFrame(
        {
            "text": ["Bagaimana cara daftar KIP?", "Jalan berlubang"],
            "report_type": ["Permintaan Informasi", "pengaduan"],
        }
    ).to_parquet(pq)
    arr = tmp_path / "c.json"
    arr.write_text(json.dumps([{"text": "Air PDAM keruh", "label": "pengaduan"}]), encoding="utf-8")
    result = load_dataset([jl, pq, arr], "report-type")
    got = [(e.source, e.row, e.label) for e in result.examples]
    assert got == [
        ("a.jsonl", 1, "pengaduan"),
        ("a.jsonl", 2, "aspirasi"),
        ("b.parquet", 2, "permintaan_informasi"),
        ("b.parquet", 3, "pengaduan"),
        ("c.json", 1, "pengaduan"),
    ]
    assert result.examples[0].date == "2024-05-01"
    assert result.examples[1].meta["kecamatan"] == "Soreang"
    assert result.examples[2].id == "b.parquet:2"
    assert_accounted(result)


def test_jsonl_text_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "u.jsonl", [{"text": "baris satu\u2028baris dua", "label": "aspirasi"}]
    )
    (e,) = load_dataset(path, "report-type").examples
    assert "satu" in e.text and "dua" in e.text


def test_several_formats_combined(tmp_path: Path) -> None:
    x = write_lapor_xlsx(
        tmp_path / "kab.xlsx", [lapor_row("1"), lapor_row("2", "", judul="Tanpa klasifikasi")]
    )
    c = write_lapor_csv(tmp_path / "kota.csv", [lapor_row("3", "Aspirasi")])
    j = write_jsonl(
        tmp_path / "more.jsonl",
        [{"text": "Mohon informasi", "report_type": "permintaan informasi"}],
    )
    result = load_dataset([x, c, j], "report-type")
    s = result.summary
    assert dict(s.rows_read) == {str(x): 2, str(c): 1, str(j): 1}
    assert dict(s.rows_used) == {str(x): 1, str(c): 1, str(j): 1}
    assert s.label_counts == Counter({"pengaduan": 1, "aspirasi": 1, "permintaan_informasi": 1})
    assert "missing_label: 1" in s.render()
    assert_accounted(result)


def test_unlabelled_loading_needs_no_label_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", ["text"], [["satu"], ["dua"]])
    result = load_dataset(path, None)
    assert [e.label for e in result.examples] == [None, None]
    with pytest.raises(ValueError, match="unknown task"):
        load_dataset(path, "kategori")


# ---------------------------------------------------------------------------- feedback ---


def test_feedback_rows_become_weighted_examples(tmp_path: Path) -> None:
    rows = [
        {
            "kind": "triage",
            "report_id": "r1",
            "text": "Jalan rusak parah",
            "report_type": "aspirasi",
            "agency": "Dinas PU Kab. Contoh",
            "decision": "overridden",
            "created_at": "2025-01-02T10:00:00Z",
        },
        {
            "kind": "triage",
            "report_id": "r2",
            "text": "Minta info bansos",
            "report_type": "permintaan_informasi",
            "agency": None,
            "decision": "accepted",
            "created_at": "2025-01-03T10:00:00Z",
            "weight": 3,
        },
        {
            "kind": "reply",
            "report_id": "r3",
            "text": "Sampah",
            "reply_text": "Sudah ditindaklanjuti",
            "reply_label": "normatif",
            "created_at": "2025-01-04",
        },
    ]
    path = write_jsonl(tmp_path / "feedback.jsonl", rows)
    result = load_dataset(path, "report-type", feedback_weight=2.0)
    a, b = result.examples
    assert (a.id, a.label, a.weight, a.date) == ("r1", "aspirasi", 2.0, "2025-01-02")
    assert (b.label, b.weight) == ("permintaan_informasi", 3.0)
    assert a.meta["provenance"] == "feedback" and a.meta["decision"] == "overridden"
    (sk,) = result.summary.skipped
    assert (sk.row, sk.column, sk.reason) == (3, "kind", "missing_label")
    assert_accounted(result)

    agency = load_dataset(path, "agency")
    assert [e.label for e in agency.examples] == ["Dinas PU Kabupaten Contoh"]
    assert agency.examples[0].weight == 1.0
    assert agency.summary.skipped_by_reason == Counter({"missing_label": 2})


def test_a_later_feedback_decision_supersedes_an_earlier_one(tmp_path: Path) -> None:
    def row(agency: str, when: str) -> dict[str, Any]:
        return {
            "kind": "triage",
            "report_id": "r1",
            "text": "Jalan rusak",
            "agency": agency,
            "report_type": "pengaduan",
            "decision": "overridden",
            "created_at": when,
        }

    path = write_jsonl(
        tmp_path / "fb.jsonl",
        [row("Dinas Sosial", "2025-01-01"), row("Dinas Perhubungan", "2025-02-01")],
    )
    result = load_dataset(path, "agency")
    (e,) = result.examples
    assert (e.label, e.row, e.date) == ("Dinas Perhubungan", 2, "2025-02-01")
    (sk,) = result.summary.skipped
    assert (sk.row, sk.reason) == (1, "duplicate_id") and "superseded" in sk.detail
    assert result.summary.label_counts == Counter({"Dinas Perhubungan": 1})
    assert_accounted(result)
    with pytest.raises(DataError, match="row 2.*duplicate_id"):
        load_dataset(path, "agency", strict=True)


# ------------------------------------------------------------------------ bad input: rows ---


@pytest.fixture
def messy_export(tmp_path: Path) -> Path:
    return write_lapor_csv(
        tmp_path / "messy.csv",
        [
            lapor_row("1"),
            lapor_row("2", judul="", isi="   <br> "),  # row 6: empty text
            lapor_row("3", klas=""),  # row 7: missing label
            lapor_row("4", klas="Keluhan Warga"),  # row 8: unknown label
            lapor_row("1", judul="Lain", isi="Teks lain"),  # row 9: duplicate id
            lapor_row("6", tanggal="32 Foo 2024"),  # row 10: bad date, kept without date
        ],
    )


def test_row_problems_are_skipped_and_counted(messy_export: Path) -> None:
    result = load_dataset(messy_export, "report-type")
    file = str(messy_export)
    got = {(s.reason, s.row, s.column) for s in result.summary.skipped}
    assert got == {
        ("empty_text", 6, "Isi Laporan Awal"),
        ("missing_label", 7, "Klasifikasi Laporan"),
        ("unknown_label", 8, "Klasifikasi Laporan"),
        ("duplicate_id", 9, "Tracking ID"),
    }
    assert all(s.file == file for s in result.summary.skipped)
    unknown = next(s for s in result.summary.skipped if s.reason == "unknown_label")
    assert "Keluhan Warga" in unknown.detail
    dup = next(s for s in result.summary.skipped if s.reason == "duplicate_id")
    assert "row 5" in dup.detail
    assert [e.id for e in result.examples] == ["1", "6"]
    assert result.examples[1].date is None and result.examples[1].meta["date_raw"] == "32 Foo 2024"
    assert result.summary.rows_read[file] == 6
    assert_accounted(result)
    rendered = result.summary.render()
    for reason in ("empty_text", "missing_label", "unknown_label", "duplicate_id"):
        assert reason in rendered


@pytest.mark.parametrize(
    ("drop_rows", "reason", "row", "column"),
    [
        (0, "empty_text", 6, "Isi Laporan Awal"),
        (1, "missing_label", 7, "Klasifikasi Laporan"),
        (2, "unknown_label", 8, "Klasifikasi Laporan"),
        (3, "duplicate_id", 9, "Tracking ID"),
        (4, "date", 10, "Tanggal Laporan Masuk"),
    ],
)
def test_strict_mode_fails_on_the_first_row_problem(
    tmp_path: Path, drop_rows: int, reason: str, row: int, column: str
) -> None:
    rows = [
        lapor_row("1"),
        lapor_row("2", judul="", isi=""),
        lapor_row("3", klas=""),
        lapor_row("4", klas="Keluhan Warga"),
        lapor_row("1", judul="Lain", isi="Teks lain"),
        lapor_row("6", tanggal="32 Foo 2024"),
    ]
    # Fix the problems before the one under test, so it is the first one met.
    for i in range(1, 1 + drop_rows):
        rows[i] = lapor_row(str(100 + i))
    path = write_lapor_csv(tmp_path / "strict.csv", rows)
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type", strict=True)
    msg = str(err.value)
    assert str(path) in msg and f"row {row}" in msg and repr(column) in msg
    assert reason in msg
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row, column)


def test_malformed_csv_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "text,label\nsatu,aspirasi\ndua,pengaduan,extra\ntiga\nempat,aspirasi\n", encoding="utf-8"
    )
    result = load_dataset(path, "report-type")
    assert [e.text for e in result.examples] == ["satu", "empat"]
    assert {(s.reason, s.row) for s in result.summary.skipped} == {
        ("malformed_row", 3),
        ("malformed_row", 4),
    }
    with pytest.raises(DataError, match=r"row 3.*malformed_row"):
        load_dataset(path, "report-type", strict=True)


def test_json_values_of_the_wrong_shape(tmp_path: Path) -> None:
    """A line that is not an object breaks the file (lapor_triage.jsonl policy) unless skipping
    is asked for; an object whose text is not a string is a malformed row."""
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [{"text": "ok", "label": "aspirasi"}, [1, 2], {"text": {"a": 1}, "label": "aspirasi"}],
    )
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    assert (err.value.file, err.value.row) == (str(path), 2)
    assert "line 2" in str(err.value) and "not a JSON object" in str(err.value)
    result = load_dataset(path, "report-type", on_bad_line="skip")
    assert len(result.examples) == 1
    assert {(s.reason, s.row) for s in result.summary.skipped} == {
        ("malformed_json", 2),
        ("malformed_row", 3),
    }
    assert_accounted(result)


# ----------------------------------------------------------------------- bad input: files ---


def test_missing_lapor_column_names_file_column_and_columns_found(tmp_path: Path) -> None:
    header = [h for h in LAPOR_HEADER if h != "Klasifikasi Laporan"]
    path = write_lapor_xlsx(
        tmp_path / "no_klas.xlsx", [lapor_row("1")], header=header, preamble=PREAMBLE[:2]
    )
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    msg = str(err.value)
    assert str(path) in msg and "'Klasifikasi Laporan'" in msg and "row 3" in msg
    assert "columns found" in msg and "'Isi Laporan Awal'" in msg
    # The agency task does not need that column.
    assert len(load_dataset(path, "agency").examples) == 1


@pytest.mark.parametrize(
    ("header", "kwargs", "column"),
    [
        (["isi_laporan", "instansi"], {"text_column": "uraian"}, "uraian"),
        (["text", "instansi"], {"label_column": "dinas"}, "dinas"),
        (["catatan", "instansi"], {}, "text"),
        (["text", "kategori"], {}, "agency"),
        (["text", "instansi"], {"date_column": "tgl"}, "tgl"),
    ],
)
def test_missing_generic_columns(
    tmp_path: Path, header: list[str], kwargs: dict[str, str], column: str
) -> None:
    path = write_csv(tmp_path / "g.csv", header, [["a", "b"]])
    with pytest.raises(DataError) as err:
        load_dataset(path, "agency", **kwargs)
    msg = str(err.value)
    assert str(path) in msg and f"column {column!r}" in msg and "columns found" in msg
    assert all(repr(h) in msg for h in header)


def test_truncated_xlsx(tmp_path: Path) -> None:
    good = write_lapor_xlsx(tmp_path / "good.xlsx", [lapor_row(str(i)) for i in range(50)])
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 200, 100):
        bad = tmp_path / f"cut{cut}.xlsx"
        bad.write_bytes(data[:cut])
        with pytest.raises(DataError) as err:
            load_dataset(bad, "report-type")
        assert str(bad) in str(err.value)
        assert "truncated" in str(err.value) or "damaged" in str(err.value)


def test_truncated_csv_inside_a_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('text,label\n"satu",aspirasi\n"dua, yang terpotong', encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    assert (
        str(path) in str(err.value) and "row 3" in str(err.value) and "truncated" in str(err.value)
    )


def test_invalid_utf8_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"text,label\nsatu,aspirasi\nkafe,pengaduan\n"
        + "caf\xe9 tutup,aspirasi\n".encode("latin-1")
    )
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    e = err.value
    assert (e.file, e.row, e.column) == (str(path), 4, "text")
    assert "UTF-8" in str(e)


def test_malformed_json_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "a", "label": "aspirasi"}\n{"text": "b", "label": \n{"text": "c"}\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    assert (err.value.file, err.value.row) == (str(path), 2)
    msg = str(err.value)
    assert "line 2" in msg and "cut off" in msg and "JSON Lines" in msg


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.jsonl", b"\n\n", "empty"),
        ("old.xls", b"\xd0\xcf\x11\xe0 not really", "unsupported"),
        ("fake.xlsx", b"this is not a workbook", "xlsx"),
        ("fake.parquet", b"PAR1 broken", "Parquet"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type")
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.csv.*not found"):
        load_dataset(tmp_path / "nope.csv", "agency")


# ------------------------------------------------------------------------------ helpers ---


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("6 Jan 2024", "2024-01-06"),
        ("15 Agustus 2023", "2023-08-15"),
        ("2 Des 2022", "2022-12-02"),
        ("21 Des 2015, 02:50:25 PM", "2015-12-21"),
        ("1 Mei 2021", "2021-05-01"),
        ("9 Okt 2024", "2024-10-09"),
        ("2023-01-23 13:09:00.000", "2023-01-23"),
        ("2025-01-02T10:00:00Z", "2025-01-02"),
        ("23/01/2023", "2023-01-23"),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, iso: str | None) -> None:
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["kemarin", "31 Feb 2024", "12 Foo 2024"])
def test_parse_date_refuses_nonsense(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        (
            "Yth. Dinas Perhubungan Kota Bandung, <br><br>Lampu mati",
            "Dinas Perhubungan Kota Bandung",
        ),
        ("yth. bpjs.. saya ingin menanyakan", "bpjs"),
        ("Kepada Yth. Bapak Kepala Dinas Sosial: mohon bantuan", "Dinas Sosial"),
        ("Saya ingin melapor jalan rusak", None),
    ],
)
def test_salutation_agency(text: str, agency: str | None) -> None:
    assert salutation_agency(text) == agency


def test_inspection_command_prints_the_summary_and_writes_the_agency_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lapor_triage.training.data import main

    path = write_lapor_csv(
        tmp_path / "e.csv",
        [
            lapor_row("1", instansi="Dinas Kesehatan Kab. Contoh"),
            lapor_row("2", instansi="DINAS KESEHATAN KABUPATEN Contoh"),
            lapor_row("3", instansi=""),
        ],
    )
    out_map = tmp_path / "map.json"
    assert main(["--task", "agency", str(path), "--agency-map", str(out_map)]) == 0
    printed = capsys.readouterr().out
    assert "3 rows read, 2 used" in printed and "missing_label: 1" in printed
    assert "2 raw spellings -> 1 canonical" in printed
    assert set(json.loads(out_map.read_text())["mapping"].values()) == {
        "Dinas Kesehatan Kabupaten Contoh"
    }
    assert main(["--task", "report-type", str(tmp_path / "absent.csv")]) == 2
    assert "not found" in capsys.readouterr().out


def test_text_column_on_a_lapor_export_is_honoured_or_refused(tmp_path: Path) -> None:
    """--text-column on a LAPOR! export: used when the export has it, refused when it has not."""
    path = write_lapor_csv(tmp_path / "kota.csv", [lapor_row("1"), lapor_row("2", "Aspirasi")])
    plain = load_dataset(path, "report-type")
    assert not any("TEKS AKHIR ADMIN" in e.text for e in plain.examples)
    chosen = load_dataset(path, "report-type", text_column="Isi Laporan Akhir")
    assert all("TEKS AKHIR ADMIN" in e.text for e in chosen.examples)
    with pytest.raises(DataError) as err:
        load_dataset(path, "report-type", text_column="isi_laporan_warga")
    msg = str(err.value)
    assert "'isi_laporan_warga' given as the text column is in none of the files" in msg
    assert "lapor_export layout" in msg and "'Isi Laporan Awal'" in msg


def test_salutation_agency_keeps_the_region_after_kab_dot() -> None:
    assert salutation_agency("Yth. Dinas Sosial Kab. Bojonegoro, <br><br>Pak") == (
        "Dinas Sosial Kab. Bojonegoro"
    )
    assert salutation_agency("Yth. Bapak Walikota. Saya mau lapor") == "Walikota"
