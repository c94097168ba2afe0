"""Metrics checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from lapor_triage.models.report_type import ReportTypeClassifier
from lapor_triage.training.metrics import (
    ClassificationEvaluator,
    classification_metrics,
    coverage_curve,
    expected_calibration_error,
)

CLASSES = ["a", "b", "c"]
# predictions (argmax): a, a, b, c, c ; truth: a, b, b, c, a
PROBA = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.5, 0.4, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.1, 0.7],
        [0.3, 0.1, 0.6],
    ]
)
TRUTH = ["a", "b", "b", "c", "a"]


def test_hand_computed_example() -> None:
    m = classification_metrics(TRUTH, PROBA, CLASSES, ks=(1, 2))
    assert m["accuracy"] == pytest.approx(3 / 5)
    # a: tp 1, predicted 2, true 2 -> P .5 R .5 F1 .5
    assert m["precision/a"] == pytest.approx(0.5)
    assert m["recall/a"] == pytest.approx(0.5)
    # b: tp 1, predicted 1, true 2 -> P 1, R .5, F1 2/3
    assert m["precision/b"] == pytest.approx(1.0)
    assert m["f1/b"] == pytest.approx(2 / 3)
    # c: tp 1, predicted 2, true 1 -> P .5, R 1, F1 2/3
    assert m["f1/c"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx((2 * 0.5 + 2 * 2 / 3 + 1 * 2 / 3) / 5)
    assert m["support/a"] == 2
    assert m["top1_accuracy"] == pytest.approx(m["accuracy"])
    # top-2: row 2 (b second) and row 5 (a second: .3 > .1) become hits -> 5/5
    assert m["top2_accuracy"] == pytest.approx(1.0)


def test_ece_hand_computed() -> None:
    # confidences .7 .5 .8 .7 .6 -> bins 7, 5, 8, 7, 6; correct: T F T T F
    # bin5: |0-.5|*1/5, bin6: |0-.6|*1/5, bin7: |1-.7|*2/5, bin8: |1-.8|*1/5
    expected = 0.5 / 5 + 0.6 / 5 + 0.3 * 2 / 5 + 0.2 / 5
    assert expected_calibration_error(TRUTH, PROBA, CLASSES) == pytest.approx(expected)


def test_unknown_true_label_counts_as_error() -> None:
    m = classification_metrics(["a", "z"], PROBA[:2], CLASSES)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["recall/z"] == 0.0 and m["support/z"] == 1


def test_shape_mismatch_is_reported() -> None:
    with pytest.raises(ValueError, match="expected"):
        classification_metrics(TRUTH, PROBA[:, :2], CLASSES)


def test_coverage_curve() -> None:
    curve = coverage_curve(TRUTH, PROBA, CLASSES, thresholds=[0.0, 0.65, 0.75, 0.9])
    assert [r["coverage"] for r in curve] == pytest.approx([1.0, 3 / 5, 1 / 5, 0.0])
    assert curve[0]["accuracy"] == pytest.approx(3 / 5)
    assert curve[1]["accuracy"] == pytest.approx(1.0)  # .7 a, .8 b, .7 c: all correct
    assert np.isnan(curve[3]["accuracy"])


def test_evaluator_returns_primary() -> None:
    texts = ["jalan rusak parah", "apakah ada info jadwal?", "usul dibangun taman"] * 4
    labels = ["pengaduan", "permintaan_informasi", "aspirasi"] * 4
    model = ReportTypeClassifier().fit(texts, labels)
    ev = ClassificationEvaluator(texts, labels, name="val")
    out = ev(model)
    assert out["primary"] == out["val/macro_f1"]
    assert 0.0 <= out["primary"] <= 1.0
    with pytest.raises(KeyError, match="primary"):
        ClassificationEvaluator(texts, labels, primary="nope")(model)
