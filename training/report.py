"""A visual evaluation report of a classifier: JSON, CSV/Markdown tables, PNG figures, one HTML page.

``write_evaluation_report(out_dir, y_true, proba, classes, task)`` writes::

    metrics.json          every classification metric (see training.metrics)
    per_class.csv / .md   precision, recall, F1 and support per label
    confusion_matrix.png  (agencies: the most frequent labels only, the rest pooled as "(lainnya)")
    calibration.png       reliability diagram of the top prediction (equal-count bins, n shown)
    coverage.png          coverage vs accuracy when abstaining under a threshold, the model's
                          own abstain threshold marked (agency task)
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
        if v is None:
            return "–"
        if isinstance(v, float):
            return "–" if v != v else f"{v:.3f}"  # NaN (an empty group): a dash, never "nan"
        return str(v).replace("|", "\\|")

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


def calibration_bins(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    n_bins: int = 10,
    min_per_bin: int = 15,
) -> list[dict[str, float]]:
    """Equal-count (adaptive) bins of the top prediction's confidence.

    Per bin: ``lo``/``hi`` confidence, mean ``confidence``, ``accuracy`` of the top prediction and
    ``n``. At most ``n_bins`` bins and, where the data allow, ``min_per_bin`` reports in each, so no
    point of the diagram rests on a handful of reports. (``sklearn.calibration.calibration_curve``
    with ``strategy="quantile"`` bins alike but returns no counts, which the diagram shows.)
    """
    index = {str(c): i for i, c in enumerate(classes)}
    truth = np.array([index.get(str(v), -1) for v in y_true])
    proba = np.asarray(proba, dtype=float)
    if not len(truth):
        return []
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    k = max(1, min(n_bins, len(conf) // max(1, min_per_bin)))
    order = np.argsort(conf, kind="stable")
    rows = []
    for part in np.array_split(order, k):
        if not len(part):
            continue
        c = conf[part]
        rows.append(
            {
                "lo": float(c.min()),
                "hi": float(c.max()),
                "confidence": float(c.mean()),
                "accuracy": float(correct[part].mean()),
                "n": float(len(part)),
            }
        )
    return rows


def plot_calibration(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], path: Path, n_bins: int = 10
) -> Path:
    """Reliability diagram of the top prediction over equal-count bins, ``n`` shown per bin.

    Each point is one bin (mean confidence, accuracy) with its 95 % Wilson interval; the strip
    under it gives each bin's count n; the lower panel is the distribution of confidence (all
    reports, 20 fixed-width bars).
    """
    bins = calibration_bins(y_true, proba, classes, n_bins=n_bins)
    conf = np.asarray(proba, dtype=float).max(axis=1) if len(y_true) else np.zeros(0)
    fig, (ax, ax_n, ax2) = plt.subplots(
        3, 1, figsize=(6, 6.8), gridspec_kw={"height_ratios": [3, 0.36, 1]}, sharex=True
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    if bins:
        x = np.array([b["confidence"] for b in bins])
        acc = np.array([b["accuracy"] for b in bins])
        n = np.array([b["n"] for b in bins])
        lo, hi = _wilson(acc, n)  # rounding can put acc a hair outside its interval at 0 or 1
        ax.errorbar(
            x, acc, yerr=np.clip([acc - lo, hi - acc], 0, None), fmt="o-", color="tab:blue", ecolor="tab:blue",
            elinewidth=1, capsize=3, label="model (95 % interval)",
        )  # fmt: skip
        last = [-1.0, -1.0]  # x of the last label in each of the strip's two rows
        for b, xi in zip(bins, x, strict=True):
            # n of each bin in a strip of its own under the point, in the upper row or, where
            # bins crowd, the lower one; only when both would overlap is it left out (the title
            # gives the counts)
            row = next((r for r in (0, 1) if xi - last[r] >= 0.035), None)
            if row is None:
                continue
            ax_n.text(xi, 0.72 - 0.44 * row, str(int(b["n"])), ha="center", va="center", fontsize=7)
            last[row] = xi
    total = int(sum(b["n"] for b in bins))
    counts = sorted({int(b["n"]) for b in bins})
    each = (
        ""
        if not counts
        else f" of {counts[0]}"
        if len(counts) == 1
        else f" of {counts[0]}–{counts[-1]}"
    )
    ax.set_ylabel("accuracy of the top prediction")
    ax.set_ylim(-0.02, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(
        f"Reliability diagram: {len(bins)} equal-count bin{'s' * (len(bins) != 1)}{each} "
        f"({total} reports)",
        fontsize=10,
    )
    ax_n.set_ylim(0, 1)
    ax_n.set_yticks([])
    ax_n.tick_params(axis="x", length=0)
    ax_n.set_ylabel("n", rotation=0, ha="right", va="center")
    for side in ("top", "right", "left"):
        ax_n.spines[side].set_visible(False)
    ax2.hist(conf, bins=20, range=(0, 1), color="tab:grey")
    ax2.set_xlabel("confidence (top probability)")
    ax2.set_ylabel("reports")
    ax2.set_xlim(0, 1.02)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _wilson(p: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson score interval of a proportion ``p`` over ``n`` trials (the textbook formula)."""
    n = np.maximum(n, 1)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def plot_coverage(
    curve: Sequence[dict[str, float]], path: Path, abstain_threshold: float | None = None
) -> Path:
    """Coverage and accuracy on covered reports as the abstain threshold grows.

    ``abstain_threshold`` (the model's own) is marked with a vertical line and the coverage and
    accuracy the model has there.
    """
    t = [r["threshold"] for r in curve]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(t, [r["coverage"] for r in curve], "o-", ms=4, label="coverage (answered share)")
    ax.plot(t, [r["accuracy"] for r in curve], "s-", ms=4, label="accuracy on answered")
    if abstain_threshold is not None:
        ax.axvline(abstain_threshold, color="tab:red", ls="--", lw=1.2)
        at = _at_threshold(curve, abstain_threshold)
        note = f"abstain threshold {abstain_threshold:.2f}"
        if at is not None:
            note += f"\ncoverage {at['coverage']:.0%}, accuracy {_pct(at['accuracy'])}"
        right = abstain_threshold > 0.6
        ax.annotate(
            note, (abstain_threshold, 0.06), xytext=(-6 if right else 6, 0),
            textcoords="offset points", ha="right" if right else "left", fontsize=8,
            color="tab:red", bbox={"boxstyle": "round", "fc": "white", "ec": "tab:red", "lw": 0.6},
        )  # fmt: skip
    ax.set_xlabel("abstain threshold (top probability)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left" if (abstain_threshold or 0) > 0.6 else "center right", fontsize=8)
    ax.set_title("Coverage vs accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pct(v: float) -> str:
    return "–" if v != v else f"{v:.0%}"  # NaN: nothing answered


def _at_threshold(curve: Sequence[dict[str, float]], threshold: float) -> dict[str, float] | None:
    """The curve's row at ``threshold`` (the nearest one not above it)."""
    rows = [r for r in curve if r["threshold"] <= threshold + 1e-9]
    return max(rows, key=lambda r: r["threshold"]) if rows else None


def img(path: Path) -> str:
    """An ``<img>`` with the PNG embedded, so the page is one self-contained file."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def html_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """An HTML table (floats with 3 decimals, NaN as "–")."""

    def cell(v: object) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return "–" if v != v else f"{v:.3f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PER_CLASS_COLUMNS = ["label", "precision", "recall", "f1", "support"]


def write_per_class(out: Path, rows: Sequence[dict]) -> dict[str, Path]:
    """``per_class.csv`` and ``per_class.md`` (label, precision, recall, F1, support)."""
    files = {"per_class_csv": out / "per_class.csv", "per_class_md": out / "per_class.md"}
    with files["per_class_csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PER_CLASS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    files["per_class_md"].write_text(markdown_table(rows, PER_CLASS_COLUMNS))
    return files


def write_html(path: Path, title: str, sections: Sequence[tuple[str, str]]) -> Path:
    """One self-contained HTML page: ``sections`` are ``(heading, html)`` pairs."""
    heading = html.escape(title)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{heading}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{heading}</h1>",
    ]
    for name, body in sections:
        parts += [f"<h2>{html.escape(name)}</h2>", body]
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path


def write_evaluation_report(
    out_dir: str | Path,
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    task: str,
    title: str = "",
    top_n: int = 20,
    abstain_threshold: float | None = None,
) -> dict[str, Path]:
    """Write the report files into ``out_dir``; returns ``{name: path}``.

    ``abstain_threshold`` (agency models) is marked on ``coverage.png`` and in the HTML summary.
    """
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
    files.update(write_per_class(out, rows))

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
        thresholds = [round(float(t), 2) for t in np.linspace(0.0, 0.95, 20)]
        if abstain_threshold is not None:
            thresholds = sorted({*thresholds, float(abstain_threshold)})
        curve = coverage_curve(y_true, proba, classes, thresholds)
        files["coverage"] = plot_coverage(curve, out / "coverage.png", abstain_threshold)
        files["coverage_csv"] = out / "coverage.csv"
        with files["coverage_csv"].open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)

    summary_keys = ["n", "accuracy", "macro_f1", "weighted_f1"] + [
        k for k in metrics if k.startswith("top") or k == "ece"
    ]
    summary = [{"metric": k, "value": float(metrics[k])} for k in summary_keys if k in metrics]
    if curve is not None and abstain_threshold is not None:
        at = _at_threshold(curve, abstain_threshold)
        summary.append({"metric": "abstain_threshold", "value": float(abstain_threshold)})
        if at is not None:
            summary.append({"metric": "coverage at the threshold", "value": at["coverage"]})
            summary.append({"metric": "accuracy on answered", "value": at["accuracy"]})
    sections = [
        ("Summary", html_table(summary, ["metric", "value"])),
        ("Per class", html_table(rows, columns)),
        ("Confusion matrix", img(files["confusion_matrix"])),
        ("Calibration", img(files["calibration"])),
    ]
    if curve is not None:
        sections.append(
            (
                "Coverage vs accuracy (abstain threshold)",
                img(files["coverage"])
                + html_table(curve, ["threshold", "coverage", "accuracy", "n_covered"]),
            )
        )
    files["html"] = write_html(out / "report.html", title or f"Evaluation report: {task}", sections)
    return files
