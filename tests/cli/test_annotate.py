"""``lapor-triage annotate``: a LAPOR! export back as .xlsx with suggestion and decision columns."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from lapor_triage.cli import main
from lapor_triage.service.console.annotate import ADDED_COLUMNS
from tests.conftest import DEMO_DIR, shared_file
from tests.service.tiny_models import train_tiny_models


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    return train_tiny_models(tmp_path_factory.mktemp("tiny-annotate"))


@pytest.fixture()
def models_env(tiny, monkeypatch) -> None:
    monkeypatch.setenv("LAPOR_MODEL_SOURCE", "local")
    monkeypatch.setenv("LAPOR_REPORT_TYPE_MODEL_DIR", str(tiny["report-type"]))
    monkeypatch.setenv("LAPOR_AGENCY_MODEL_DIR", str(tiny["agency"]))


def rows_of(path: Path) -> tuple[list, list[list]]:
    wb = openpyxl.load_workbook(path)
    values = [list(r) for r in wb.active.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(values) if r and r[0] == "Tracking ID")
    return values[at], values[at + 1 :]


def test_annotate_demo_export(models_env, tmp_path, capsys) -> None:
    out = tmp_path / "annotated.xlsx"
    assert main(["annotate", "--input", str(DEMO_DIR / "reports.csv"), "--output", str(out)]) == 0
    header, rows = rows_of(out)
    assert header[-len(ADDED_COLUMNS) :] == list(ADDED_COLUMNS)
    assert len(rows) == 502
    col = {name: header.index(name) for name in ADDED_COLUMNS}
    for row in rows:
        assert row[col["Saran Jenis Laporan"]] in {"pengaduan", "aspirasi", "permintaan_informasi"}
        assert row[col["Saran Unit 1"]]
        conf = [row[col[f"Keyakinan Unit {i}"]] for i in (1, 2, 3)]
        assert conf == sorted(conf, reverse=True)
        assert row[col["Unit Ragu"]] in {"ya", "tidak"}
        assert row[col["Keputusan Unit"]] is None and row[col["Keputusan Disposisi"]] is None
        assert row[col["Saran Disposisi 1"]] is None  # no disposition model configured
    assert "502 reports annotated" in capsys.readouterr().err


def test_annotate_with_a_disposition_model(models_env, tmp_path, monkeypatch) -> None:
    from tests.service.tiny_models import train_tiny_disposition

    monkeypatch.setenv("LAPOR_DISPOSITION_MODEL_DIR", str(train_tiny_disposition(tmp_path)))
    out = tmp_path / "annotated.xlsx"
    assert main(["annotate", "--input", str(DEMO_DIR / "reports.csv"), "--output", str(out)]) == 0
    header, rows = rows_of(out)
    col = {name: header.index(name) for name in ADDED_COLUMNS}
    for row in rows:
        assert row[col["Saran Disposisi 1"]] and 0 < row[col["Keyakinan Disposisi 1"]] <= 1
        assert row[col["Jenis Instansi 1"]]
        assert row[col["Disposisi Ragu"]] in {"ya", "tidak"}
        # the demo export's penerima has no unit model: the disposition level only
        assert row[col["Saran Unit 1"]] is None and row[col["Unit Ragu"]] is None


def test_annotate_bad_row_names_file_row_and_column(models_env, tmp_path, capsys) -> None:
    lines = (DEMO_DIR / "reports.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[13].split(",")
    cells[0] = ""  # row 14 without its Tracking ID
    bad = tmp_path / "ekspor.csv"
    bad.write_text("\n".join([*lines[:13], ",".join(cells), *lines[14:]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    assert main(["annotate", "--input", str(bad), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ekspor.csv" in err and "row 14" in err and "'Tracking ID'" in err
    assert not out.exists()


def test_annotate_real_kab_bandung_export(models_env, tmp_path) -> None:
    source = shared_file("lapor_export_kab_bandung_2021_2024.xlsx")
    out = tmp_path / "bandung.xlsx"
    assert main(["annotate", "--input", str(source), "--output", str(out)]) == 0
    header, rows = rows_of(out)
    assert len(rows) == 1594
    assert rows_of(out)[0][: -len(ADDED_COLUMNS)] == rows_of_source(source)


def rows_of_source(path: Path) -> list:
    wb = openpyxl.load_workbook(path, read_only=True)
    for r in wb.active.iter_rows(values_only=True):
        if r and r[0] == "Tracking ID":
            return list(r)
    raise AssertionError("no header")


def test_annotate_passes_the_exports_place_columns_to_the_disposition_model(
    models_env, tmp_path, monkeypatch
) -> None:
    """The export's "Kota/Kabupaten" and "Provinsi" columns are the report fields ``kabkota``
    and ``provinsi`` (lapor_triage.fields): the disposition model's region evidence."""
    import csv

    from tests.service.tiny_models import train_tiny_disposition

    monkeypatch.setenv("LAPOR_DISPOSITION_MODEL_DIR", str(train_tiny_disposition(tmp_path)))
    lines = list(csv.reader((DEMO_DIR / "reports.csv").open(encoding="utf-8")))
    header = lines[10]
    rows = []
    for rid, kabkota in (("1", "Kota Semarang"), ("2", "")):
        row = dict.fromkeys(header, "")
        row.update({"Tracking ID": rid, "Judul Laporan": "Lampu jalan mati",
                    "Isi Laporan Awal": "Lampu jalan mati", "Kota/Kabupaten": kabkota,
                    "Provinsi": "Jawa Tengah" if kabkota else ""})  # fmt: skip
        rows.append([row[c] for c in header])
    src = tmp_path / "ekspor.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([*lines[:11], *rows])
    out = tmp_path / "out.xlsx"
    assert main(["annotate", "--input", str(src), "--output", str(out)]) == 0
    got_header, got = rows_of(out)
    col = {name: got_header.index(name) for name in ADDED_COLUMNS}
    named, unnamed = got
    assert named[col["Wilayah 1"]] == "Kota Semarang"
    assert "kabkota: Kota Semarang" in named[col["Bukti Wilayah 1"]]
    assert "kabkota" not in (unnamed[col["Bukti Wilayah 1"]] or "")
