"""A visual evaluation report of a classifier: JSON, CSV/Markdown tables, PNG figures, one HTML page.

``write_evaluation_report(out_dir, y_true, proba, classes, task)`` writes::

    metrics.json          every classification metric (see training.metrics)
    per_class.csv / .md   precision, recall, F1 and support per label
    confusion_matrix.png  (agencies: the most frequent labels only, the rest pooled as "(lainnya)")
    calibration.png       reliability diagram of the top prediction
    coverage.png          coverage vs accuracy when abstaining under a threshold (agency task)
    coverage.csv          the same numbers (agency task)
    report.html           all of it on one page, images embedded
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lapor_triage.training.metrics import classification_metrics, coverage_curve  # noqa: E402

OTHER = "(lainnya)"


def per_class_rows(metrics: dict[str, float]) -> list[dict[str, float | str]]:
    """``[{"label", "precision", "recall", "f1", "support"}]`` sorted by support, largest first."""
    labels = [k.split("/", 1)[1] for k in metrics if k.startswith("f1/")]
    rows: list[dict[str, float | str]] = [
        {
            "label": lab,
            "precision": metrics[f"precision/{lab}"],
            "recall": metrics[f"recall/{lab}"],
            "f1": metrics[f"f1/{lab}"],
            "support": int(metrics[f"support/{lab}"]),
        }
        for lab in labels
    ]
    rows.sort(key=lambda r: (-float(r["support"]), str(r["label"])))
    return rows


def markdown_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table; floats with 3 decimals."""

    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _pooled_labels(
    y_true: Sequence[str], y_pred: Sequence[str], top_n: int
) -> tuple[list[str], list[str], list[str]]:
    """Keep the ``top_n`` most frequent true labels; everything else becomes ``(lainnya)``."""
    keep = [lab for lab, _ in Counter(y_true).most_common(top_n)]
    keep_set = set(keep)
    t = [v if v in keep_set else OTHER for v in y_true]
    p = [v if v in keep_set else OTHER for v in y_pred]
    labels = keep + ([OTHER] if OTHER in t or OTHER in p else [])
    return t, p, labels


def plot_confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], path: Path, top_n: int = 20, title: str = ""
) -> Path:
    """Row-normalised confusion matrix (counts written in the cells)."""
    t, p, labels = _pooled_labels(y_true, y_pred, top_n)
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for a, b in zip(t, p, strict=True):
        cm[index[a], index[b]] += 1
    rows = cm.sum(axis=1, keepdims=True)
    norm = cm / np.where(rows == 0, 1, rows)
    size = max(4.5, 0.45 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    short = [lab if len(lab) <= 40 else lab[:37] + "…" for lab in labels]
    ax.set_xticks(range(len(labels)), short, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), short, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of true label")
    ax.set_title(title or "Confusion matrix (rows: true label)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_calibration(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], path: Path, n_bins: int = 10
) -> Path:
    """Reliability diagram: accuracy of the top prediction per confidence bin vs the diagonal."""
    index = {str(c): i for i, c in enumerate(classes)}
    truth = np.array([index.get(str(v), -1) for v in y_true])
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.clip((conf * n_bins).astype(int), 0, n_bins - 1)
    centers, accs, counts = [], [], []
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            centers.append(conf[mask].mean())
            accs.append(correct[mask].mean())
            counts.append(int(mask.sum()))
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(5.5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(centers, accs, "o-", color="tab:blue", label="model")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title("Reliability diagram (top prediction)")
    ax2.bar(edges[:-1], np.bincount(bins, minlength=n_bins), width=1 / n_bins, align="edge")
    ax2.set_xlabel("confidence")
    ax2.set_ylabel("reports")
    ax2.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_coverage(curve: Sequence[dict[str, float]], path: Path) -> Path:
    """Coverage and accuracy on covered reports as the abstain threshold grows."""
    t = [r["threshold"] for r in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, [r["coverage"] for r in curve], "o-", label="coverage (answered share)")
    ax.plot(t, [r["accuracy"] for r in curve], "s-", label="accuracy on answered")
    ax.set_xlabel("abstain threshold (top probability)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title("Coverage vs accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _html_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_evaluation_report(
    out_dir: str | Path,
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    task: str,
    title: str = "",
    top_n: int = 20,
) -> dict[str, Path]:
    """Write the report files into ``out_dir``; returns ``{name: path}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    proba = np.asarray(proba, dtype=float)
    classes = [str(c) for c in classes]
    y_true = [str(v) for v in y_true]
    metrics = classification_metrics(y_true, proba, classes)
    y_pred = [classes[i] for i in proba.argmax(axis=1)]
    rows = per_class_rows(metrics)
    columns = ["label", "precision", "recall", "f1", "support"]
    files: dict[str, Path] = {}

    files["metrics"] = out / "metrics.json"
    files["metrics"].write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    files["per_class_csv"] = out / "per_class.csv"
    with files["per_class_csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    files["per_class_md"] = out / "per_class.md"
    files["per_class_md"].write_text(markdown_table(rows, columns))

    is_agency = task == "agency" or len(classes) > top_n
    n_show = top_n if is_agency else len(classes) + 1
    cm_title = (
        f"Confusion matrix: {min(n_show, len(set(y_true)))} most frequent labels"
        if is_agency
        else "Confusion matrix (rows: true label)"
    )
    files["confusion_matrix"] = plot_confusion_matrix(
        y_true, y_pred, out / "confusion_matrix.png", top_n=n_show, title=cm_title
    )
    files["calibration"] = plot_calibration(y_true, proba, classes, out / "calibration.png")
    curve = None
    if task == "agency":
        curve = coverage_curve(y_true, proba, classes)
        files["coverage"] = plot_coverage(curve, out / "coverage.png")
        files["coverage_csv"] = out / "coverage.csv"
        with files["coverage_csv"].open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)

    summary_keys = ["n", "accuracy", "macro_f1", "weighted_f1"] + [
        k for k in metrics if k.startswith("top") or k == "ece"
    ]
    summary = [{"metric": k, "value": float(metrics[k])} for k in summary_keys if k in metrics]
    heading = html.escape(title or f"Evaluation report: {task}")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{heading}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{heading}</h1>",
        "<h2>Summary</h2>",
        _html_table(summary, ["metric", "value"]),
        "<h2>Per class</h2>",
        _html_table(rows, columns),
        "<h2>Confusion matrix</h2>",
        _img(files["confusion_matrix"]),
        "<h2>Calibration</h2>",
        _img(files["calibration"]),
    ]
    if curve is not None:
        parts += [
            "<h2>Coverage vs accuracy (abstain threshold)</h2>",
            _img(files["coverage"]),
            _html_table(curve, ["threshold", "coverage", "accuracy", "n_covered"]),
        ]
    parts.append("</body></html>")
    files["html"] = out / "report.html"
    files["html"].write_text("\n".join(parts))
    return files
