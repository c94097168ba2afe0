"""reply_metrics: overall, buckets, per-reason accuracy; the written report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lapor_triage.training.reply_metrics import (
    ReplyEvaluator,
    misjudged,
    reply_metrics,
    write_reply_report,
)

RECORDS = [
    {"id": "1", "report_text": "Jalan rusak", "reply_text": "Sudah ditambal 3 titik kemarin."},
    {"id": "2", "report_text": "PJU mati", "reply_text": "Terima kasih, akan ditindaklanjuti."},
    {"id": "3", "report_text": "Sampah", "reply_text": "x" * 450},
    {
        "id": "4",
        "report_text": "KTP",
        "reply_text": "Syaratnya KK dan KTP, selesai 1 hari." + "y" * 200,
    },
]
Y_TRUE = ["substantif", "normatif", "normatif", "substantif"]
Y_PRED = ["substantif", "normatif", "substantif", "substantif"]
PROBA = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
REASONS = [["tindakan_konkret"], ["janji_tanpa_rincian"], ["aturan_umum"], ["informasi_diminta"]]


def test_overall_bucket_and_reason_metrics() -> None:
    m = reply_metrics(Y_TRUE, Y_PRED, PROBA, RECORDS, REASONS, [["tindakan_konkret"], [], [], []])
    assert m["accuracy"] == pytest.approx(0.75)
    # normatif: P=1, R=.5 -> F1=2/3; substantif: P=2/3, R=1 -> F1=.8
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["primary"] == m["macro_f1"]
    assert m["bucket/len_short/n"] == 2 and m["bucket/len_short/macro_f1"] == pytest.approx(1.0)
    assert m["bucket/len_long/n"] == 1 and m["bucket/len_long/accuracy"] == 0.0
    assert m["bucket/len_medium/n"] == 1
    assert m["bucket/digits/n"] == 2 and m["bucket/no_digits/n"] == 2
    assert m["reason_acc/aturan_umum"] == 0.0 and m["reason_acc/tindakan_konkret"] == 1.0
    assert m["reason_recall/tindakan_konkret"] == 1.0
    assert m["reason_recall/informasi_diminta"] == 0.0
    assert all(isinstance(v, float) for v in m.values())


def test_reason_precision_counts_the_codes_the_model_gave() -> None:
    pred = [["tindakan_konkret", "jadwal"], ["jadwal"], [], ["tindakan_konkret"]]
    m = reply_metrics(Y_TRUE, Y_PRED, PROBA, RECORDS, REASONS, pred)
    assert m["reason_precision/tindakan_konkret"] == pytest.approx(0.5)  # rows 1 (right), 4
    assert m["reason_precision/jadwal"] == 0.0  # given twice, never true
    assert "reason_precision/aturan_umum" not in m  # never given


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="records"):
        reply_metrics(Y_TRUE, Y_PRED[:2], None, RECORDS)


def test_misjudged_lists_the_confident_errors_first() -> None:
    (w,) = misjudged(Y_TRUE, Y_PRED, PROBA, RECORDS, REASONS)
    assert w["id"] == "3" and w["true"] == "normatif" and w["true_reasons"] == ["aturan_umum"]


def test_write_reply_report(tmp_path: Path) -> None:
    files = write_reply_report(tmp_path / "r", Y_TRUE, Y_PRED, PROBA, RECORDS, REASONS)
    for key in ("metrics", "report", "confusion_matrix", "calibration"):
        assert files[key].is_file() and files[key].stat().st_size > 0
    md = files["report"].read_text()
    assert "len_short" in md and "aturan_umum" in md and "| normatif | 1 | 1 |" in md


class _Fixed:
    classes_ = ["normatif", "substantif"]

    def predict_records(self, X):
        return [
            {"label": p, "probabilities": {"normatif": 0.5, "substantif": 0.5}, "reasons": []}
            for p in Y_PRED[: len(X)]
        ]


def test_evaluator_callable() -> None:
    out = ReplyEvaluator(RECORDS, Y_TRUE, REASONS, name="dev")(_Fixed())
    assert out["primary"] == pytest.approx(out["dev/macro_f1"])
    assert "dev/bucket/digits/macro_f1" in out
