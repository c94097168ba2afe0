"""Metrics and report for reply quality (normatif vs substantif).

``reply_metrics`` returns a flat ``dict[str, float]`` (ready for MLflow): the classification
metrics of :func:`training.metrics.classification_metrics` plus

* ``bucket/<name>/macro_f1`` and ``bucket/<name>/n`` for reply-length buckets (``len_short`` <
  150 characters, ``len_medium`` 150–399, ``len_long`` ≥ 400) and for replies with / without digits
  (surface habits a model could lean on);
* ``reason_acc/<code>``: label accuracy on the replies whose true reasons include ``code``;
* ``reason_recall/<code>``: share of those where the model also output ``code`` (when predicted
  reasons are given); ``reason_precision/<code>``: share of the replies given ``code`` by the
  model whose true reasons include it;
* ``primary``: macro-F1.

``ReplyEvaluator(records, labels, reasons)(scorer)`` is the evaluator callable;
``write_reply_report(out_dir, ...)`` writes metrics.json, reply_report.md, per_class.csv/.md,
confusion_matrix.png, calibration.png and report.html (empty groups left out, never "nan").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

from lapor_triage.models.base import Predictor, Record, record_text
from lapor_triage.models.reply_lexicon import REASONS

LABELS = ["normatif", "substantif"]
LENGTH_BUCKETS = (("len_short", 0, 150), ("len_medium", 150, 400), ("len_long", 400, 10**9))


def _reply(record: Record) -> str:
    text = record_text(record, "reply_text")
    return text or ("" if isinstance(record, str) else record_text(record, "text"))


def _report(record: Record) -> str:
    return "" if isinstance(record, str) else record_text(record, "report_text")


def _macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    if not len(y_true):
        return float("nan")
    labels = sorted(set(y_true) | set(y_pred))
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def bucket_masks(records: Sequence[Record]) -> dict[str, np.ndarray]:
    """Boolean masks of the reply-length and digit buckets."""
    replies = [_reply(r) for r in records]
    lengths = np.array([len(t) for t in replies])
    digits = np.array([any(c.isdigit() for c in t) for t in replies])
    masks = {name: (lengths >= lo) & (lengths < hi) for name, lo, hi in LENGTH_BUCKETS}
    masks["digits"] = digits
    masks["no_digits"] = ~digits
    return masks


def reply_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    proba: np.ndarray | None,
    records: Sequence[Record],
    reasons_true: Sequence[Sequence[str] | None] | None = None,
    reasons_pred: Sequence[Sequence[str]] | None = None,
) -> dict[str, float]:
    """Overall, per-bucket and per-reason quality of reply verdicts (see module docstring)."""
    y_true = [str(v) for v in y_true]
    y_pred = [str(v) for v in y_pred]
    if not (len(y_true) == len(y_pred) == len(records)):
        raise ValueError(
            f"{len(y_true)} true labels, {len(y_pred)} predictions, {len(records)} records"
        )
    out: dict[str, float] = {}
    if proba is not None and len(y_true):
        from lapor_triage.training.metrics import classification_metrics

        out.update(classification_metrics(y_true, np.asarray(proba), LABELS, ks=(1,)))
        out.pop("top1_accuracy", None)
    else:
        out["accuracy"] = float(np.mean(np.array(y_true) == np.array(y_pred))) if y_true else 0.0
    out["macro_f1"] = _macro_f1(y_true, y_pred)
    yt, yp = np.array(y_true), np.array(y_pred)
    for name, mask in bucket_masks(records).items():
        out[f"bucket/{name}/n"] = float(mask.sum())
        if mask.any():
            out[f"bucket/{name}/macro_f1"] = _macro_f1(list(yt[mask]), list(yp[mask]))
            out[f"bucket/{name}/accuracy"] = float((yt[mask] == yp[mask]).mean())
    if reasons_true is not None:
        for code in REASONS:
            idx = [i for i, rs in enumerate(reasons_true) if rs and code in rs]
            if not idx:
                continue
            out[f"reason_n/{code}"] = float(len(idx))
            out[f"reason_acc/{code}"] = float(np.mean([y_true[i] == y_pred[i] for i in idx]))
            if reasons_pred is not None:
                out[f"reason_recall/{code}"] = float(
                    np.mean([code in (reasons_pred[i] or []) for i in idx])
                )
        if reasons_pred is not None:
            for code in REASONS:
                given = [i for i, rs in enumerate(reasons_pred) if rs and code in rs]
                if given:
                    out[f"reason_precision/{code}"] = float(
                        np.mean([code in (reasons_true[i] or []) for i in given])
                    )
    out["primary"] = out["macro_f1"]
    return out


def misjudged(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    proba: np.ndarray | None,
    records: Sequence[Record],
    reasons_true: Sequence[Sequence[str] | None] | None = None,
    n: int = 10,
    width: int = 160,
) -> list[dict[str, Any]]:
    """The ``n`` most confident wrong verdicts (PII already masked by the loaders)."""
    wrong = [i for i, (a, b) in enumerate(zip(y_true, y_pred, strict=True)) if a != b]
    if proba is not None:
        conf = np.asarray(proba).max(axis=1)
        wrong.sort(key=lambda i: -conf[i])
    rows = []
    for i in wrong[:n]:
        rec = records[i]
        rows.append(
            {
                "id": "" if isinstance(rec, str) else str(rec.get("id", i)),
                "true": y_true[i],
                "pred": y_pred[i],
                "p_substantif": None if proba is None else round(float(proba[i][1]), 3),
                "true_reasons": list(reasons_true[i] or []) if reasons_true else [],
                "report": _report(rec)[:width].replace("\n", " "),
                "reply": _reply(rec)[:width].replace("\n", " "),
            }
        )
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.3f}"  # NaN: nothing to measure, never "nan"
    return str(v)


def bucket_rows(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """``[{"bucket", "n", "macro_f1", "accuracy"}]`` for the non-empty buckets only."""
    rows = []
    for name in [b[0] for b in LENGTH_BUCKETS] + ["digits", "no_digits"]:
        n = int(metrics.get(f"bucket/{name}/n", 0))
        if n:
            rows.append(
                {
                    "bucket": name,
                    "n": n,
                    "macro_f1": float(metrics.get(f"bucket/{name}/macro_f1", float("nan"))),
                    "accuracy": float(metrics.get(f"bucket/{name}/accuracy", float("nan"))),
                }
            )
    return rows


def render_markdown(
    metrics: Mapping[str, float],
    y_true: Sequence[str],
    y_pred: Sequence[str],
    wrong: Sequence[Mapping[str, Any]] = (),
    title: str = "Reply quality",
) -> str:
    """Markdown tables: overall, buckets, per reason, confusion matrix, misjudged examples."""
    lines = [f"## {title}", ""]
    lines += ["| metric | value |", "|---|---|"]
    for key in ("macro_f1", "accuracy", "f1/normatif", "f1/substantif", "ece"):
        if key in metrics:
            lines.append(f"| {key} | {_fmt(metrics[key])} |")
    lines += ["", "| bucket | n | macro-F1 | accuracy |", "|---|---|---|---|"]
    for row in bucket_rows(metrics):  # empty buckets are left out
        lines.append(
            f"| {row['bucket']} | {row['n']} | {_fmt(row['macro_f1'])} | {_fmt(row['accuracy'])} |"
        )
    codes = [c for c in REASONS if f"reason_acc/{c}" in metrics]
    if codes:
        lines += [
            "",
            "| true reason | n | label accuracy | reason recall | reason precision |",
            "|---|---|---|---|---|",
        ]
        for c in codes:
            rec = metrics.get(f"reason_recall/{c}")
            prec = metrics.get(f"reason_precision/{c}")
            lines.append(
                f"| {c} | {int(metrics[f'reason_n/{c}'])} | {_fmt(metrics[f'reason_acc/{c}'])}"
                f" | {'' if rec is None else _fmt(rec)} | {'' if prec is None else _fmt(prec)} |"
            )
    cm = confusion_matrix(list(y_true), list(y_pred), labels=LABELS)
    lines += ["", "| true \\ predicted | normatif | substantif |", "|---|---|---|"]
    for lab, row in zip(LABELS, cm, strict=True):
        lines.append(f"| {lab} | {row[0]} | {row[1]} |")
    if wrong:
        lines += [
            "",
            "| id | true | predicted | P(substantif) | true reasons | report | reply |",
            "|---|---|---|---|---|---|---|",
        ]
        for w in wrong:
            cells = [
                w["id"], w["true"], w["pred"], w["p_substantif"], ", ".join(w["true_reasons"]),
                w["report"], w["reply"],
            ]  # fmt: skip
            lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_reply_report(
    out_dir: str | Path,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    proba: np.ndarray | None,
    records: Sequence[Record],
    reasons_true: Sequence[Sequence[str] | None] | None = None,
    reasons_pred: Sequence[Sequence[str]] | None = None,
    title: str = "Reply quality",
) -> dict[str, Path]:
    """metrics.json, reply_report.md, per_class.csv/.md, confusion_matrix.png, report.html
    (and calibration.png with proba): the files of the other tasks' reports, plus the buckets."""
    from lapor_triage.training.report import (
        PER_CLASS_COLUMNS,
        html_table,
        img,
        per_class_rows,
        plot_calibration,
        plot_confusion_matrix,
        write_html,
        write_per_class,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = reply_metrics(y_true, y_pred, proba, records, reasons_true, reasons_pred)
    wrong = misjudged(y_true, y_pred, proba, records, reasons_true)
    files = {"metrics": out / "metrics.json", "report": out / "reply_report.md"}
    files["metrics"].write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    files["report"].write_text(render_markdown(metrics, y_true, y_pred, wrong, title))
    files["confusion_matrix"] = plot_confusion_matrix(
        list(y_true), list(y_pred), out / "confusion_matrix.png", title=f"{title}: confusion"
    )
    if proba is not None and len(y_true):
        files["calibration"] = plot_calibration(
            list(y_true), np.asarray(proba), LABELS, out / "calibration.png"
        )
    per_class = per_class_rows(_with_per_class(metrics, y_true, y_pred))
    files.update(write_per_class(out, per_class))
    summary = [
        {"metric": k, "value": float(metrics[k])}
        for k in ("macro_f1", "accuracy", "weighted_f1", "ece")
        if k in metrics
    ]
    summary.insert(0, {"metric": "n", "value": len(y_true)})
    sections = [
        ("Summary", html_table(summary, ["metric", "value"])),
        ("Per class", html_table(per_class, PER_CLASS_COLUMNS)),
        (
            "Reply length and digits (empty groups left out)",
            html_table(bucket_rows(metrics), ["bucket", "n", "macro_f1", "accuracy"]),
        ),
    ]
    codes = [c for c in REASONS if f"reason_acc/{c}" in metrics]
    if codes:
        reason_rows = [
            {
                "true reason": c,
                "n": int(metrics[f"reason_n/{c}"]),
                "label accuracy": metrics[f"reason_acc/{c}"],
                "reason recall": metrics.get(f"reason_recall/{c}", ""),
                "reason precision": metrics.get(f"reason_precision/{c}", ""),
            }
            for c in codes
        ]
        sections.append(("Per reason code", html_table(reason_rows, list(reason_rows[0]))))
    sections.append(("Confusion matrix", img(files["confusion_matrix"])))
    if "calibration" in files:
        sections.append(("Calibration", img(files["calibration"])))
    if wrong:
        cols = ["id", "true", "pred", "p_substantif", "report", "reply"]
        sections.append(("Misjudged examples", html_table(wrong, cols)))
    files["html"] = write_html(out / "report.html", title, sections)
    return files


def _with_per_class(
    metrics: Mapping[str, float], y_true: Sequence[str], y_pred: Sequence[str]
) -> dict[str, float]:
    """``metrics`` with precision/recall/f1/support per label (computed when proba was absent)."""
    out = dict(metrics)
    if all(f"f1/{lab}" in out for lab in LABELS):
        return out
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(
        list(y_true), list(y_pred), labels=LABELS, zero_division=0
    )
    for i, lab in enumerate(LABELS):
        out.update(
            {
                f"precision/{lab}": float(p[i]),
                f"recall/{lab}": float(r[i]),
                f"f1/{lab}": float(f[i]),
                f"support/{lab}": float(n[i]),
            }
        )
    return out


class ReplyEvaluator:
    """``ReplyEvaluator(records, labels, reasons)(scorer) -> dict[str, float]`` with ``primary``."""

    def __init__(
        self,
        records: Sequence[Record],
        labels: Sequence[str],
        reasons: Sequence[Sequence[str] | None] | None = None,
        name: str = "",
    ) -> None:
        if len(records) != len(labels):
            raise ValueError(f"{len(records)} records but {len(labels)} labels")
        self.records, self.labels, self.reasons, self.name = (
            list(records),
            list(labels),
            reasons,
            name,
        )

    def __call__(self, predictor: Predictor) -> dict[str, float]:
        rows = predictor.predict_records(self.records)
        y_pred = [r["label"] for r in rows]
        proba = np.array([[r["probabilities"][c] for c in LABELS] for r in rows])
        metrics = reply_metrics(
            self.labels,
            y_pred,
            proba,
            self.records,
            self.reasons,
            [r.get("reasons", []) for r in rows],
        )
        prefix = f"{self.name}/" if self.name else ""
        out = {f"{prefix}{k}": v for k, v in metrics.items() if k != "primary"}
        out["primary"] = metrics["primary"]
        return out
