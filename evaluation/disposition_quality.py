"""Quality of national disposition on posts not trained on, against the plain flat baseline.

    python -m lapor_triage.evaluation.disposition_quality [--data-dir ../shared/data]
        [--output reports/disposition] [--folds 5] [--regional] [--bootstrap 1000]

Protocol (as the quality protocol asks): the national posts are loaded with
:func:`~lapor_triage.training.disposition_data.load_disposition`, deduplicated
(:func:`~lapor_triage.training.splits.dedupe`), and split into ``--folds`` grouped folds
(scikit-learn ``GroupKFold``; a group is the start of the normalised text, so a post re-sent with a
small edit stays on one side). Each outer fold's test posts are never used for fitting or tuning:
the setting ``flat_weight`` is chosen on an inner split of the outer training part only.
``--regional`` adds the regional files (Surabaya, Kab. Bandung, Samarinda) to every training part.

Scores per post: top-1 / top-3 of the instansi, separately for posts whose instansi was seen in the
training part and those not seen (where a flat classifier scores 0), accuracy of the kind and of the
region of the top suggestion on their own. 95% intervals: percentile bootstrap over posts. The
baseline is plain word (1-2) + character (2-5) TF-IDF + LinearSVC over the instansi names, in the
same folds. Two variants of the model are scored: ``default`` (regions only from place names,
as the issue asks) and ``text-regions`` (``region_text_weight=3``: regions also learned from the
wording, e.g. ``#LaporHendi`` for Kota Semarang, which is a guess when the report names no place).

Writes ``disposition_quality.md`` (the table), ``disposition_quality.csv`` (one row per model and
subset) and ``disposition_predictions.csv`` (one row per test post and model) to ``--output``, and
prints training time and single-report latency (p50/p95, in process).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
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
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {"region_text_weight": 0.0},
    "text-regions": {"region_text_weight": 3.0},
}
FLAT_WEIGHTS = (0.3, 0.6)


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


def _choose_flat_weight(params: dict[str, Any], national: list[Any], extra: list[Any]) -> float:
    """The flat weight with the best inner top-1 + top-3 (an 80/20 grouped split of the outer
    training part; the outer test fold is never seen)."""
    from sklearn.model_selection import GroupShuffleSplit

    tr, va = next(
        GroupShuffleSplit(1, test_size=0.2, random_state=1).split(
            national, groups=_groups(national)
        )
    )
    inner_train = [national[i] for i in tr] + extra
    inner_val = [national[i] for i in va]
    seen = {str(e.label) for e in inner_train}
    best, best_score = FLAT_WEIGHTS[0], -1.0
    for w in FLAT_WEIGHTS:
        model = _fit({**params, "flat_weight": w}, inner_train)
        rows = _score_rows(
            "inner", inner_val, model._suggestions([e.as_record() for e in inner_val]), seen
        )
        score = np.mean([r["top1"] for r in rows]) + np.mean([r["top3"] for r in rows])
        if score > best_score:
            best, best_score = w, float(score)
    return best


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
        + f"; flat weight chosen on inner splits: {facts['flat_weights']}.",
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
        f"{facts['train_cpu_seconds']:.1f} s CPU. Single-report prediction in process: "
        f"p50 {facts['p50_ms']:.2f} ms, p95 {facts['p95_ms']:.2f} ms "
        f"({facts['n_latency']} reports one at a time).",
        "",
    ]
    return "\n".join(lines)


def latency(model: Any, texts: Sequence[str]) -> tuple[float, float]:
    """p50 / p95 milliseconds of ``predict_records`` on one report at a time (warm)."""
    model.predict_records([texts[0]])
    times = []
    for text in texts:
        t = time.perf_counter()
        model.predict_records([text])
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def run(
    data_dir: Path,
    output: Path,
    folds: int = 5,
    regional: bool = False,
    n_boot: int = 1000,
    variants: Sequence[str] = tuple(VARIANTS),
) -> dict[str, Any]:
    from sklearn.model_selection import GroupKFold

    from lapor_triage.training.disposition_data import load_disposition
    from lapor_triage.training.splits import dedupe

    national, norm = load_disposition([data_dir / NATIONAL])
    national, _ = dedupe(national)
    extra: list[Any] = []
    if regional:
        extra, _ = load_disposition([data_dir / f for f in REGIONAL], norm)
    rows: list[dict[str, Any]] = []
    chosen: dict[str, list[float]] = {v: [] for v in variants}
    for k, (tr, te) in enumerate(GroupKFold(folds).split(national, groups=_groups(national))):
        outer = [national[i] for i in tr]
        test = [national[i] for i in te]
        train = outer + extra
        seen = {str(e.label) for e in train}
        texts = [e.text for e in test]
        base = FlatBaseline().fit([e.text for e in train], [str(e.label) for e in train])
        rows += _score_rows("baseline", test, _baseline_suggestions(base.ranked(texts)), seen)
        for name in variants:
            params = dict(VARIANTS[name])
            params["flat_weight"] = _choose_flat_weight(params, outer, extra)
            chosen[name].append(params["flat_weight"])
            model = _fit(params, train)
            rows += _score_rows(name, test, model._suggestions([e.as_record() for e in test]), seen)
        print(f"fold {k + 1}/{folds} done", file=sys.stderr)

    full = national + extra
    params = {**VARIANTS[variants[0]], "flat_weight": statistics.median(chosen[variants[0]])}
    t, c = time.perf_counter(), time.process_time()
    model = _fit(params, full)
    train_s, train_cpu = time.perf_counter() - t, time.process_time() - c
    sample = [e.text for e in national[:200]]
    p50, p95 = latency(model, sample)

    summary = summarise(rows, n_boot)
    facts = {
        "n_posts": len(national),
        "folds": folds,
        "regional": regional,
        "flat_weights": {v: chosen[v] for v in variants},
        "n_train_full": len(full),
        "train_seconds": train_s,
        "train_cpu_seconds": train_cpu,
        "p50_ms": p50,
        "p95_ms": p95,
        "n_latency": len(sample),
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
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = p.parse_args(argv)
    if not (args.data_dir / NATIONAL).is_file():
        print(f"error: {args.data_dir / NATIONAL} not found (pass --data-dir)", file=sys.stderr)
        return 2
    result = run(
        args.data_dir, args.output, args.folds, args.regional, args.bootstrap, args.variants
    )
    print(markdown(result["summary"], result["facts"]))
    print(f"wrote {args.output / 'disposition_quality.md'} and .csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
