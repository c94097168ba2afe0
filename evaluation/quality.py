"""Quality on the real data: ONE time split of the default models vs a plain baseline.

The figures of record come from the evaluation protocol (``python -m
lapor_triage.evaluation.protocol``: repeated grouped K-fold and a rolling time split, inner-fold
tuning, bootstrap intervals, the same baseline). This single split stays as a quick look and for
the slow quality-floor tests.

    python -m lapor_triage.evaluation.quality [--data-dir ../shared/data] [--output reports/quality]
                                 [--only report-type agency-surabaya agency-kab-bandung]

For each evaluation the examples are loaded with ``training.data.load_dataset``, deduplicated
(``training.splits.dedupe``) and split by time (``training.splits.time_split``: train on the
earliest 85%, test on the latest 15%). Nothing of the test part is used for fitting or tuning:
the default models tune their decision rules on out-of-fold predictions of the training part.

The baseline is the protocol's: plain word TF-IDF (1-2 grams) + LinearSVC with
``class_weight="balanced"``, without character n-grams, cues, location or calibration. The script prints a Markdown table and writes
``quality.md``, ``quality.json`` and one evaluation report per split (default model) to ``--output``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lapor_triage.evaluation.protocol import (  # one baseline and one set of files for every table
    DEFAULT_DATA_DIR,
    KAB_BANDUNG,
    SAMARINDA,
    SURABAYA,
    PlainBaseline,
)
from lapor_triage.paths import home
from lapor_triage.training.metrics import classification_metrics


@dataclass(frozen=True)
class Evaluation:
    name: str
    task: str
    files: tuple[str, ...]
    targets: dict[str, float] = field(default_factory=dict)


EVALUATIONS = (
    Evaluation(
        "report-type",
        "report-type",
        (KAB_BANDUNG, SAMARINDA),
        {"macro_f1": 0.65, "f1/aspirasi": 0.50, "f1/permintaan_informasi": 0.50},
    ),
    Evaluation(
        "agency-surabaya", "agency", (SURABAYA,), {"top1_accuracy": 0.78, "top3_accuracy": 0.90}
    ),
    Evaluation(
        "agency-kab-bandung",
        "agency",
        (KAB_BANDUNG,),
        {"top1_accuracy": 0.70, "top3_accuracy": 0.88},
    ),
)
EVALUATIONS_BY_NAME = {e.name: e for e in EVALUATIONS}


def default_model(task: str) -> Any:
    """The project's default predictor for ``task`` (default hyperparameters)."""
    if task == "report-type":
        from lapor_triage.models.report_type import ReportTypeClassifier

        return ReportTypeClassifier()
    from lapor_triage.models.agency import AgencyRouter

    return AgencyRouter()


def load_split(evaluation: Evaluation, data_dir: Path, test_size: float = 0.15) -> tuple:
    """``(train_examples, test_examples, split_description)`` for one evaluation."""
    from lapor_triage.training.data import load_dataset
    from lapor_triage.training.splits import dedupe, time_split

    paths = [data_dir / f for f in evaluation.files]
    loaded = load_dataset(paths, evaluation.task)
    examples = [e for e in loaded.examples if e.label]
    examples, n_dup = dedupe(examples)[:2]
    split = time_split(examples, test_size=test_size)
    note = f"{len(examples)} examples after removing {n_dup} duplicates; {split.describe()}"
    return split.train, split.test, note


def record_of(example: Any) -> dict[str, Any]:
    """The predictor input: text and metadata, plus the date (used for recency weighting)."""
    return {**example.as_record(), "date": example.date}


def run_evaluation(
    evaluation: Evaluation,
    data_dir: Path,
    output: Path | None = None,
    models: dict[str, Callable[[], Any]] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit every model on the training part and score it on the test part."""
    train, test, note = load_split(evaluation, data_dir)
    log(f"[{evaluation.name}] {note}")
    X_train = [record_of(e) for e in train]
    y_train = [str(e.label) for e in train]
    X_test = [record_of(e) for e in test]
    y_test = [str(e.label) for e in test]
    models = models or {
        "baseline": PlainBaseline,
        "default": lambda: default_model(evaluation.task),
    }
    result: dict[str, Any] = {
        "evaluation": evaluation.name,
        "task": evaluation.task,
        "files": list(evaluation.files),
        "split": note,
        "n_train": len(train),
        "n_test": len(test),
        "test_label_counts": dict(Counter(y_test).most_common()),
        "targets": evaluation.targets,
        "models": {},
    }
    for name, make in models.items():
        started = time.perf_counter()
        model = make().fit(X_train, y_train)
        fit_s = time.perf_counter() - started
        proba = model.predict_proba(X_test)
        classes = [str(c) for c in model.classes_]
        metrics = classification_metrics(y_test, proba, classes)
        metrics["fit_seconds"] = fit_s
        if evaluation.task == "report-type":  # per-source scores: offices label differently
            for source in sorted({e.source for e in test}):
                idx = [i for i, e in enumerate(test) if e.source == source]
                sub = classification_metrics([y_test[i] for i in idx], proba[idx], classes)
                for key in ("macro_f1", "f1/pengaduan", "f1/aspirasi", "f1/permintaan_informasi"):
                    if key in sub:
                        metrics[f"{source}/{key}"] = sub[key]
        result["models"][name] = metrics
        log(
            f"[{evaluation.name}] {name}: fit {fit_s:.1f}s, macro-F1 {metrics['macro_f1']:.3f}, "
            f"top-1 {metrics['top1_accuracy']:.3f}, top-3 {metrics['top3_accuracy']:.3f}"
        )
        if output is not None and name == "default":
            from lapor_triage.training.report import write_evaluation_report

            write_evaluation_report(
                output / evaluation.name,
                y_test,
                proba,
                classes,
                evaluation.task,
                title=f"{evaluation.name}: default model on the latest 15% (time split)",
            )
    return result


def markdown_summary(results: Sequence[dict[str, Any]]) -> str:
    """One table row per evaluation and model, with the targets beside."""
    lines = [
        "| evaluation | model | n train / test | macro-F1 | per-class F1 (type) | top-1 | top-3 | fit s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for name, m in res["models"].items():
            per_class = ""
            if res["task"] == "report-type":
                per_class = ", ".join(
                    f"{lab} {m.get(f'f1/{lab}', 0.0):.2f}"
                    for lab in ("pengaduan", "aspirasi", "permintaan_informasi")
                )
            lines.append(
                f"| {res['evaluation']} | {name} | {res['n_train']} / {res['n_test']} "
                f"| {m['macro_f1']:.3f} | {per_class} | {m['top1_accuracy']:.3f} "
                f"| {m['top3_accuracy']:.3f} | {m['fit_seconds']:.1f} |"
            )
    lines.append("")
    lines.append("Targets (default model):")
    for res in results:
        m = res["models"].get("default")
        if not m:
            continue
        for key, target in res["targets"].items():
            value = m.get(key, 0.0)
            verdict = "met" if value >= target else f"missed by {target - value:.3f}"
            lines.append(f"- {res['evaluation']} {key}: {value:.3f} (target ≥ {target}) {verdict}")
    per_source = [
        (res, name, m)
        for res in results
        if res["task"] == "report-type"
        for name, m in res["models"].items()
    ]
    if per_source:
        lines.append("")
        lines.append("Report type per source (test part):")
        for _res, name, m in per_source:
            keys = sorted(k for k in m if "/" in k and k.split("/")[0].endswith((".xlsx", ".csv")))
            lines.append(f"- {name}: " + ", ".join(f"{k} {m[k]:.2f}" for k in keys))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lapor_triage.evaluation.quality", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=home() / "reports" / "quality")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(EVALUATIONS_BY_NAME), help="run these evaluations only"
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir
    if not data_dir.is_dir():
        print(f"real data folder {data_dir} is absent: nothing to evaluate", file=sys.stderr)
        return 0
    chosen = [EVALUATIONS_BY_NAME[n] for n in args.only] if args.only else list(EVALUATIONS)
    missing = [f for e in chosen for f in e.files if not (data_dir / f).is_file()]
    if missing:
        print(
            f"missing data files in {data_dir}: {', '.join(sorted(set(missing)))}", file=sys.stderr
        )
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    results = []
    for evaluation in chosen:
        results.append(run_evaluation(evaluation, data_dir, args.output))
    table = markdown_summary(results)
    print()
    print(table)
    (args.output / "quality.md").write_text(table)
    (args.output / "quality.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
