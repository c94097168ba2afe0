"""Speed of the disposition model in process, and a check that its outputs did not change.

    python -m lapor_triage.evaluation.disposition_speed [--data-dir ../shared/data]
        [--model DIR] [--save DIR] [--rounds 30] [--dump FILE] [--compare FILE]

Fits the model with its defaults on the deduplicated 2017 national posts, as
``lapor-triage train --task disposition`` does (or loads ``--model``, a saved model folder), then
prints p50 / p99 milliseconds of ``predict_records`` on one report at a time (the first 300) and
on batches of 100 (``--rounds`` batches), warm, in process, for the 2017 posts and for the load
test's demo reports (:func:`demo_texts`)
(:func:`~lapor_triage.evaluation.disposition_quality.latency`). As the service does after loading
its models (``service.model_store.settle_heap``), the loaded heap is moved out of the cyclic
garbage collector's reach first (``gc.freeze``); ``--no-freeze`` leaves it, and then a full
collection now and then (about 150 ms with this model, measured) lands in the p99.

``--dump FILE`` writes, for every post and demo report, its full ranked suggestions and its ``predict_records``
output (JSON lines, predicted in batches of 100); ``--compare FILE`` predicts again and reports how
many posts have the same ranked instansi (all of them, and the top 10), the same kind, region,
evidence and seen flag per suggestion, the same ``predict_records`` output, and the largest
probability difference against a dump made earlier, e.g. by the code before a change, from the
same saved model. Prints numbers; the exit code is 1 when ``--compare`` finds any difference
larger than ``TOLERANCE`` in a probability, or any other difference.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lapor_triage.evaluation.disposition_quality import NATIONAL, latency
from lapor_triage.paths import shared_data_dir

TOLERANCE = 1e-9


def _posts(data_dir: Path) -> list[Any]:
    from lapor_triage.training.disposition_data import load_disposition
    from lapor_triage.training.splits import dedupe

    national, _ = load_disposition([data_dir / NATIONAL])
    national, _ = dedupe(national)
    return national


def demo_texts() -> list[str]:
    """The load test's report texts (``datasets/demo/reports.csv``): short, regional, in another
    distribution than the 2017 posts, so the kind probabilities are flatter and far more kinds
    and instansi get a share (about 340 suggestions per report against about 50)."""
    from lapor_triage.evaluation.load_test import load_texts

    return load_texts()


def all_suggestions(model: Any, records: Sequence[Any], batch: int = 100) -> list[list[dict]]:
    """The model's ranked suggestions for every record, predicted ``batch`` at a time."""
    out: list[list[dict]] = []
    for i in range(0, len(records), batch):
        out += model._suggestions(list(records[i : i + batch]))
    return out


def compare(old: Sequence[dict], new: Sequence[dict]) -> dict[str, Any]:
    """Same ranked instansi (all, top 10), same kind/region/evidence/seen flags, same
    ``predict_records`` output, and the largest probability difference between two dumps
    (``{"suggestions", "records"}`` per post)."""
    if len(old) != len(new):
        raise ValueError(f"{len(old)} posts in the old dump but {len(new)} now")
    same_all = same_top10 = same_fields = same_records = 0
    max_diff = 0.0
    for post_a, post_b in zip(old, new, strict=True):
        same_records += post_a["records"] == post_b["records"]
        a, b = post_a["suggestions"], post_b["suggestions"]
        names_a = [s["instansi"] for s in a]
        names_b = [s["instansi"] for s in b]
        same_all += names_a == names_b
        same_top10 += names_a[:10] == names_b[:10]
        keys = ("instansi", "kind", "region", "evidence", "seen_in_training")
        same_fields += [[s[k] for k in keys] for s in a] == [[s[k] for k in keys] for s in b]
        pa = {s["instansi"]: s["probability"] for s in a}
        pb = {s["instansi"]: s["probability"] for s in b}
        for name in pa.keys() | pb.keys():
            max_diff = max(max_diff, abs(pa.get(name, 0.0) - pb.get(name, 0.0)))
    return {
        "posts": len(old),
        "same_ranking": same_all,
        "same_top10": same_top10,
        "same_fields": same_fields,
        "same_records": same_records,
        "max_probability_diff": max_diff,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=shared_data_dir())
    ap.add_argument("--model", type=Path, help="a saved disposition model folder (else fit one)")
    ap.add_argument("--save", type=Path, help="save the fitted model here")
    ap.add_argument("--rounds", type=int, default=30, help="batches of 100 to time")
    ap.add_argument("--dump", type=Path, help="write every post's suggestions here (JSON lines)")
    ap.add_argument("--compare", type=Path, help="compare every post's suggestions with a dump")
    ap.add_argument("--no-freeze", action="store_true", help="leave the heap to the collector")
    args = ap.parse_args(argv)
    if not (args.data_dir / NATIONAL).is_file():
        raise SystemExit(f"{args.data_dir / NATIONAL} not found (--data-dir)")
    posts = _posts(args.data_dir)
    if args.model:
        from lapor_triage.models.base import load_model

        model = load_model(args.model)
        print(f"disposition model loaded from {args.model}")
    else:
        from lapor_triage.models.disposition import DispositionModel

        started = time.perf_counter()
        model = DispositionModel().fit(
            [e.as_record() for e in posts], [str(e.label) for e in posts], [e.weight for e in posts]
        )
        print(f"disposition model fitted on {len(posts)} posts in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        if args.save:
            model.save(args.save)
            print(f"saved to {args.save}")
    if not args.no_freeze:
        gc.collect()
        gc.freeze()
    demo = demo_texts()
    for name, texts in (("2017 posts", [e.text for e in posts]), ("demo reports", demo)):
        lat = latency(model, texts[:300], rounds=args.rounds)
        print(
            f"{name}: single report p50 {lat['single_p50_ms']:.2f} ms, p99 "
            f"{lat['single_p99_ms']:.2f} ms ({lat['n_latency']} reports); 100 reports p50 "
            f"{lat['batch100_p50_ms']:.1f} ms, p99 {lat['batch100_p99_ms']:.1f} ms "
            f"({args.rounds} batches)"
        )
    status = 0
    if args.dump or args.compare:
        records = [e.as_record() for e in posts] + [{"text": t} for t in demo]
        started = time.perf_counter()
        sugg = all_suggestions(model, records)
        print(
            f"all {len(records)} reports in batches of 100: {time.perf_counter() - started:.2f} s"
        )
        recs = [
            r
            for i in range(0, len(records), 100)
            for r in model.predict_records(records[i : i + 100])
        ]
        dump = [{"suggestions": s, "records": r} for s, r in zip(sugg, recs, strict=True)]
        if args.dump:
            with args.dump.open("w", encoding="utf-8") as fh:
                for row in dump:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"suggestions written to {args.dump}")
        if args.compare:
            with args.compare.open(encoding="utf-8") as fh:
                old = [json.loads(line) for line in fh]
            result = compare(old, json.loads(json.dumps(dump)))
            print(
                f"compared with {args.compare}: {result['same_ranking']}/{result['posts']} same "
                f"ranking, {result['same_top10']} same top 10, {result['same_fields']} same "
                f"kind/region/evidence/seen, {result['same_records']} same predict_records, "
                f"largest probability difference "
                f"{result['max_probability_diff']:.2e}"
            )
            if (
                result["same_fields"] != result["posts"]
                or result["same_records"] != result["posts"]
                or result["max_probability_diff"] > TOLERANCE
            ):
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
