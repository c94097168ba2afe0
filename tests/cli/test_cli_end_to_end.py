"""The measured CLI contract, end to end: train → predict → evaluate on a small sample."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from lapor_triage.cli import main
from tests.conftest import DEMO_DIR

DEMO_REPORTS = DEMO_DIR / "reports.csv"


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-row sample of the demo export, written as a plain CSV (text, label, type)."""
    rows = list(csv.reader(DEMO_REPORTS.open(encoding="utf-8")))
    header_at = next(i for i, r in enumerate(rows) if "Tracking ID" in r)
    header, body = rows[header_at], rows[header_at + 1 :]
    col = {name: header.index(name) for name in header}
    random.Random(0).shuffle(body)
    out = tmp_path_factory.mktemp("cli") / "sample.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "agency"])
        for r in body[:200]:
            text = f"{r[col['Judul Laporan']]}\n{r[col['Isi Laporan Awal']]}"
            w.writerow([r[col["Tracking ID"]], text, r[col["Instansi Terdisposisi"]]])
    return out


@pytest.fixture(scope="session")
def agency_model(sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "agency-model"
    code = main(
        [
            "train", "--task", "agency", "--data", str(sample_csv),
            "--text-column", "text", "--label-column", "agency",
            "--output", str(out), "--no-track", "--param", "abstain_threshold=0.5",
        ]
    )  # fmt: skip
    assert code == 0
    return out


def test_train_writes_model_and_report(agency_model: Path) -> None:
    assert (agency_model / "config.json").is_file()
    assert (agency_model / "labels.json").is_file()
    info = json.loads((agency_model / "training.json").read_text())
    assert info["task"] == "agency"
    assert info["config"]["model"] == {"abstain_threshold": 0.5}
    assert 0.0 <= info["metrics"]["top1_accuracy"] <= info["metrics"]["top3_accuracy"] <= 1.0
    assert info["data"]["rows_used"]
    assert (agency_model / "report" / "confusion_matrix.png").stat().st_size > 1000


def test_predict_keeps_input_order_and_contract(agency_model: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    texts = [
        "Lampu penerangan jalan di depan sekolah mati sudah seminggu, mohon diperbaiki",
        "Sampah menumpuk di TPS dekat pasar dan belum diangkut",
        "Bagaimana cara mengurus akta kelahiran anak saya?",
    ]
    ids = ["z-1", 7, "a-3"]
    inp.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts, strict=True))
    )
    out = tmp_path / "out.jsonl"
    assert (
        main(["predict", "--model", str(agency_model), "--input", str(inp), "--output", str(out)])
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ids
    labels = json.loads((agency_model / "labels.json").read_text())
    for r in rows:
        assert r["label"] in labels
        assert isinstance(r["abstain"], bool)
        probs = r["probabilities"]
        assert 1 <= len(probs) <= 10
        assert r["label"] == max(probs, key=probs.get)
        assert all(0.0 <= p <= 1.0 for p in probs.values())


def test_predict_bad_row_names_file_and_row(agency_model: Path, tmp_path: Path, capsys) -> None:
    inp = tmp_path / "bad.jsonl"
    inp.write_text('{"id": 1, "text": "jalan rusak"}\n{"id": 2, "text": "   "}\n')
    out = tmp_path / "out.jsonl"
    code = main(
        ["predict", "--model", str(agency_model), "--input", str(inp), "--output", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and "row 2" in err and "'text'" in err
    assert not out.exists()


def test_predict_invalid_json_is_reported(agency_model: Path, tmp_path: Path, capsys) -> None:
    inp = tmp_path / "broken.jsonl"
    inp.write_text('{"id": 1, "text": "jalan rusak"}\n{"id": 2, "text": \n')
    code = main(
        [
            "predict",
            "--model",
            str(agency_model),
            "--input",
            str(inp),
            "--output",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "broken.jsonl, line 2" in err and "cut off" in err and "JSON Lines" in err


def test_evaluate_prints_metrics_and_writes_report(
    agency_model: Path, sample_csv: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "eval"
    code = main(
        [
            "evaluate", "--model", str(agency_model), "--data", str(sample_csv),
            "--text-column", "text", "--label-column", "agency", "--output", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "top3_accuracy" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["top1_accuracy"] > 0.5  # mostly seen rows: a broken model would fail this
    for name in ("confusion_matrix.png", "coverage.png", "report.html"):
        assert (out / name).stat().st_size > 0


def test_report_type_from_lapor_export(tmp_path: Path) -> None:
    out = tmp_path / "type-model"
    code = main(
        [
            "train",
            "--task",
            "report-type",
            "--data",
            str(DEMO_REPORTS),
            "--output",
            str(out),
            "--no-track",
        ]
    )
    assert code == 0
    info = json.loads((out / "training.json").read_text())
    assert set(json.loads((out / "labels.json").read_text())) == {
        "pengaduan",
        "aspirasi",
        "permintaan_informasi",
    }
    assert info["split"] == "time"
    assert info["metrics"]["macro_f1"] > 0.5


def test_train_missing_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "train",
            "--task",
            "agency",
            "--data",
            str(tmp_path / "nope.csv"),
            "--output",
            str(tmp_path / "m"),
        ]
    )
    assert code == 2
    assert "nope.csv" in capsys.readouterr().err


def test_unknown_model_class_is_a_clear_error(sample_csv: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "train", "--task", "agency", "--data", str(sample_csv), "--text-column", "text",
            "--label-column", "agency", "--output", str(tmp_path / "m"), "--no-track",
            "--param", "class=ReportTypeClassifier",
        ]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "ReportTypeClassifier" in err and "AgencyRouter" in err
