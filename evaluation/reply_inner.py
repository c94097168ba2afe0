"""Reply-quality settings compared on *inner* folds only (the protocol's outer test parts unread).

    python -m lapor_triage.evaluation.reply_inner [--outer 5] [--inner 3] [--seed 0] [--repeats 1]
        [--setting NAME=JSON ...] [--challenge]

For each outer training part of the protocol's first ``--repeats`` repeats
(``evaluation.protocol.grouped_folds``, same rows, groups and seeds ``seed``, ``seed + 1``, ... as
``python -m lapor_triage.evaluation.protocol --only reply-quality``, whose repeat ``r`` uses seed
``r``),
the part is split again into ``--inner`` grouped stratified folds and every setting is fitted and
scored on those inner folds. The outer test parts are never fitted on or scored here: a setting is
chosen from these figures and only then read once through the protocol.

Two things are scored on every inner test fold:

- **real replies**: macro-F1 of the labelled rows (only 26 of them are ``tidak_relevan``, so this
  hardly sees relevance);
- **relevance swaps** (:func:`relevance_swaps`), built from the same inner test fold only: each
  ``substantif`` reply is placed under another report of the same agency from that fold (one,
  drawn with a seed fixed by repeat, outer part and inner fold; an agency with a single report in
  the fold is skipped) and labelled ``normatif``, as ../shared/data/replies/GUIDELINE.md labels a
  specific reply answering a different matter. Scored by accuracy (share judged normatif). The
  pairs are the same for every setting, so differences are paired.

Printed per setting: mean over outer parts of the real-reply macro-F1, the swap accuracy and their
mean (the *score*), each with a 95 % bootstrap interval, and the paired difference of the score to
the first setting (the reference, the current default). The bootstrap resamples report groups
(a row and the swaps made from its reply share its group) once per draw and applies the same draw
to every outer part and every setting, so the overlap of the outer training parts is not counted
as independent evidence.

**Decision rule** (fixed before the run of 2026-12-05 that compared default, flags, similar1_flags
and mixed_flags): choose the setting with the highest score, i.e. the mean of inner real-reply
macro-F1 and inner swap accuracy; adopt it only if its paired difference over the reference on
that score has a 95 % interval entirely above 0; otherwise keep the reference. :func:`decide`
applies it and the command prints its verdict.

``--challenge`` also scores ``datasets/challenge/reply_challenge.jsonl`` (our own set, per kind)
with each setting fitted on all reply rows; the blind challenge set is never
read by this module.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lapor_triage.evaluation.protocol import (
    DEFAULT_DATA_DIR,
    EVALUATIONS_BY_NAME,
    ROOT,
    challenge_kinds,
    grouped_folds,
    load_examples,
    make_model,
    record_of,
    train_record,
)

TASK = "reply-quality"
OWN_CHALLENGE = ROOT / "datasets" / "challenge" / "reply_challenge.jsonl"


def _macro_f1(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    """Binary macro-F1 of boolean truths and predictions, optionally with row weights (counts of a
    bootstrap draw). numpy only: the bootstrap calls it a lot."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=bool)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    tp, fp, fn = np.sum(w * (y & p)), np.sum(w * (~y & p)), np.sum(w * (y & ~p))
    tn = np.sum(w) - tp - fp - fn
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    f1_neg = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return float((f1_pos + f1_neg) / 2)


def _accuracy(correct: np.ndarray, w: np.ndarray | None = None) -> float:
    w = np.ones(len(correct)) if w is None else np.asarray(w, dtype=float)
    total = float(np.sum(w))
    return float(np.sum(w * correct) / total) if total else float("nan")


def _agency_key(value: Any) -> str:
    return " ".join(str(value or "").lower().split())


def relevance_swaps(
    examples: Sequence[Any], groups: Sequence[str], fold: Sequence[int], seed: int
) -> list[tuple[int, int]]:
    """Relevance swaps within one fold: ``(reply_index, report_index)`` pairs of indices into
    ``examples``, all taken from ``fold``.

    Each ``substantif`` row's reply is paired with the report of one other row of the same agency
    (agency names compared case- and space-insensitively) from a different group, drawn at random
    (``seed``) among the fold's *other reports* of that agency, each distinct report counted once.
    A report with the same text (after :func:`training.splits.text_key`) is not another report.
    A reply whose agency has no other report in the fold, or no agency, is skipped. Deterministic
    for a given seed and fold order.
    """
    from lapor_triage.training.splits import text_key

    rng = np.random.default_rng(seed)
    own = {int(i): text_key(str(examples[i].meta.get("report_text", ""))) for i in fold}
    reports: dict[str, dict[str, int]] = {}  # agency -> group -> first row of that group
    for i in fold:
        agency = _agency_key(examples[i].meta.get("agency"))
        if agency:
            reports.setdefault(agency, {}).setdefault(groups[i], int(i))
    pairs = []
    for i in fold:
        if str(examples[i].label) != "substantif":
            continue
        agency = _agency_key(examples[i].meta.get("agency"))
        others = sorted(
            j
            for g, j in reports.get(agency, {}).items()
            if g != groups[i] and own[j] != own[int(i)]
        )
        if not others:
            continue
        pairs.append((int(i), int(others[rng.integers(len(others))])))
    return pairs


def swap_record(reply: Any, report: Any) -> dict[str, Any]:
    """The predictor input of ``reply``'s reply text placed under ``report``'s report."""
    record = record_of(TASK, reply)
    record["id"] = f"swap:{reply.id}:{report.id}"
    record["report_text"] = report.meta.get("report_text", "")
    return record


@dataclass
class InnerResult:
    """Per outer part: inner out-of-fold P(substantif) of the real rows and of the swaps."""

    real: dict[str, list[np.ndarray]] = field(default_factory=dict)
    swaps: dict[str, list[np.ndarray]] = field(default_factory=dict)
    truths: list[np.ndarray] = field(default_factory=list)
    real_groups: list[np.ndarray] = field(default_factory=list)  # global group ids of real rows
    swap_groups: list[np.ndarray] = field(default_factory=list)  # global group ids of the replies
    n_groups: int = 0


def inner_predictions(
    settings: dict[str, dict[str, Any]],
    outer: int,
    inner: int,
    seed: int,
    parts: int = 0,
    repeats: int = 1,
) -> InnerResult:
    """Fit every setting on the inner training folds of each outer training part; predict the
    inner test folds' real rows and their relevance swaps."""
    examples, groups, _ = load_examples(EVALUATIONS_BY_NAME[TASK], DEFAULT_DATA_DIR)
    y = [str(e.label) for e in examples]
    group_id = {g: n for n, g in enumerate(sorted(set(groups)))}
    res = InnerResult(
        real={n: [] for n in settings}, swaps={n: [] for n in settings}, n_groups=len(group_id)
    )
    outer_parts = [
        (r, k, tr)
        for r in range(repeats)
        for k, (tr, _te) in enumerate(grouped_folds(y, groups, outer, seed=seed + r))
        if not parts or k < parts
    ]
    for r, k, tr in outer_parts:
        part = [examples[i] for i in tr]
        part_y = np.array([y[i] == "substantif" for i in tr])
        part_groups = [groups[i] for i in tr]
        proba = {name: np.zeros(len(tr)) for name in settings}
        swap_proba: dict[str, list[float]] = {name: [] for name in settings}
        swap_groups: list[int] = []
        inner_seed = seed + 100 + k + 1000 * r
        folds = grouped_folds(list(part_y.astype(str)), part_groups, inner, inner_seed)
        for f, (itr, ite) in enumerate(folds):
            pairs = relevance_swaps(part, part_groups, ite, seed=inner_seed * 10 + f)
            swaps = [swap_record(part[a], part[b]) for a, b in pairs]
            swap_groups += [group_id[part_groups[a]] for a, _ in pairs]
            for name, params in settings.items():
                started = time.perf_counter()
                model = make_model(TASK, params).fit(
                    [train_record(TASK, part[i]) for i in itr], [y[tr[i]] for i in itr]
                )
                col = list(model.classes_).index("substantif")
                records = [record_of(TASK, part[i]) for i in ite] + swaps
                p = model.predict_proba(records)[:, col]
                proba[name][ite] = p[: len(ite)]
                swap_proba[name] += list(p[len(ite) :])
                print(
                    f"  repeat {r} outer {k} inner fold {f}: {name} {time.perf_counter() - started:.0f}s"
                    f" ({len(swaps)} swaps)"
                )
        for name in settings:
            res.real[name].append(proba[name])
            res.swaps[name].append(np.array(swap_proba[name]))
        res.truths.append(part_y)
        res.real_groups.append(np.array([group_id[g] for g in part_groups]))
        res.swap_groups.append(np.array(swap_groups, dtype=int))
        print(
            f"repeat {r} outer part {k}: "
            + ", ".join(
                f"{n} real {_macro_f1(part_y, proba[n] >= 0.5):.4f}"
                f" swaps {_accuracy(np.array(swap_proba[n]) < 0.5):.4f}"
                for n in settings
            )
        )
    return res


def _scores(res: InnerResult, name: str, counts: np.ndarray | None) -> tuple[float, float]:
    """(real macro-F1, swap accuracy), each the mean over outer parts, under group weights."""
    real, swap = [], []
    for t, p, s, rg, sg in zip(
        res.truths, res.real[name], res.swaps[name], res.real_groups, res.swap_groups, strict=True
    ):
        real.append(_macro_f1(t, p >= 0.5, None if counts is None else counts[rg]))
        swap.append(_accuracy(s < 0.5, None if counts is None else counts[sg]))
    return float(np.mean(real)), float(np.nanmean(swap))


def summarise(res: InnerResult, n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Per setting: real macro-F1, swap accuracy and score (their mean), each with a 95 % group
    bootstrap interval, and the paired score difference to the first setting with its interval."""
    names = list(res.real)
    ref = names[0]
    rng = np.random.default_rng(seed)
    draws: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, res.n_groups, res.n_groups), minlength=res.n_groups)
        for n in names:
            draws[n].append(_scores(res, n, counts))
    out: dict[str, dict[str, Any]] = {}
    ref_score = np.array([(a + b) / 2 for a, b in draws[ref]])
    for n in names:
        real, swap = _scores(res, n, None)
        d = np.array(draws[n])
        score = d.mean(axis=1)
        out[n] = {
            "real": real,
            "real_ci": tuple(np.percentile(d[:, 0], [2.5, 97.5])),
            "swap": swap,
            "swap_ci": tuple(np.percentile(d[:, 1], [2.5, 97.5])),
            "score": (real + swap) / 2,
            "score_ci": tuple(np.percentile(score, [2.5, 97.5])),
            "delta": (real + swap) / 2 - sum(_scores(res, ref, None)) / 2,
            "delta_ci": tuple(np.percentile(score - ref_score, [2.5, 97.5])),
        }
    return out


def decide(summary: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """The decision rule of the module docstring: ``(chosen setting, why)``."""
    ref = next(iter(summary))
    best = max(summary, key=lambda n: summary[n]["score"])
    if best == ref:
        return ref, f"{ref} has the best score: keep it"
    lo, hi = summary[best]["delta_ci"]
    if lo > 0:
        return best, f"{best} has the best score and Δ [{lo:+.4f}, {hi:+.4f}] is above 0: adopt it"
    return ref, f"{best} has the best score but Δ [{lo:+.4f}, {hi:+.4f}] is not above 0: keep {ref}"


def table(summary: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows of :func:`summarise`."""

    def ci(v: float, c: tuple[float, float], sign: str = "") -> str:
        return f"{v:{sign}.4f} [{c[0]:{sign}.4f}, {c[1]:{sign}.4f}]"

    lines = [
        "| setting | real macro-F1 | swap accuracy | score (mean) | Δ score vs first |",
        "|---|---|---|---|---|",
    ]
    for n, s in summary.items():
        lines.append(
            f"| {n} | {ci(s['real'], s['real_ci'])} | {ci(s['swap'], s['swap_ci'])} | "
            f"{ci(s['score'], s['score_ci'])} | {ci(s['delta'], s['delta_ci'], '+')} |"
        )
    return lines


def own_challenge(settings: dict[str, dict[str, Any]]) -> list[str]:
    """Our own challenge set per kind, each setting fitted on every reply row."""
    from lapor_triage.training.reply_data import load_replies

    examples, _, _ = load_examples(EVALUATIONS_BY_NAME[TASK], DEFAULT_DATA_DIR)
    rows = [e for e in load_replies([OWN_CHALLENGE]).examples if e.label]
    kinds = challenge_kinds(OWN_CHALLENGE, rows)
    y = np.array([str(e.label) == "substantif" for e in rows])
    lines = []
    for name, params in settings.items():
        model = make_model(TASK, params).fit(
            [train_record(TASK, e) for e in examples], [str(e.label) for e in examples]
        )
        col = list(model.classes_).index("substantif")
        p = model.predict_proba([record_of(TASK, e) for e in rows])[:, col] >= 0.5
        parts = [f"all {_macro_f1(y, p):.3f}"]
        for kind in sorted(set(kinds)):
            m = np.array([k == kind for k in kinds])
            parts.append(f"{kind} {_macro_f1(y[m], p[m]):.3f}")
        lines.append(f"| {name} | " + " | ".join(parts) + " |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outer", type=int, default=5)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=1, help="outer repeats (seeds seed, seed+1, ...)"
    )
    parser.add_argument(
        "--parts", type=int, default=0, help="only the first N outer training parts (0: all)"
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="NAME=JSON params of ReplyQualityScorer (the first one is the reference)",
    )
    parser.add_argument("--challenge", action="store_true", help="also our own challenge set")
    parser.add_argument("--skip-inner", action="store_true", help="only the challenge set")
    args = parser.parse_args(argv)
    settings: dict[str, dict[str, Any]] = {}
    for item in args.setting or ["default={}"]:
        name, _, params = item.partition("=")
        settings[name] = json.loads(params or "{}")
    if not args.skip_inner:
        res = inner_predictions(
            settings, args.outer, args.inner, args.seed, args.parts, args.repeats
        )
        summary = summarise(res)
        n_swaps = sum(len(s) for s in res.swap_groups)
        n_real = sum(len(t) for t in res.truths)
        print(f"\n{len(res.truths)} outer parts; {n_real} inner test rows, {n_swaps} swaps\n")
        print("\n".join(table(summary)))
        print("\ndecision:", decide(summary)[1])
    if args.challenge:
        print("\n| setting | own challenge macro-F1 by kind |\n|---|---|")
        print("\n".join(own_challenge(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
