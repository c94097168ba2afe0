"""The visual evaluation report writes every file, with non-empty images."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from lapor_triage.training.report import write_evaluation_report


@pytest.fixture(scope="module")
def agency_case() -> tuple[list[str], np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    classes = [f"Dinas {i}" for i in range(30)]
    y = [classes[min(int(rng.exponential(6)), 29)] for _ in range(300)]
    logits = rng.normal(size=(300, 30))
    for i, label in enumerate(y):
        logits[i, classes.index(label)] += 2.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba, classes


def test_agency_report_files(tmp_path, agency_case) -> None:
    y, proba, classes = agency_case
    files = write_evaluation_report(tmp_path, y, proba, classes, "agency", title="Uji")
    for key in (
        "metrics",
        "per_class_csv",
        "per_class_md",
        "confusion_matrix",
        "calibration",
        "coverage",
        "html",
    ):
        assert files[key].is_file(), key
    for key in ("confusion_matrix", "calibration", "coverage"):
        data = files[key].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    metrics = json.loads(files["metrics"].read_text())
    assert 0 < metrics["top1_accuracy"] <= metrics["top3_accuracy"] <= 1
    rows = list(csv.DictReader(files["per_class_csv"].open()))
    assert {r["label"] for r in rows} == set(y) | set(classes)
    page = files["html"].read_text()
    assert page.count("data:image/png;base64,") == 3 and "Uji" in page


def test_report_type_report_has_no_coverage(tmp_path) -> None:
    classes = ["aspirasi", "pengaduan", "permintaan_informasi"]
    proba = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    y = ["pengaduan", "aspirasi", "pengaduan", "permintaan_informasi"]
    files = write_evaluation_report(tmp_path, y, proba, classes, "report-type")
    assert "coverage" not in files
    md = files["per_class_md"].read_text()
    assert md.startswith("| label | precision | recall | f1 | support |")
    assert "| pengaduan | 0.500 | 0.500 | 0.500 | 2 |" in md
