"""The evaluation protocol: every quality figure and every modelling decision comes from here.

    python -m lapor_triage.evaluation.protocol [--data-dir ../shared/data] [--output reports/quality]
                                               [--quick] [--only report-type agency-kab-bandung ...]
                                               [--folds 5] [--repeats 2] [--no-time] [--variants]

What it does, per evaluation (report type; agency Surabaya; agency Kab. Bandung; reply quality):

1. **Rows.** The labelled examples as ``lapor-triage train`` loads them; repeated texts removed
   (``training.splits.dedupe``) and near-duplicates (same first 200 normalised characters; for
   replies: the same report) kept in one fold by grouping.
2. **Repeated stratified grouped K-fold** (``sklearn.model_selection.StratifiedGroupKFold``,
   ``--folds`` × ``--repeats``, a new shuffle per repeat) and, where rows are dated, a **rolling
   time split** (three windows: train on everything before each of the latest three tenths, test
   on that tenth).
3. **Models, on the same folds in the same run:** the plain baseline (word TF-IDF 1–2-grams +
   LinearSVC, ``class_weight="balanced"``), the project's default model, and optional variants
   (``--variants``: e.g. the agency router without the office catalogue). A model with a
   ``grid`` chooses its hyper-parameters on an **inner** grouped stratified holdout of each outer
   training part; the outer test part is never seen while choosing.
4. **Figures with 95 % intervals:** a row bootstrap (1,000 resamples of the pooled out-of-fold
   predictions; with repeats, the metric is averaged over repeats inside each resample), per class
   and per source (``penerima``), and a *paired* bootstrap of the difference to the baseline.
5. **Challenge sets** (reply quality): every ``datasets/challenge*/**/*.jsonl`` is scored by the
   models fitted on all reply rows; they are never trained or tuned on.

Writes ``protocol.md``, ``protocol.csv``, ``protocol.json`` and one PNG per evaluation to
``--output`` (default ``reports/quality/``). ``--quick`` runs 3 folds × 1 repeat and the last
time window only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax

from lapor_triage.paths import datasets_dir, home, shared_data_dir

# The folder holding datasets/ (the source checkout, or the installed lapor_triage package).
ROOT = datasets_dir().parent
DEFAULT_DATA_DIR = shared_data_dir()
CHALLENGE_GLOB = "datasets/challenge*/**/*.jsonl"

KAB_BANDUNG = "lapor_export_kab_bandung_2021_2024.xlsx"
SAMARINDA = "lapor_export_kota_samarinda_2024.csv"
SURABAYA = "surabaya_media_center_2022_2023.csv"
REPLIES = "replies"

N_BOOTSTRAP = 1000


# --- the plain baseline ---------------------------------------------------------------------------
class PlainBaseline:
    """Word TF-IDF (1-2 grams) + LinearSVC(class_weight="balanced"): the yardstick of every table.

    Softmax of the margins serves ranking (top-k) only. For reply pairs it reads the reply text.
    """

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.model = LinearSVC(class_weight="balanced")

    @staticmethod
    def _texts(records: Sequence[dict[str, Any]]) -> list[str]:
        return [str(r.get("reply_text") or r.get("text") or "") for r in records]

    def fit(
        self,
        records: Sequence[dict[str, Any]],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> PlainBaseline:
        X = self.vectorizer.fit_transform(self._texts(records))
        self.model.fit(X, [str(v) for v in y])
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        d = self.model.decision_function(self.vectorizer.transform(self._texts(records)))
        if d.ndim == 1:
            d = np.column_stack([-d, d])
        return softmax(d, axis=1)


# --- what is evaluated ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """A model of the table: fixed ``params`` or, with ``grid``, params chosen on inner folds."""

    name: str
    params: dict[str, Any] | None = None  # None: the plain baseline
    grid: tuple[dict[str, Any], ...] = ()
    variant: bool = False  # only with --variants


@dataclass(frozen=True)
class Evaluation:
    name: str
    task: str
    files: tuple[str, ...]
    primary: str
    targets: dict[str, float] = field(default_factory=dict)
    models: tuple[ModelSpec, ...] = ()
    per_source: bool = False


BASELINE = ModelSpec("baseline")
DEFAULT = ModelSpec("default", {})


def _agency_models(what: str, param: str, values: tuple[float, ...]) -> tuple[ModelSpec, ...]:
    """The agency router's table: baseline, default, without the office catalogue, and with
    ``param`` chosen among ``values`` on inner folds."""
    return (
        BASELINE,
        DEFAULT,
        ModelSpec("default without catalogue", {"catalogue": False}, variant=True),
        ModelSpec(
            f"default, {what} chosen on inner folds",
            {},
            grid=tuple({param: v} for v in values),
            variant=True,
        ),
    )


EVALUATIONS = (
    Evaluation(
        "report-type",
        "report-type",
        (KAB_BANDUNG, SAMARINDA),
        "macro_f1",
        {"macro_f1": 0.60, "f1/aspirasi": 0.40, "f1/permintaan_informasi": 0.40},
        (
            BASELINE,
            DEFAULT,
            ModelSpec(
                "default, C chosen on inner folds",
                {},
                grid=({"C": 0.1}, {"C": 0.3}, {"C": 1.0}),
                variant=True,
            ),
            ModelSpec("default without penerima", {"fields": ()}, variant=True),
        ),
        per_source=True,
    ),
    Evaluation(
        "agency-surabaya",
        "agency",
        (SURABAYA,),
        "top1_accuracy",
        {"top1_accuracy": 0.78, "top3_accuracy": 0.91},
        _agency_models("location weight", "location_weight", (0.15, 0.5)),
    ),
    Evaluation(
        "agency-kab-bandung",
        "agency",
        (KAB_BANDUNG,),
        "top1_accuracy",
        {"top1_accuracy": 0.70, "top3_accuracy": 0.87},
        _agency_models("C", "C", (0.2, 0.5, 1.0)),
    ),
    Evaluation(
        "reply-quality",
        "reply-quality",
        (REPLIES,),
        "macro_f1",
        {"macro_f1": 0.96, "challenge/macro_f1": 0.80},
        (
            BASELINE,
            DEFAULT,
            ModelSpec(
                "default + new-information signals, echo masking, place relevance",
                {"novelty": True, "echo_mask": True, "place_relevance": True},
                variant=True,
            ),
        ),
    ),
)
EVALUATIONS_BY_NAME = {e.name: e for e in EVALUATIONS}


# --- data -----------------------------------------------------------------------------------------
def load_examples(evaluation: Evaluation, data_dir: Path) -> tuple[list[Any], list[str], str]:
    """``(examples, groups, note)``: deduplicated labelled examples and their fold groups."""
    from lapor_triage.training.loop import load_task_data
    from lapor_triage.training.splits import dedupe, text_key

    if evaluation.task == "reply-quality":
        paths = sorted((data_dir / REPLIES).glob("*.jsonl"))
        if not paths:
            raise FileNotFoundError(f"no reply files (*.jsonl) in {data_dir / REPLIES}")
    else:
        paths = [data_dir / f for f in evaluation.files]
    loaded = load_task_data(evaluation.task, paths)
    examples = [e for e in loaded.examples if e.label]
    if evaluation.task == "reply-quality":

        def key(e: Any) -> str:
            return text_key(str(e.meta.get("report_text", ""))) + "\x00" + text_key(e.text)

        examples, n_dup = dedupe(examples, key=key)
        groups = [
            f"{e.meta.get('report_source')}|{e.meta.get('report_id') or e.id}" for e in examples
        ]
        groups = [
            g + "|" + text_key(str(e.meta.get("report_text", "")))[:200]
            for g, e in zip(groups, examples, strict=True)
        ]
    else:
        examples, n_dup = dedupe(examples)
        groups = [text_key(e.text)[:200] for e in examples]
    note = (
        f"{len(examples)} labelled rows after removing {n_dup} duplicates; "
        f"{len(set(groups))} groups"
    )
    return examples, groups, note


def record_of(task: str, example: Any) -> dict[str, Any]:
    from lapor_triage.training.loop import task_record

    record = task_record(task, example)
    if task == "reply-quality":
        record.pop("reasons", None)  # never handed to a model at prediction time
    return record


def train_record(task: str, example: Any) -> dict[str, Any]:
    from lapor_triage.training.loop import task_record

    return task_record(task, example)


# --- folds ----------------------------------------------------------------------------------------
def grouped_folds(
    labels: Sequence[str], groups: Sequence[str], n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold that keeps every group in one fold (``StratifiedGroupKFold``)."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray([str(v) for v in labels])
    counts = {lab: int((y == lab).sum()) for lab in set(y)}
    # a label rarer than the number of folds cannot be stratified: pool it for the split only
    strat = np.asarray([lab if counts[lab] >= n_splits else "__rare__" for lab in y])
    skf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(y)), strat, groups=list(groups))]


def time_windows(
    dates: Sequence[str | None], n_windows: int = 3, window: float = 0.1
) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Rolling time split: for each of the latest ``n_windows`` tenths of the dated rows, train on
    every earlier row and test on that tenth. Returns ``(train_idx, test_idx, description)``."""
    idx = np.array([i for i, d in enumerate(dates) if d])
    if len(idx) < 20:
        return []
    order = idx[np.argsort([str(dates[i]) for i in idx], kind="stable")]
    n = len(order)
    size = max(1, int(round(window * n)))
    out = []
    for w in range(n_windows, 0, -1):
        start, stop = n - w * size, n - (w - 1) * size
        test = order[start:stop]
        first = str(dates[test[0]])
        train = np.array([i for i in order[:start] if str(dates[i]) < first])
        test = np.array([i for i in test if str(dates[i]) >= first])
        if len(train) and len(test):
            out.append((train, test, f"{first}..{dates[test[-1]]}"))
    return out


# --- fitting --------------------------------------------------------------------------------------
def make_model(task: str, params: dict[str, Any] | None) -> Any:
    if params is None:
        return PlainBaseline()
    from lapor_triage.training.loop import make_predictor

    return make_predictor(task, dict(params))


def fit_predict(
    task: str,
    params: dict[str, Any] | None,
    train: Sequence[Any],
    test: Sequence[Any],
) -> tuple[np.ndarray, list[str]]:
    model = make_model(task, params).fit(
        [train_record(task, e) for e in train], [str(e.label) for e in train]
    )
    proba = model.predict_proba([record_of(task, e) for e in test])
    return np.asarray(proba), [str(c) for c in model.classes_]


def choose_on_inner_fold(
    evaluation: Evaluation,
    spec: ModelSpec,
    train: Sequence[Any],
    train_groups: Sequence[str],
    seed: int,
) -> tuple[dict[str, Any], list[float]]:
    """Pick ``spec.grid``'s best params on an inner grouped stratified holdout (a quarter) of the
    outer training part; returns ``(params, inner scores)``."""
    inner_tr, inner_te = grouped_folds([e.label for e in train], train_groups, 4, seed + 1000)[0]
    tr = [train[i] for i in inner_tr]
    te = [train[i] for i in inner_te]
    scores = []
    for candidate in spec.grid:
        params = {**(spec.params or {}), **candidate}
        proba, classes = fit_predict(evaluation.task, params, tr, te)
        scores.append(primary_value(evaluation.primary, [str(e.label) for e in te], proba, classes))
    best = int(np.argmax(scores))
    return {**(spec.params or {}), **spec.grid[best]}, scores


def primary_value(
    metric: str, y: Sequence[str], proba: np.ndarray, classes: Sequence[str]
) -> float:
    from lapor_triage.training.metrics import classification_metrics

    return float(classification_metrics(list(y), proba, classes)[metric])


# --- scoring with intervals -----------------------------------------------------------------------
@dataclass
class Predictions:
    """Out-of-fold predictions of one model: per repeat, the top-1 label and whether the true
    label is in the top 3 (one entry per row; -1 where a row was not tested in that repeat)."""

    labels: list[str]
    pred: np.ndarray  # (repeats, n) index into labels, -1 untested
    top3: np.ndarray  # (repeats, n) bool

    @classmethod
    def empty(cls, labels: list[str], repeats: int, n: int) -> Predictions:
        return cls(labels, np.full((repeats, n), -1), np.zeros((repeats, n), dtype=bool))

    def add(
        self,
        repeat: int,
        idx: np.ndarray,
        proba: np.ndarray,
        classes: Sequence[str],
        truth: Sequence[str],
    ) -> None:
        """Record the predictions of rows ``idx`` (``truth``: their true labels)."""
        lab_index = {lab: i for i, lab in enumerate(self.labels)}
        cols = np.array([lab_index.setdefault(str(c), len(lab_index)) for c in classes])
        self.labels[:] = list(lab_index)
        top = cols[np.argsort(-np.asarray(proba), axis=1, kind="stable")[:, :3]]
        true_idx = np.array([lab_index.get(str(t), -2) for t in truth])
        self.pred[repeat, idx] = top[:, 0]
        self.top3[repeat, idx] = (top == true_idx[:, None]).any(axis=1)


def _macro_f1(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, n_labels: int
) -> tuple[float, np.ndarray]:
    """Weighted macro-F1 over labels present in truth or predictions, and per-label F1."""
    tp = np.bincount(y[p == y], weights=w[p == y], minlength=n_labels)
    n_true = np.bincount(y, weights=w, minlength=n_labels)
    n_pred = np.bincount(p, weights=w, minlength=n_labels)
    denom = n_true + n_pred
    f1 = np.divide(2 * tp, denom, out=np.zeros(n_labels), where=denom > 0)
    present = denom > 0
    return (float(f1[present].mean()) if present.any() else 0.0), f1


def metric_samples(
    y_idx: np.ndarray,
    preds: Predictions,
    rows: np.ndarray,
    weights: np.ndarray,
    focus_labels: dict[int, str] | None = None,
) -> dict[str, float]:
    """macro_f1, top1/top3 accuracy and F1 of ``focus_labels`` on ``rows`` (bootstrap ``weights``),
    averaged over the repeats that tested those rows."""
    n_labels = max(len(preds.labels), int(y_idx.max()) + 1 if len(y_idx) else 1)
    vals: dict[str, list[float]] = defaultdict(list)
    for r in range(preds.pred.shape[0]):
        p = preds.pred[r, rows]
        ok = p >= 0
        if not ok.any():
            continue
        y, p, w = y_idx[rows][ok], p[ok], weights[ok]
        macro, f1 = _macro_f1(y, p, w, n_labels)
        total = w.sum() or 1.0
        vals["macro_f1"].append(macro)
        vals["top1_accuracy"].append(float(((p == y) * w).sum() / total))
        vals["top3_accuracy"].append(float((preds.top3[r, rows][ok] * w).sum() / total))
        for lab, name in (focus_labels or {}).items():
            vals[f"f1/{name}"].append(float(f1[lab]))
    return {k: float(np.mean(v)) for k, v in vals.items()}


def bootstrap_table(
    y: Sequence[str],
    models: dict[str, Predictions],
    rows: np.ndarray,
    focus: Sequence[str],
    baseline: str = "baseline",
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """``{model: {metric: (point, low, high)}}`` plus ``Δ <metric>`` entries (paired, vs baseline)."""
    labels = list(dict.fromkeys([lab for p in models.values() for lab in p.labels]))
    for p in models.values():  # one label index for all models
        remap = np.array([labels.index(lab) for lab in p.labels] + [-1])
        p.pred = np.where(p.pred >= 0, remap[p.pred], -1)
        p.labels = labels
    lab_index = {lab: i for i, lab in enumerate(labels)}
    y_idx = np.array([lab_index.get(str(v), len(labels)) for v in y])
    focus_idx = {lab_index[f]: f for f in focus if f in lab_index}
    rng = np.random.default_rng(seed)
    ones = np.ones(len(rows))
    points = {m: metric_samples(y_idx, p, rows, ones, focus_idx) for m, p in models.items()}
    samples: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in models}
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, len(rows), len(rows)), minlength=len(rows)).astype(float)
        per = {m: metric_samples(y_idx, p, rows, w, focus_idx) for m, p in models.items()}
        for m, vals in per.items():
            for k, v in vals.items():
                samples[m][k].append(v)
                if m != baseline and baseline in per and k in per[baseline]:
                    samples[m][f"Δ {k}"].append(v - per[baseline][k])
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for m in models:
        out[m] = {}
        for k, vals in samples[m].items():
            if k.startswith("Δ "):
                point = points[m][k[2:]] - points[baseline][k[2:]]
            else:
                point = points[m][k]
            lo, hi = np.percentile(vals, [2.5, 97.5])
            out[m][k] = (float(point), float(lo), float(hi))
    return out


# --- one evaluation -------------------------------------------------------------------------------
def run_evaluation(
    evaluation: Evaluation,
    data_dir: Path,
    *,
    folds: int = 5,
    repeats: int = 2,
    time_split: bool = True,
    n_windows: int = 3,
    variants: bool = False,
    log: Callable[[str], None] = print,
    n_boot: int = N_BOOTSTRAP,
    challenge_files: Sequence[Path] | None = None,
) -> dict[str, Any]:
    """Run the protocol for one evaluation; returns a JSON-ready result."""
    examples, groups, note = load_examples(evaluation, data_dir)
    log(f"[{evaluation.name}] {note}")
    specs = [s for s in evaluation.models if variants or not s.variant]
    y = [str(e.label) for e in examples]
    n = len(examples)
    label_list = sorted(set(y))
    focus = (
        ["pengaduan", "aspirasi", "permintaan_informasi"]
        if evaluation.task == "report-type"
        else (["normatif", "substantif"] if evaluation.task == "reply-quality" else [])
    )
    result: dict[str, Any] = {
        "evaluation": evaluation.name,
        "task": evaluation.task,
        "files": list(evaluation.files),
        "rows": note,
        "n": n,
        "label_counts": {lab: y.count(lab) for lab in label_list},
        "primary": evaluation.primary,
        "targets": evaluation.targets,
        "schemes": {},
        "chosen": defaultdict(list),
    }
    schemes: list[tuple[str, list[tuple[int, np.ndarray, np.ndarray]]]] = []
    kfold = []
    for r in range(repeats):
        for tr, te in grouped_folds(y, groups, folds, seed=r):
            kfold.append((r, tr, te))
    schemes.append((f"{folds}-fold × {repeats} (grouped, stratified)", kfold))
    dated = [e.date for e in examples]
    if time_split and sum(1 for d in dated if d) >= 0.8 * n:
        windows = time_windows(dated, n_windows=n_windows)
        if windows:
            schemes.append(
                (
                    "rolling time split (" + ", ".join(w[2] for w in windows) + ")",
                    [(0, tr, te) for tr, te, _ in windows],
                )
            )
    for scheme_name, splits in schemes:
        n_rep = 1 + max(r for r, _, _ in splits)
        preds = {s.name: Predictions.empty(list(label_list), n_rep, n) for s in specs}
        tested = np.zeros(n, dtype=bool)
        for k, (r, tr, te) in enumerate(splits, start=1):
            train = [examples[i] for i in tr]
            test = [examples[i] for i in te]
            tested[te] = True
            for spec in specs:
                started = time.perf_counter()
                params = spec.params
                if spec.grid:
                    params, inner = choose_on_inner_fold(
                        evaluation, spec, train, [groups[i] for i in tr], seed=k
                    )
                    result["chosen"][spec.name].append(
                        {"split": k, "params": params, "inner_scores": inner}
                    )
                proba, classes = fit_predict(evaluation.task, params, train, test)
                preds[spec.name].add(r, te, proba, classes, [y[i] for i in te])
                score = primary_value(evaluation.primary, [y[i] for i in te], proba, classes)
                log(
                    f"[{evaluation.name}] {scheme_name.split(' (')[0]} split {k}/{len(splits)}: "
                    f"{spec.name} {evaluation.primary} {score:.3f} "
                    f"({len(tr)} train / {len(te)} test, {time.perf_counter() - started:.0f}s)"
                )
        rows = np.flatnonzero(tested)
        table = bootstrap_table(y, preds, rows, focus, n_boot=n_boot)
        per_source: dict[str, Any] = {}
        if evaluation.per_source:
            sources = [str(e.meta.get("penerima") or e.source) for e in examples]
            for src in sorted(set(sources)):
                src_rows = np.array([i for i in rows if sources[i] == src])
                if len(src_rows) >= 20:
                    per_source[src] = {
                        "n": len(src_rows),
                        "labels": {
                            lab: int(sum(1 for i in src_rows if y[i] == lab)) for lab in label_list
                        },
                        "metrics": bootstrap_table(y, preds, src_rows, focus, n_boot=n_boot // 2),
                    }
        result["schemes"][scheme_name] = {
            "n_tested": int(len(rows)),
            "metrics": table,
            "per_source": per_source,
        }
    if evaluation.task == "reply-quality":
        result["challenge"] = score_challenge_sets(
            evaluation, examples, specs, challenge_files, log=log, n_boot=n_boot
        )
    result["chosen"] = dict(result["chosen"])
    return result


def challenge_paths(root: Path = ROOT) -> list[Path]:
    """Every challenge set: ``datasets/challenge*/**/*.jsonl`` (blind sets included as they appear)."""
    return sorted(p for p in root.glob(CHALLENGE_GLOB) if p.is_file())


def score_challenge_sets(
    evaluation: Evaluation,
    examples: Sequence[Any],
    specs: Sequence[ModelSpec],
    paths: Sequence[Path] | None,
    *,
    log: Callable[[str], None] = print,
    n_boot: int = N_BOOTSTRAP,
) -> dict[str, Any]:
    """Fit each model on every reply row and score every challenge file (never trained on)."""
    from lapor_triage.training.reply_data import load_replies

    paths = list(paths) if paths is not None else challenge_paths()
    if not paths:
        return {}
    fitted = {}
    for spec in specs:
        if spec.grid:
            continue
        started = time.perf_counter()
        fitted[spec.name] = make_model(evaluation.task, spec.params).fit(
            [train_record(evaluation.task, e) for e in examples], [str(e.label) for e in examples]
        )
        log(
            f"[{evaluation.name}] {spec.name} fitted on all {len(examples)} replies "
            f"({time.perf_counter() - started:.0f}s) for the challenge sets"
        )
    out = {}
    for path in paths:
        rows = [e for e in load_replies([path]).examples if e.label]
        if not rows:
            continue
        y = [str(e.label) for e in rows]
        records = [record_of(evaluation.task, e) for e in rows]
        preds = {}
        for name, model in fitted.items():
            p = Predictions.empty(sorted(set(y)), 1, len(rows))
            idx = np.arange(len(rows))
            p.add(0, idx, model.predict_proba(records), [str(c) for c in model.classes_], y)
            preds[name] = p
        kinds = challenge_kinds(path, rows)
        table = bootstrap_table(
            y, preds, np.arange(len(rows)), ["normatif", "substantif"], n_boot=n_boot
        )
        by_kind = {}
        for kind in sorted(set(kinds)):
            k_rows = np.array([i for i, k in enumerate(kinds) if k == kind])
            if kind and len(k_rows) >= 10:
                by_kind[kind] = {
                    "n": len(k_rows),
                    "metrics": bootstrap_table(y, preds, k_rows, [], n_boot=n_boot // 2),
                }
        rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        out[rel] = {"n": len(rows), "metrics": table, "by_kind": by_kind}
        log(
            f"[{evaluation.name}] challenge {rel}: "
            + ", ".join(f"{m} macro-F1 {table[m]['macro_f1'][0]:.3f}" for m in table)
        )
    return out


def challenge_kinds(path: Path, rows: Sequence[Any]) -> list[str]:
    """The ``challenge`` field (minimal_pair, relevance_swap, ...) of each loaded row, by id."""
    kinds: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("id") is not None:
                kinds[str(row["id"])] = str(row.get("challenge") or "")
    return [kinds.get(str(e.id), "") for e in rows]


# --- output ---------------------------------------------------------------------------------------
def _ci(v: tuple[float, float, float] | None) -> str:
    return "—" if v is None else f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"


def _metric_keys(evaluation_task: str) -> list[str]:
    if evaluation_task == "agency":
        return ["top1_accuracy", "top3_accuracy", "macro_f1"]
    if evaluation_task == "report-type":
        return ["macro_f1", "f1/pengaduan", "f1/aspirasi", "f1/permintaan_informasi"]
    return ["macro_f1", "f1/normatif", "f1/substantif"]


def csv_rows(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (evaluation, scheme or challenge set, slice, model, metric)."""
    rows = []

    def emit(ev: str, scheme: str, slice_: str, n: int, table: dict[str, Any]) -> None:
        for model, metrics in table.items():
            for metric, (point, lo, hi) in metrics.items():
                rows.append(
                    {
                        "evaluation": ev,
                        "scheme": scheme,
                        "slice": slice_,
                        "n": n,
                        "model": model,
                        "metric": metric,
                        "value": round(point, 4),
                        "ci_low": round(lo, 4),
                        "ci_high": round(hi, 4),
                    }
                )

    for res in results:
        for scheme, part in res["schemes"].items():
            emit(res["evaluation"], scheme, "all", part["n_tested"], part["metrics"])
            for src, sub in part["per_source"].items():
                emit(res["evaluation"], scheme, f"penerima={src}", sub["n"], sub["metrics"])
        for path, part in (res.get("challenge") or {}).items():
            emit(res["evaluation"], f"challenge {path}", "all", part["n"], part["metrics"])
            for kind, sub in part["by_kind"].items():
                emit(res["evaluation"], f"challenge {path}", kind, sub["n"], sub["metrics"])
    return rows


def markdown(results: Sequence[dict[str, Any]], command: str) -> str:
    """The quality table: figures with 95 % intervals, the baseline beside, targets checked."""
    out = [
        "# Quality under the evaluation protocol",
        "",
        f"Regenerate with `{command}`. Figures: point estimate [95 % bootstrap interval]; "
        "Δ = paired difference to the same-run plain baseline (word TF-IDF 1–2-grams + LinearSVC, "
        "balanced). Every model is fitted on the training part of each split only.",
        "",
    ]
    for res in results:
        keys = _metric_keys(res["task"])
        counts = sorted(res["label_counts"].items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {v}" for k, v in counts[:6])
        more = f", … {len(counts) - 6} more labels" if len(counts) > 6 else ""
        out += [f"## {res['evaluation']}", "", f"{res['rows']}; labels: {shown}{more}.", ""]
        for scheme, part in res["schemes"].items():
            out += [f"**{scheme}**, {part['n_tested']} rows tested", ""]
            out.append("| model | " + " | ".join(keys) + f" | Δ {res['primary']} vs baseline |")
            out.append("|---" * (len(keys) + 2) + "|")
            for model, m in part["metrics"].items():
                delta = m.get(f"Δ {res['primary']}")
                out.append(
                    f"| {model} | " + " | ".join(_ci(m.get(k)) for k in keys) + f" | {_ci(delta)} |"
                )
            out.append("")
            if part["per_source"]:
                out += ["Per source (penerima):", ""]
                out.append("| penerima | n (labels) | model | " + " | ".join(keys) + " |")
                out.append("|---" * (len(keys) + 3) + "|")
                for src, sub in part["per_source"].items():
                    for model, m in sub["metrics"].items():
                        out.append(
                            f"| {src} | {sub['n']} {sub['labels']} | {model} | "
                            + " | ".join(_ci(m.get(k)) for k in keys)
                            + " |"
                        )
                out.append("")
        for path, part in (res.get("challenge") or {}).items():
            out += [f"**challenge set `{path}`** ({part['n']} rows, never trained on)", ""]
            out.append("| model | slice | macro_f1 | Δ macro_f1 vs baseline |")
            out.append("|---|---|---|---|")
            for model, m in part["metrics"].items():
                out.append(
                    f"| {model} | all | {_ci(m.get('macro_f1'))} | {_ci(m.get('Δ macro_f1'))} |"
                )
            for kind, sub in part["by_kind"].items():
                for model, m in sub["metrics"].items():
                    out.append(
                        f"| {model} | {kind} ({sub['n']}) | {_ci(m.get('macro_f1'))} "
                        f"| {_ci(m.get('Δ macro_f1'))} |"
                    )
            out.append("")
        for model, chosen in res.get("chosen", {}).items():
            picks = [json.dumps(c["params"], sort_keys=True) for c in chosen]
            out.append(f"- {model}: inner-fold choices per split: {', '.join(picks)}")
        if res.get("chosen"):
            out.append("")
        first = next(iter(res["schemes"].values()), None)
        if first and "default" in first["metrics"]:
            out.append("Targets (default model, first scheme):")
            for key, target in res["targets"].items():
                if key.startswith("challenge/"):
                    for path, part in (res.get("challenge") or {}).items():
                        v = part["metrics"].get("default", {}).get(key.split("/", 1)[1])
                        if v:
                            verdict = "met" if v[0] >= target else "missed"
                            out.append(f"- {path} {key}: {_ci(v)} (target ≥ {target}) {verdict}")
                    continue
                v = first["metrics"]["default"].get(key)
                if v:
                    verdict = "met" if v[0] >= target else "missed"
                    out.append(f"- {key}: {_ci(v)} (target ≥ {target}) {verdict}")
            out.append("")
    return "\n".join(out) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """Bar chart of the main metrics per model and scheme, with the 95 % intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = _metric_keys(result["task"])
    panels = list(result["schemes"].items()) + [
        (f"challenge {Path(p).name}", part) for p, part in (result.get("challenge") or {}).items()
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, (title, part) in zip(axes[0], panels, strict=True):
        models = list(part["metrics"])
        width = 0.8 / max(1, len(models))
        for j, model in enumerate(models):
            m = part["metrics"][model]
            vals = [m.get(k, (0.0, 0.0, 0.0)) for k in keys]
            xs = np.arange(len(keys)) + j * width
            ax.bar(
                xs,
                [v[0] for v in vals],
                width,
                yerr=[[v[0] - v[1] for v in vals], [v[2] - v[0] for v in vals]],
                capsize=3,
                label=model,
            )
        ax.set_xticks(np.arange(len(keys)) + width * (len(models) - 1) / 2)
        ax.set_xticklabels(keys, rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{result['evaluation']}: {title[:60]}", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lapor_triage.evaluation.protocol", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=home() / "reports" / "quality")
    parser.add_argument("--only", nargs="+", choices=sorted(EVALUATIONS_BY_NAME))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 folds × 1 repeat, one time window")
    parser.add_argument("--no-time", action="store_true", help="skip the rolling time split")
    parser.add_argument(
        "--variants", action="store_true", help="also the variants (ablations, inner-fold grids)"
    )
    parser.add_argument("--bootstrap", type=int, default=N_BOOTSTRAP)
    args = parser.parse_args(argv)
    if args.folds < 2 or args.repeats < 1:
        parser.error("--folds must be ≥ 2 and --repeats ≥ 1")
    if args.quick:
        args.folds, args.repeats = 3, 1
    if not args.data_dir.is_dir():
        print(f"real data folder {args.data_dir} is absent: nothing to evaluate", file=sys.stderr)
        return 2
    chosen = [EVALUATIONS_BY_NAME[n] for n in args.only] if args.only else list(EVALUATIONS)
    missing = [f for e in chosen for f in e.files if not (args.data_dir / f).exists()]
    if missing:
        print(
            f"missing data in {args.data_dir}: {', '.join(sorted(set(missing)))}", file=sys.stderr
        )
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    command = "python -m lapor_triage.evaluation.protocol " + " ".join(argv or sys.argv[1:])
    started = time.perf_counter()
    results = []
    for evaluation in chosen:
        results.append(
            run_evaluation(
                evaluation,
                args.data_dir,
                folds=args.folds,
                repeats=args.repeats,
                time_split=not args.no_time,
                n_windows=1 if args.quick else 3,
                variants=args.variants,
                n_boot=args.bootstrap,
            )
        )
        plot(results[-1], args.output / f"{evaluation.name}.png")
    table = markdown(results, command.strip())
    (args.output / "protocol.md").write_text(table, encoding="utf-8")
    (args.output / "protocol.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8"
    )
    rows = csv_rows(results)
    with (args.output / "protocol.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["evaluation"])
        writer.writeheader()
        writer.writerows(rows)
    print(table)
    print(f"written to {args.output} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
