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


def test_calibration_bins_hold_equal_counts(agency_case) -> None:
    """Adaptive bins: every point of the diagram rests on as many reports as the others."""
    from lapor_triage.training.report import calibration_bins

    y, proba, classes = agency_case
    bins = calibration_bins(y, proba, classes, n_bins=10)
    assert [b["n"] for b in bins] == [30.0] * 10
    assert all(b["lo"] <= b["confidence"] <= b["hi"] for b in bins)
    assert [b["confidence"] for b in bins] == sorted(b["confidence"] for b in bins)
    small = calibration_bins(y[:45], proba[:45], classes)
    assert [b["n"] for b in small] == [15.0] * 3  # few reports: fewer bins, never near-empty ones
    assert calibration_bins([], np.zeros((0, 30)), classes) == []


def test_calibration_png_shows_n_per_bin(tmp_path, agency_case, monkeypatch) -> None:
    from lapor_triage.training import report

    y, proba, classes = agency_case
    texts: list[str] = []
    real_close = report.plt.close

    def keep_texts(fig) -> None:  # read the figure's texts before it is closed
        texts.extend(t.get_text() for ax in fig.axes for t in ax.texts)
        texts.extend(ax.get_title() for ax in fig.axes)
        real_close(fig)

    monkeypatch.setattr(report.plt, "close", keep_texts)
    report.plot_calibration(y, proba, classes, tmp_path / "c.png")
    assert texts.count("30") == 10
    assert any("10 equal-count bins of 30 (300 reports)" in t for t in texts)


def test_coverage_marks_the_abstain_threshold(tmp_path, agency_case) -> None:
    y, proba, classes = agency_case
    files = write_evaluation_report(tmp_path, y, proba, classes, "agency", abstain_threshold=0.37)
    curve = list(csv.DictReader(files["coverage_csv"].open()))
    at = next(r for r in curve if float(r["threshold"]) == 0.37)
    conf = proba.max(axis=1)
    assert float(at["coverage"]) == pytest.approx(float((conf >= 0.37).mean()))
    page = files["html"].read_text()
    assert "abstain_threshold" in page and "coverage at the threshold" in page
    assert ">nan<" not in page


def test_markdown_and_html_tables_never_show_nan() -> None:
    from lapor_triage.training.report import html_table, markdown_table

    rows = [{"k": "len_long", "v": float("nan"), "w": None}]
    assert "nan" not in markdown_table(rows, ["k", "v", "w"]).lower()
    assert "nan" not in html_table(rows, ["k", "v", "w"]).lower()
