"""Reply-quality settings compared on *inner* folds only (the protocol's outer test parts unread).

    python -m lapor_triage.evaluation.reply_inner [--outer 5] [--inner 3] [--seed 0] [--repeats 1]
        [--setting NAME=JSON ...] [--challenge]

For each outer training part of the protocol's first ``--repeats`` repeats
(``evaluation.protocol.grouped_folds``, same rows, groups and seeds ``seed``, ``seed + 1``, ... as
``python -m lapor_triage.evaluation.protocol --only reply-quality``, whose repeat ``r`` uses seed
``r``),
the part is split again into ``--inner`` grouped stratified folds and every setting is fitted and
scored on those inner folds. The outer test parts are never fitted on or scored here: a setting is
chosen from these figures and only then read once through the protocol. Printed per setting: the
mean inner macro-F1 over outer parts, and the paired difference to the first setting with a 95 %
bootstrap interval over inner out-of-fold rows.

``--challenge`` also scores ``datasets/challenge/reply_challenge.jsonl`` (our own set, per kind)
with each setting fitted on all reply rows; the blind challenge set is never
read by this module.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
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


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    """Binary macro-F1 of boolean truths and predictions (numpy only: the bootstrap calls it a lot)."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=bool)
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    tn = len(y) - tp - fp - fn
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    f1_neg = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return float((f1_pos + f1_neg) / 2)


def inner_predictions(
    settings: dict[str, dict[str, Any]],
    outer: int,
    inner: int,
    seed: int,
    parts: int = 0,
    repeats: int = 1,
) -> tuple[dict[str, list[np.ndarray]], list[np.ndarray]]:
    """Per setting, per outer part (of every repeat): inner out-of-fold P(substantif); the truths."""
    examples, groups, _ = load_examples(EVALUATIONS_BY_NAME[TASK], DEFAULT_DATA_DIR)
    y = [str(e.label) for e in examples]
    out: dict[str, list[np.ndarray]] = {name: [] for name in settings}
    truths = []
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
        inner_seed = seed + 100 + k + 1000 * r
        for itr, ite in grouped_folds(list(part_y.astype(str)), part_groups, inner, inner_seed):
            for name, params in settings.items():
                started = time.perf_counter()
                model = make_model(TASK, params).fit(
                    [train_record(TASK, part[i]) for i in itr], [y[tr[i]] for i in itr]
                )
                col = list(model.classes_).index("substantif")
                proba[name][ite] = model.predict_proba([record_of(TASK, part[i]) for i in ite])[
                    :, col
                ]
                print(
                    f"  repeat {r} outer {k} inner fold: {name} {time.perf_counter() - started:.0f}s"
                )
        for name in settings:
            out[name].append(proba[name])
        truths.append(part_y)
        print(
            f"repeat {r} outer part {k}: "
            + ", ".join(f"{n} {_macro_f1(part_y, proba[n] >= 0.5):.4f}" for n in settings)
        )
    return out, truths


def summarise(
    out: dict[str, list[np.ndarray]], truths: list[np.ndarray], n_boot: int = 1000
) -> list[str]:
    """Mean inner macro-F1 per setting and the paired bootstrap difference to the first one."""
    names = list(out)
    ref = names[0]
    rng = np.random.default_rng(0)
    lines = []
    for name in names:
        scores = [_macro_f1(t, p >= 0.5) for t, p in zip(truths, out[name], strict=True)]
        diffs = []
        for _ in range(n_boot):
            d = []
            for t, p, q in zip(truths, out[name], out[ref], strict=True):
                idx = rng.integers(0, len(t), len(t))
                d.append(_macro_f1(t[idx], p[idx] >= 0.5) - _macro_f1(t[idx], q[idx] >= 0.5))
            diffs.append(float(np.mean(d)))
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        lines.append(
            f"| {name} | {np.mean(scores):.4f} | {np.mean(scores) - np.mean(_ref(out, truths)):+.4f} "
            f"[{lo:+.4f}, {hi:+.4f}] |"
        )
    return lines


def _ref(out: dict[str, list[np.ndarray]], truths: list[np.ndarray]) -> list[float]:
    ref = next(iter(out))
    return [_macro_f1(t, p >= 0.5) for t, p in zip(truths, out[ref], strict=True)]


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
        out, truths = inner_predictions(
            settings, args.outer, args.inner, args.seed, args.parts, args.repeats
        )
        print("\n| setting | inner macro-F1 | Δ vs first [95 % CI] |\n|---|---|---|")
        print("\n".join(summarise(out, truths)))
    if args.challenge:
        print("\n| setting | own challenge macro-F1 by kind |\n|---|---|")
        print("\n".join(own_challenge(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
