"""Classification metrics from predicted probabilities, and evaluator callables.

``classification_metrics`` returns a flat ``dict[str, float]`` (ready for MLflow ``log_metrics``):
``accuracy``, ``macro_f1``, ``weighted_f1``, ``f1/<label>``, ``precision/<label>``,
``recall/<label>``, ``support/<label>``, ``top{k}_accuracy`` and ``ece`` (expected calibration
error of the top prediction). ``coverage_curve`` gives, per confidence threshold, the share of
reports a model answers (coverage) and its accuracy on them: the abstain trade-off of the router.

Evaluators follow sentence-transformers: ``ClassificationEvaluator(records, labels)(predictor)``
returns a dict of metrics with ``"primary"`` holding the metric a model is chosen by.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from lapor_triage.models.base import Predictor, Record


def _label_index(y_true: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Column of each true label in ``classes`` (-1 for a label the model does not know)."""
    index = {str(c): i for i, c in enumerate(classes)}
    return np.array([index.get(str(t), -1) for t in y_true], dtype=int)


def _check(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"proba has shape {proba.shape}; expected ({len(y_true)}, {len(classes)}) "
            "= (number of examples, number of classes)"
        )
    return proba


def expected_calibration_error(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], n_bins: int = 10
) -> float:
    """ECE of the top prediction: sum over equal-width confidence bins of |accuracy - confidence|."""
    proba = _check(y_true, proba, classes)
    if len(y_true) == 0:
        return 0.0
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == _label_index(y_true, classes)
    bins = np.clip((conf * n_bins).astype(int), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def top_k_accuracy(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], k: int
) -> float:
    """Share of examples whose true label is among the ``k`` most probable classes."""
    proba = _check(y_true, proba, classes)
    if len(y_true) == 0:
        return 0.0
    k = max(1, min(k, proba.shape[1]))
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    truth = _label_index(y_true, classes)
    return float(np.mean([t in row for t, row in zip(truth, top, strict=True)]))


def classification_metrics(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    ks: Iterable[int] = (1, 3, 5),
) -> dict[str, float]:
    """Accuracy, macro/weighted F1, per-class P/R/F1/support, top-k accuracy and ECE.

    Per-class entries cover every label in ``classes`` and every true label (a true label the
    model does not know counts as an error and gets precision 0 / recall 0).
    """
    proba = _check(y_true, proba, classes)
    classes = [str(c) for c in classes]
    y_true = [str(t) for t in y_true]
    pred = [classes[i] for i in proba.argmax(axis=1)] if len(y_true) else []
    labels = list(dict.fromkeys([*classes, *sorted(set(y_true) - set(classes))]))
    out: dict[str, float] = {
        "n": float(len(y_true)),
        "accuracy": float(np.mean([p == t for p, t in zip(pred, y_true, strict=True)]))
        if y_true
        else 0.0,
    }
    f1s, supports = [], []
    for label in labels:
        tp = sum(1 for p, t in zip(pred, y_true, strict=True) if p == label and t == label)
        n_pred = sum(1 for p in pred if p == label)
        n_true = sum(1 for t in y_true if t == label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[f"precision/{label}"] = precision
        out[f"recall/{label}"] = recall
        out[f"f1/{label}"] = f1
        out[f"support/{label}"] = float(n_true)
        if n_true or n_pred:  # macro F1 over labels that occur in truth or predictions
            f1s.append(f1)
            supports.append(n_true)
    out["macro_f1"] = float(np.mean(f1s)) if f1s else 0.0
    total = sum(supports)
    out["weighted_f1"] = float(np.dot(f1s, supports) / total) if total else 0.0
    for k in ks:
        out[f"top{k}_accuracy"] = top_k_accuracy(y_true, proba, classes, k)
    out["ece"] = expected_calibration_error(y_true, proba, classes)
    return out


def coverage_curve(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    thresholds: Sequence[float] | None = None,
) -> list[dict[str, float]]:
    """For each threshold: ``coverage`` (share with top probability ≥ threshold), ``accuracy``
    of the top prediction on those covered, and ``n_covered``."""
    proba = _check(y_true, proba, classes)
    if thresholds is None:
        thresholds = [round(float(t), 2) for t in np.linspace(0.0, 0.95, 20)]
    conf = proba.max(axis=1) if len(y_true) else np.zeros(0)
    correct = proba.argmax(axis=1) == _label_index(y_true, classes) if len(y_true) else np.zeros(0)
    rows = []
    for t in thresholds:
        covered = conf >= t
        n = int(covered.sum())
        rows.append(
            {
                "threshold": float(t),
                "coverage": float(covered.mean()) if len(conf) else 0.0,
                "accuracy": float(correct[covered].mean()) if n else float("nan"),
                "n_covered": float(n),
            }
        )
    return rows


class ClassificationEvaluator:
    """Evaluate a fitted predictor on labelled records: ``evaluator(predictor) -> dict``.

    The result holds every :func:`classification_metrics` entry prefixed with ``name/`` when a
    name is given, plus ``"primary"``: the value of the ``primary`` metric.
    """

    def __init__(
        self,
        records: Sequence[Record],
        labels: Sequence[str],
        name: str = "",
        primary: str = "macro_f1",
        ks: Iterable[int] = (1, 3, 5),
    ) -> None:
        if len(records) != len(labels):
            raise ValueError(f"{len(records)} records but {len(labels)} labels")
        self.records = list(records)
        self.labels = [str(v) for v in labels]
        self.name = name
        self.primary = primary
        self.ks = tuple(ks)

    def __call__(self, predictor: Predictor) -> dict[str, float]:
        proba = predictor.predict_proba(self.records)
        metrics = classification_metrics(self.labels, proba, predictor.classes_, ks=self.ks)
        if self.primary not in metrics:
            raise KeyError(f"primary metric {self.primary!r} is not among {sorted(metrics)}")
        prefix = f"{self.name}/" if self.name else ""
        out: dict[str, Any] = {f"{prefix}{k}": v for k, v in metrics.items()}
        out["primary"] = metrics[self.primary]
        return out


def _metric_of_predictions(
    metric: str, y: np.ndarray, pred: np.ndarray, w: np.ndarray, n_labels: int
) -> float:
    """accuracy / top1_accuracy or macro_f1 (over labels in truth or predictions) with row weights."""
    if metric in ("accuracy", "top1_accuracy"):
        return float(((pred == y) * w).sum() / (w.sum() or 1.0))
    if metric == "macro_f1":
        hit = pred == y
        tp = np.bincount(y[hit], weights=w[hit], minlength=n_labels)
        n_true = np.bincount(y, weights=w, minlength=n_labels)
        n_pred = np.bincount(pred, weights=w, minlength=n_labels)
        denom = n_true + n_pred
        present = denom > 0
        f1 = np.divide(2 * tp, denom, out=np.zeros(n_labels), where=present)
        return float(f1[present].mean()) if present.any() else 0.0
    raise KeyError(
        f"paired bootstrap supports accuracy, top1_accuracy and macro_f1, not {metric!r}"
    )


def paired_bootstrap(
    y_true: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    metric: str = "macro_f1",
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Difference ``metric(b) - metric(a)`` on the same rows with a paired bootstrap interval.

    Rows are resampled with replacement and both models are scored on each resample, so the
    interval reflects the difference, not two independent uncertainties. Returns ``a``, ``b``,
    ``delta``, ``low``, ``high`` and ``n``. (scikit-learn has no paired bootstrap; this is the
    textbook percentile method.)
    """
    if not (len(y_true) == len(pred_a) == len(pred_b)):
        raise ValueError(
            f"{len(y_true)} labels but {len(pred_a)} and {len(pred_b)} predictions: "
            "a paired comparison needs one prediction of each model per row"
        )
    labels = {lab: i for i, lab in enumerate(dict.fromkeys(map(str, [*y_true, *pred_a, *pred_b])))}
    y = np.array([labels[str(v)] for v in y_true], dtype=int)
    a = np.array([labels[str(v)] for v in pred_a], dtype=int)
    b = np.array([labels[str(v)] for v in pred_b], dtype=int)
    n, k = len(y), len(labels)
    ones = np.ones(n)
    va = _metric_of_predictions(metric, y, a, ones, k) if n else 0.0
    vb = _metric_of_predictions(metric, y, b, ones, k) if n else 0.0
    if n == 0:
        return {"a": 0.0, "b": 0.0, "delta": 0.0, "low": 0.0, "high": 0.0, "n": 0.0}
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_boot)
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        deltas[i] = _metric_of_predictions(metric, y, b, w, k) - _metric_of_predictions(
            metric, y, a, w, k
        )
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(deltas, [tail, 100 - tail])
    return {
        "a": va,
        "b": vb,
        "delta": vb - va,
        "low": float(low),
        "high": float(high),
        "n": float(n),
    }
