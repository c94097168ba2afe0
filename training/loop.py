"""The training loop shared by all tasks: load → dedupe → split → fit → evaluate → save → track."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from lapor_triage.models.base import Predictor
from lapor_triage.registry_client import (  # noqa: F401
    DEFAULT_PRIMARY,
    TRAINING_INFO_FILE,
    read_training_info,
)
from lapor_triage.training.config import TrainConfig
from lapor_triage.training.fingerprint import data_fingerprint
from lapor_triage.training.records import DataError, Example, LoadResult, LoadSummary

log = logging.getLogger(__name__)
PRIMARY_METRIC = DEFAULT_PRIMARY  # one table: the registry client reads it for untagged versions


@dataclass
class TrainResult:
    config: TrainConfig
    predictor: Predictor
    model_dir: Path
    metrics: dict[str, float]
    primary_metric: str
    report_files: dict[str, Path]
    data_summary: LoadSummary
    data_fingerprint: dict[str, Any]
    eval_records: list[dict[str, Any]] = field(default_factory=list)
    eval_labels: list[str] = field(default_factory=list)
    split_kind: str = ""
    seconds: float = 0.0
    tracking: Any = None  # what training.tracking.log_training_run returned


def make_predictor(task: str, params: dict[str, Any] | None = None) -> Predictor:
    """A fresh, unfitted predictor for ``task`` with the given hyperparameters."""
    params = dict(params or {})
    class_name = params.pop("class", None)
    if class_name:  # e.g. --param class=HybridAgencyRouter --param encoder=usem3
        from lapor_triage.models import base

        base._import_known_predictors()
        cls = base._REGISTRY.get(str(class_name))
        if cls is None or cls.task != task:
            known = sorted(n for n, c in base._REGISTRY.items() if c.task == task)
            raise ValueError(
                f"model class {class_name!r} is not a {task} predictor; choose from {known}"
            )
        return cls(**params)
    if task == "report-type":
        from lapor_triage.models.report_type import ReportTypeClassifier

        return ReportTypeClassifier(**params)
    if task == "agency":
        from lapor_triage.models.agency import AgencyRouter

        return AgencyRouter(**params)
    if task == "reply-quality":
        from lapor_triage.models.reply_quality import ReplyQualityScorer

        return ReplyQualityScorer(**params)
    if task == "disposition":
        from lapor_triage.models.disposition import DispositionModel

        return DispositionModel(**params)
    raise ValueError(f"unknown task {task!r}")


def load_task_data(
    task: str,
    paths: list[Path],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    date_column: str | None = None,
    strict: bool = False,
    feedback_weight: float = 1.0,
) -> LoadResult:
    """Load labelled examples for ``task`` from one or more files."""
    if task == "reply-quality":
        from lapor_triage.training.reply_data import load_replies

        return load_replies(paths, strict=strict)
    if task == "disposition":  # posts and regional files, plus Admin Pusat's decisions
        from lapor_triage.training.disposition_feedback import load_disposition_with_feedback

        return load_disposition_with_feedback(paths, feedback_weight)
    from lapor_triage.training.data import load_dataset

    return load_dataset(
        paths,
        task,
        text_column=text_column,
        label_column=label_column,
        date_column=date_column,
        strict=strict,
        feedback_weight=feedback_weight,
    )


def task_record(task: str, ex: Example) -> dict[str, Any]:
    """The predictor input for one example."""
    if task == "reply-quality":
        return {
            "id": ex.id,
            "report_text": ex.meta.get("report_text", ""),
            "reply_text": ex.meta.get("reply_text", ex.text),
            "agency": ex.meta.get("agency"),
            # labelled reason codes: ReplyQualityScorer.fit learns reasons and relevance from them
            "reasons": list(ex.meta.get("reasons") or []),
        }
    record = ex.as_record()
    if ex.date:
        record.setdefault("date", ex.date)
    return record


def split_examples(
    examples: list[Example], config: TrainConfig
) -> tuple[list[Example], list[Example], str]:
    """Split into (train, eval, kind) as the config asks."""
    from lapor_triage.training import splits

    kind = config.split
    if kind == "none":
        return examples, [], "none"
    if kind == "auto":
        if config.task == "reply-quality":
            kind = "group"
        elif sum(1 for e in examples if e.date) >= 0.8 * len(examples):
            kind = "time"
        else:
            kind = "random"
    if kind == "time":
        train, test = splits.time_split(examples, test_size=config.test_size)[:2]
    elif kind == "group":
        groups = [str(e.meta.get("report_id") or e.id) for e in examples]
        train, test = splits.group_split(
            examples, groups, test_size=config.test_size, seed=config.seed
        )[:2]
    else:
        train, test = splits.random_split(examples, test_size=config.test_size, seed=config.seed)[
            :2
        ]
    return list(train), list(test), kind


def evaluate_predictor(
    predictor: Predictor,
    records: list[dict[str, Any]],
    labels: list[str],
    report_dir: Path | None,
    *,
    title: str = "",
    examples: list[Example] | None = None,
) -> tuple[dict[str, float], dict[str, Path]]:
    """Score ``predictor`` on labelled records; write the report when ``report_dir`` is given."""
    classes = [str(c) for c in predictor.classes_]
    proba = predictor.predict_proba(records)
    if predictor.task == "reply-quality":
        from lapor_triage.training import reply_metrics

        y_pred = [classes[i] for i in proba.argmax(axis=1)]
        reasons_true = [e.meta.get("reasons") for e in examples] if examples else None
        metrics = reply_metrics.reply_metrics(
            labels, y_pred, proba, records, reasons_true=reasons_true
        )
        files: dict[str, Path] = {}
        if report_dir is not None:
            files = reply_metrics.write_reply_report(
                report_dir, labels, y_pred, proba, records, reasons_true=reasons_true
            )
        return metrics, files
    from lapor_triage.training.metrics import classification_metrics
    from lapor_triage.training.report import write_evaluation_report

    metrics = classification_metrics(labels, proba, classes)
    files = {}
    if report_dir is not None:
        files = write_evaluation_report(
            report_dir,
            labels,
            proba,
            classes,
            predictor.task,
            title=title,
            abstain_threshold=getattr(predictor, "abstain_threshold", None),
        )
    return metrics, files


def held_out_metrics(
    predictor: Predictor,
    task: str,
    split_metrics: dict[str, float],
    refit: bool,
    test: list[Example],
    gate: list[Example],
    eval_records: list[dict[str, Any]],
    eval_labels: list[str],
) -> tuple[dict[str, float], list[dict[str, Any]], list[str]]:
    """The metrics and evaluation rows a run logs: only rows the *saved* model was not fitted on.

    Without a refit, the split's evaluation metrics, plus ``gate/<metric>``. After ``refit_full``
    the split model's metrics describe another model fitted on fewer rows, and the refit model has
    seen the evaluation part: the logged metrics are then those of the gate part (also as
    ``gate/<metric>``), and no metric at all when there is no gate. The logged evaluation split
    (what ``promote`` compares on) is the gate part whenever there is one.
    """
    metrics = {} if refit else dict(split_metrics)
    if gate:
        gate_records = [task_record(task, e) for e in gate]
        gate_labels = [str(e.label) for e in gate]
        gate_metrics, _ = evaluate_predictor(
            predictor, gate_records, gate_labels, None, examples=gate
        )
        for k, v in gate_metrics.items():
            metrics[f"gate/{k}"] = v
            if refit:
                metrics[k] = v
        return metrics, gate_records, gate_labels
    if refit:
        return metrics, [], []
    return metrics, eval_records, eval_labels


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def run_training(config: TrainConfig, console: Console | None = None) -> TrainResult:
    """Train, evaluate, save and (optionally) track one model as ``config`` says."""
    console = console or Console(stderr=True)
    seed_everything(config.seed)
    started = time.perf_counter()
    task = config.task

    with console.status(f"[bold]loading {len(config.data)} file(s) for {task}…"):
        loaded = load_task_data(
            task,
            list(config.data),
            text_column=config.text_column,
            label_column=config.label_column,
            date_column=config.date_column,
            strict=config.strict,
            feedback_weight=config.feedback_weight,
        )
    console.print(loaded.summary.render())
    examples = [e for e in loaded.examples if e.label]
    n_dup = 0
    if config.dedupe:
        from lapor_triage.training.splits import dedupe

        key = None
        if task == "reply-quality":
            from lapor_triage.training.splits import text_key

            def key(e: Example) -> str:
                return text_key(str(e.meta.get("report_text", ""))) + "\x00" + text_key(e.text)

        examples, n_dup = dedupe(examples, key=key)[:2]
        if n_dup:
            console.print(f"removed {n_dup} duplicate texts before splitting")
    if len({e.label for e in examples}) < 2:
        raise DataError(
            f"need at least 2 different labels to train {task}, found "
            f"{sorted({str(e.label) for e in examples})} in {len(examples)} usable rows",
            file=", ".join(str(p) for p in config.data),
        )

    # The gate part (a stable hash of the report id) is never trained on, refit_full included:
    # promotion compares champion and candidate on it.
    from lapor_triage.training.splits import gate_split

    examples, gate = gate_split(examples, config.gate_fraction)[:2]
    if gate:
        console.print(
            f"gate part: {len(gate)} rows kept out of training (promotion compares on them)"
        )
    train, test, split_kind = split_examples(examples, config)
    console.print(f"split ({split_kind}): {len(train)} train / {len(test)} evaluation rows")
    if not test and split_kind != "none":
        # Never a model trained (and registered) without a measurement, unless asked for.
        raise DataError(
            f"the {split_kind} split of {len(examples)} usable rows left 0 evaluation rows "
            f"(test_size {config.test_size}): add labelled rows, or pass --split none to train "
            "without evaluation",
            file=", ".join(str(p) for p in config.data),
        )

    predictor = make_predictor(task, config.model)
    with console.status(f"[bold]fitting {type(predictor).__name__} on {len(train)} rows…"):
        predictor.fit(
            [task_record(task, e) for e in train],
            [str(e.label) for e in train],
            sample_weight=[e.weight for e in train],
        )

    metrics: dict[str, float] = {}
    report_files: dict[str, Path] = {}
    eval_records = [task_record(task, e) for e in test]
    eval_labels = [str(e.label) for e in test]
    if test:
        with console.status(f"[bold]evaluating on {len(test)} rows…"):
            metrics, report_files = evaluate_predictor(
                predictor,
                eval_records,
                eval_labels,
                config.resolved_report_dir,
                title=f"{task} — {split_kind} split, {len(test)} evaluation rows",
                examples=test,
            )
    refit = bool(config.refit_full and test)
    if refit:
        with console.status(f"[bold]refitting on all {len(examples)} rows but the gate…"):
            predictor = make_predictor(task, config.model).fit(
                [task_record(task, e) for e in examples],
                [str(e.label) for e in examples],
                sample_weight=[e.weight for e in examples],
            )
    metrics, eval_records, eval_labels = held_out_metrics(
        predictor, task, metrics, refit, test, gate, eval_records, eval_labels
    )

    fingerprint = data_fingerprint(
        list(config.data), loaded.summary, n_train=len(train), n_eval=len(test), n_duplicates=n_dup
    )
    model_dir = predictor.save(config.output)
    primary = PRIMARY_METRIC[task]
    info = {
        "task": task,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "split": split_kind,
        "primary_metric": primary,
        "metrics": metrics,
        "config": config.model_dump(mode="json"),
        "data": fingerprint,
    }
    (model_dir / TRAINING_INFO_FILE).write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    )

    result = TrainResult(
        config=config,
        predictor=predictor,
        model_dir=model_dir,
        metrics=metrics,
        primary_metric=primary,
        report_files=report_files,
        data_summary=loaded.summary,
        data_fingerprint=fingerprint,
        eval_records=eval_records,
        eval_labels=eval_labels,
        split_kind=split_kind,
    )
    if config.track:
        from lapor_triage.training.tracking import log_training_run

        with console.status("[bold]logging the run to MLflow…"):
            result.tracking = log_training_run(config, result)
    result.seconds = time.perf_counter() - started
    return result
