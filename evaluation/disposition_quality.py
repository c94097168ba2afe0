"""Quality of national disposition on posts not trained on, against the plain flat baseline.

    python -m lapor_triage.evaluation.disposition_quality [--data-dir ../shared/data]
        [--output reports/disposition] [--folds 5] [--regional] [--bootstrap 1000]

Protocol (as the quality protocol asks): the national posts are loaded with
:func:`~lapor_triage.training.disposition_data.load_disposition`, deduplicated
(:func:`~lapor_triage.training.splits.dedupe`), and split into ``--folds`` grouped folds
(scikit-learn ``GroupKFold``; a group is the start of the normalised text, so a post re-sent with a
small edit stays on one side). Each outer fold's test posts are never used for fitting or choosing
a setting: the setting (``flat_weight``, ``other_regions``, ``region_text_weight``; :data:`GRID`)
is chosen by ``--inner-folds`` grouped folds of the outer training part only (best mean of top-1
and top-3), then the model is refitted on the whole outer training part with it. The setting
chosen most often is the one to make the model's default. ``--regional`` adds the regional files
(Surabaya, Kab. Bandung, Samarinda) to every training part.

Scores per post: top-1 / top-3 of the instansi, separately for posts whose instansi was seen in the
training part and those not seen (where a flat classifier scores 0), accuracy of the kind and of the
region of the top suggestion on their own. 95% intervals: percentile bootstrap over posts. The
baseline is plain word (1-2) + character (2-5) TF-IDF + LinearSVC over the instansi names, in the
same folds. ``model-defaults`` scores the model's own default setting in the same folds (no
choice made), so the two can be compared.

Writes ``disposition_quality.md`` (the table), ``disposition_quality.csv`` (one row per model and
subset) and ``disposition_predictions.csv`` (one row per test post and model) to ``--output``, and
prints training time and single-report latency (p50/p95, in process).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.paths import shared_data_dir

DEFAULT_DATA_DIR = shared_data_dir()
NATIONAL = "lapor_national_posts_2017.csv"
REGIONAL = (
    "surabaya_media_center_2022_2023.csv",
    "lapor_export_kab_bandung_2021_2024.xlsx",
    "lapor_export_kota_samarinda_2024.csv",
)
# Settings read at prediction time only (the model is fitted once, with the text-region
# classifier, and each setting is scored by changing these attributes).
GRID: tuple[dict[str, Any], ...] = tuple(
    {"flat_weight": fw, "other_regions": other, "region_text_weight": rtw}
    for fw in (0.3, 0.6)
    for other in ("none", "seen")
    for rtw in (0.0, 3.0)
)


class FlatBaseline:
    """Word (1-2) + char (2-5) TF-IDF + LinearSVC over instansi names: the plain reference."""

    def fit(self, texts: Sequence[str], y: Sequence[str]) -> FlatBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.svm import LinearSVC

        self.pipe_ = make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            LinearSVC(),
        ).fit(list(texts), list(y))
        return self

    def ranked(self, texts: Sequence[str], k: int = 3) -> list[list[str]]:
        scores = self.pipe_.decision_function(list(texts))
        classes = self.pipe_.classes_
        return [[str(classes[j]) for j in np.argsort(-row)[:k]] for row in scores]


def _groups(examples: Sequence[Any]) -> list[str]:
    from lapor_triage.training.splits import text_key

    return [text_key(e.text)[:80] for e in examples]


def _score_rows(
    name: str, test: Sequence[Any], ranked: Sequence[Sequence[dict[str, Any]]], seen: set[str]
) -> list[dict[str, Any]]:
    from lapor_triage.training.disposition_data import split_instansi

    rows = []
    for ex, sugg in zip(test, ranked, strict=True):
        names = [s["instansi"] for s in sugg[:3]]
        kind, region = split_instansi(str(ex.label))
        best = sugg[0] if sugg else {"instansi": "", "kind": "", "region": None}
        rows.append(
            {
                "model": name,
                "id": ex.id,
                "label": ex.label,
                "seen": ex.label in seen,
                "top1": names[:1] == [ex.label],
                "top3": ex.label in names,
                "kind_ok": best["kind"] == kind,
                "region_ok": best["region"] == region,
                "has_region": region is not None,
                "predicted": best["instansi"],
                "evidence": "; ".join(best.get("evidence") or []),
            }
        )
    return rows


def _baseline_suggestions(ranked: list[list[str]]) -> list[list[dict[str, Any]]]:
    from lapor_triage.training.disposition_data import split_instansi

    return [
        [{"instansi": n, "kind": split_instansi(n)[0], "region": split_instansi(n)[1]} for n in row]
        for row in ranked
    ]


def _fit(params: dict[str, Any], train: Sequence[Any]) -> Any:
    from lapor_triage.models.disposition import DispositionModel

    return DispositionModel(**params).fit(
        [e.as_record() for e in train], [str(e.label) for e in train], [e.weight for e in train]
    )


def _setting_key(setting: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(setting.items()))


def choose_setting(national: list[Any], extra: list[Any], inner_folds: int = 2) -> dict[str, Any]:
    """The :data:`GRID` setting with the best mean of inner top-1 and top-3 over ``inner_folds``
    grouped folds of ``national`` (the outer training part; the outer test fold is never seen)."""
    from sklearn.model_selection import GroupKFold

    totals = {_setting_key(g): 0.0 for g in GRID}
    fit_params = {"region_text_weight": max(g["region_text_weight"] for g in GRID)}
    for tr, va in GroupKFold(inner_folds).split(national, groups=_groups(national)):
        inner_train = [national[i] for i in tr] + extra
        inner_val = [national[i] for i in va]
        seen = {str(e.label) for e in inner_train}
        model = _fit(fit_params, inner_train)
        records = [e.as_record() for e in inner_val]
        for setting in GRID:
            for k, v in setting.items():  # prediction-time attributes: no refit
                setattr(model, k, v)
            rows = _score_rows("inner", inner_val, model._suggestions(records), seen)
            score = np.mean([r["top1"] for r in rows]) + np.mean([r["top3"] for r in rows])
            totals[_setting_key(setting)] += float(score)
    best = max(GRID, key=lambda g: (totals[_setting_key(g)], -GRID.index(g)))
    return dict(best)


def bootstrap_ci(values: Sequence[bool], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``values``."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n, arr.size))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarise(rows: Sequence[dict[str, Any]], n_boot: int) -> list[dict[str, Any]]:
    """One summary row per model and subset (all / seen / unseen)."""
    out = []
    models = list(dict.fromkeys(r["model"] for r in rows))
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        for subset, sel in (
            ("all", mine),
            ("seen", [r for r in mine if r["seen"]]),
            ("unseen", [r for r in mine if not r["seen"]]),
        ):
            row: dict[str, Any] = {"model": model, "subset": subset, "n": len(sel)}
            for metric in ("top1", "top3", "kind_ok", "region_ok"):
                vals = [r[metric] for r in sel]
                lo, hi = bootstrap_ci(vals, n_boot)
                row[metric] = float(np.mean(vals)) if vals else float("nan")
                row[f"{metric}_lo"], row[f"{metric}_hi"] = lo, hi
            out.append(row)
    return out


def markdown(summary: Sequence[dict[str, Any]], facts: dict[str, Any]) -> str:
    lines = [
        "# National disposition: quality on posts not trained on",
        "",
        f"{facts['n_posts']} deduplicated national posts, {facts['folds']} grouped folds"
        + (", regional files added to training" if facts["regional"] else "")
        + f"; setting chosen on {facts['inner_folds']} inner folds of each training part: "
        + "; ".join(f"fold {i + 1}: {c}" for i, c in enumerate(facts["chosen"]))
        + f". Chosen most often: {facts['most_chosen']}. Model defaults: {facts['defaults']}.",
        "",
        "| model | posts | n | top-1 [95% CI] | top-3 [95% CI] | kind | region |",
        "|---|---|---:|---|---|---:|---:|",
    ]
    for r in summary:
        lines.append(
            f"| {r['model']} | {r['subset']} | {r['n']} | {r['top1']:.3f} "
            f"[{r['top1_lo']:.3f}, {r['top1_hi']:.3f}] | {r['top3']:.3f} "
            f"[{r['top3_lo']:.3f}, {r['top3_hi']:.3f}] | {r['kind_ok']:.3f} | {r['region_ok']:.3f} |"
        )
    lines += [
        "",
        "kind / region: the kind / region of the top suggestion equals the label's "
        "(region None = national or region-free).",
        "",
        f"Training on all {facts['n_train_full']} rows: {facts['train_seconds']:.1f} s wall, "
        f"{facts['train_cpu_seconds']:.1f} s CPU. Prediction in process: one report p50 "
        f"{facts['single_p50_ms']:.2f} ms, p99 {facts['single_p99_ms']:.2f} ms "
        f"({facts['n_latency']} reports one at a time); 100 reports p50 "
        f"{facts['batch100_p50_ms']:.1f} ms, p99 {facts['batch100_p99_ms']:.1f} ms.",
        "",
    ]
    return "\n".join(lines)


def latency(model: Any, texts: Sequence[str], rounds: int = 30) -> dict[str, float]:
    """p50 / p99 milliseconds of ``predict_records`` on one report at a time and on batches of
    100 (warm, in process)."""
    model.predict_records(list(texts[:100]))
    single = []
    for text in texts:
        t = time.perf_counter()
        model.predict_records([text])
        single.append((time.perf_counter() - t) * 1000)
    batch = []
    for i in range(rounds):
        chunk = [texts[(i * 100 + j) % len(texts)] for j in range(100)]
        t = time.perf_counter()
        model.predict_records(chunk)
        batch.append((time.perf_counter() - t) * 1000)
    return {
        "single_p50_ms": float(np.percentile(single, 50)),
        "single_p99_ms": float(np.percentile(single, 99)),
        "batch100_p50_ms": float(np.percentile(batch, 50)),
        "batch100_p99_ms": float(np.percentile(batch, 99)),
        "n_latency": len(single),
    }


def run(
    data_dir: Path,
    output: Path,
    folds: int = 5,
    regional: bool = False,
    n_boot: int = 1000,
    inner_folds: int = 2,
) -> dict[str, Any]:
    from sklearn.model_selection import GroupKFold

    from lapor_triage.models.disposition import DispositionModel
    from lapor_triage.training.disposition_data import load_disposition
    from lapor_triage.training.splits import dedupe

    national, norm = load_disposition([data_dir / NATIONAL])
    national, _ = dedupe(national)
    extra: list[Any] = []
    if regional:
        extra, _ = load_disposition([data_dir / f for f in REGIONAL], norm)
    defaults = {k: DispositionModel().get_params()[k] for k in GRID[0]}
    rows: list[dict[str, Any]] = []
    chosen: list[dict[str, Any]] = []
    for k, (tr, te) in enumerate(GroupKFold(folds).split(national, groups=_groups(national))):
        outer = [national[i] for i in tr]
        test = [national[i] for i in te]
        train = outer + extra
        seen = {str(e.label) for e in train}
        texts = [e.text for e in test]
        base = FlatBaseline().fit([e.text for e in train], [str(e.label) for e in train])
        rows += _score_rows("baseline", test, _baseline_suggestions(base.ranked(texts)), seen)
        setting = choose_setting(outer, extra, inner_folds)
        chosen.append(setting)
        model = _fit({"region_text_weight": 3.0}, train)
        records = [e.as_record() for e in test]
        for name, params in (("inner-CV choice", setting), ("model-defaults", defaults)):
            for key, v in params.items():  # prediction-time attributes: no refit
                setattr(model, key, v)
            rows += _score_rows(name, test, model._suggestions(records), seen)
        print(f"fold {k + 1}/{folds}: chose {_setting_key(setting)}", file=sys.stderr)

    full = national + extra
    t, c = time.perf_counter(), time.process_time()
    model = _fit({}, full)  # the model's defaults, as `lapor-triage train` fits it
    train_s, train_cpu = time.perf_counter() - t, time.process_time() - c
    lat = latency(model, [e.text for e in national[:300]])

    summary = summarise(rows, n_boot)
    votes = Counter(_setting_key(s) for s in chosen)
    facts = {
        "n_posts": len(national),
        "folds": folds,
        "inner_folds": inner_folds,
        "regional": regional,
        "chosen": [_setting_key(s) for s in chosen],
        "most_chosen": votes.most_common(1)[0][0],
        "defaults": _setting_key(defaults),
        "n_train_full": len(full),
        "train_seconds": train_s,
        "train_cpu_seconds": train_cpu,
        **lat,
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / "disposition_quality.md").write_text(markdown(summary, facts), encoding="utf-8")
    with (output / "disposition_quality.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(summary[0]))
        w.writeheader()
        w.writerows(summary)
    with (output / "disposition_predictions.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return {"summary": summary, "facts": facts}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m lapor_triage.evaluation.disposition_quality",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--output", type=Path, default=Path("reports/disposition"))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--regional", action="store_true", help="add the regional files to training")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--inner-folds", type=int, default=2)
    args = p.parse_args(argv)
    if not (args.data_dir / NATIONAL).is_file():
        print(f"error: {args.data_dir / NATIONAL} not found (pass --data-dir)", file=sys.stderr)
        return 2
    result = run(
        args.data_dir, args.output, args.folds, args.regional, args.bootstrap, args.inner_folds
    )
    print(markdown(result["summary"], result["facts"]))
    print(f"wrote {args.output / 'disposition_quality.md'} and .csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
