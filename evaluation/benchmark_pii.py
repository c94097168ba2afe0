"""Speed and effect of the PII masking on real complaints: a figure printer, not a timed test.

    python -m lapor_triage.evaluation.benchmark_pii [--data FILE] [--column keluhan]
                                                   [--repeat 3] [--sample 20]

Reads ../shared/data/surabaya_media_center_2022_2023.csv (column ``keluhan``; where the real data
is absent it falls back to datasets/demo/reports.csv, column ``Isi Laporan Awal``, and says so) and
prints, for the masking before issue 9 (the regular expressions kept below, for comparison only)
and for :func:`lapor_triage.pii.mask_pii`:

- masking throughput in texts/s (best of ``--repeat`` passes over every text) and the throughput
  of :func:`lapor_triage.text.clean_text`, which every report goes through before a model sees it;
- how many masks of each kind were made;
- how many texts the new masking changes differently from the old one, and for each kind of
  difference (newly masked, no longer masked, masked with another kind or extent) the count and
  a sample (the old masked text around each change and what the new masking put there), to check
  by eye that the new masks are real personal data and the dropped ones were false positives.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from lapor_triage.paths import datasets_dir, shared_data_dir
from lapor_triage.pii import find_pii, mask_pii
from lapor_triage.text import clean_text

SHARED = shared_data_dir() / "surabaya_media_center_2022_2023.csv"
DEMO = datasets_dir() / "demo" / "reports.csv"

# The masking as it was before issue 9 (lapor_triage/text.py at eecb32f), kept only to compare.
_OLD_NIK_RE = re.compile(r"(?<!\d)(?:\d[ .-]?){14,17}\d(?!\d)")
_OLD_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_OLD_PHONE_RE = re.compile(r"(?<![\w])(?:\+62|62|0)[ .-]?8?\d(?:[ .-]?\d){6,12}(?!\d)")


def old_mask_counts(text: str) -> tuple[str, Counter[str]]:
    """The pre-issue-9 masking, with the number of masks of each kind."""
    counts: Counter[str] = Counter()
    if not text:
        return text, counts
    text, counts["email"] = _OLD_EMAIL_RE.subn("[EMAIL]", text)
    text, counts["nik"] = _OLD_NIK_RE.subn("[NIK]", text)
    text, counts["phone"] = _OLD_PHONE_RE.subn("[TELEPON]", text)
    return text, counts


def old_mask_pii(text: str) -> str:
    return old_mask_counts(text)[0]


def load_texts(path: Path | None, column: str | None) -> tuple[list[str], str]:
    """The texts to mask and a line saying where they came from."""
    if path is None:
        path, column = (SHARED, column or "keluhan") if SHARED.exists() else (DEMO, None)
    if column is None:
        column = "Isi Laporan Awal"
        print(f"note: {SHARED} is absent; using the synthetic demo data instead")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if column not in (reader.fieldnames or []):
            raise SystemExit(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
        texts = [row[column] for row in reader if row.get(column)]
    return texts, f"{path} column {column!r}: {len(texts):,} texts"


def throughputs(
    fns: dict[str, Callable[[str], object]], texts: Sequence[str], repeat: int
) -> dict[str, float]:
    """Texts per second of each function, best of ``repeat`` passes; the passes of the functions
    take turns, so a machine whose load changes during the run treats them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for t in texts:
                fn(t)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(texts) / seconds for name, seconds in best.items()}


_TOKEN_RE = re.compile(r"\[(?:EMAIL|NIK|TELEPON)\]|\w+|\s+|[^\w\s]")
_MASK_RE = re.compile(r"\[(?:EMAIL|NIK|TELEPON)\]")


def changed_parts(old: str, new: str, context: int = 40) -> list[tuple[str, str]]:
    """(category, ``…old part… => new part``) for every place where two masked texts differ.

    Categories: ``newly masked`` (a mask where the old masking left the text), ``no longer
    masked`` (the old masking put a mask where the new one keeps the text) and ``changed`` (both
    mask, with another kind or extent)."""
    old_tokens, new_tokens = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    parts = []
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        old_part, new_part = "".join(old_tokens[a1:a2]), "".join(new_tokens[b1:b2])
        old_masks, new_masks = bool(_MASK_RE.search(old_part)), bool(_MASK_RE.search(new_part))
        if new_masks and not old_masks:
            category = "newly masked"
        elif old_masks and not new_masks:
            category = "no longer masked"
        else:
            category = "changed"
        before = "".join(old_tokens[:a1])[-context:]
        after = "".join(old_tokens[a2:])[:context]
        parts.append((category, f"…{before}«{old_part}»{after}…  =>  «{new_part}»"))
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--column", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    texts, source = load_texts(args.data, args.column)
    print(source)

    fns = {"old": old_mask_pii, "new": mask_pii, "clean": clean_text}
    rates = throughputs(fns, texts, args.repeat)
    print(f"old mask_pii  : {rates['old']:10,.0f} texts/s")
    print(f"new mask_pii  : {rates['new']:10,.0f} texts/s")
    print(
        f"clean_text    : {rates['clean']:10,.0f} texts/s (HTML, whitespace, salutation, masking)"
    )

    old_counts: Counter[str] = Counter()
    new_counts: Counter[str] = Counter()
    differ = []
    for t in texts:
        old, counts = old_mask_counts(t)
        old_counts.update(counts)
        new_counts.update(m.kind for m in find_pii(t))
        new = mask_pii(t)
        if new != old:
            differ.append((old, new))
    kinds = ("email", "nik", "phone")
    print(
        "masks made    : "
        + ", ".join(f"{k} old {old_counts[k]:,} new {new_counts[k]:,}" for k in kinds)
    )
    changed_new = sum(1 for t in texts if mask_pii(t) != t)
    changed_old = sum(1 for t in texts if old_mask_pii(t) != t)
    print(f"texts changed : old {changed_old:,}, new {changed_new:,}")
    print(f"texts masked differently by the new masking: {len(differ):,}")
    by_category: dict[str, list[str]] = {}
    for old, new in differ:
        for category, part in changed_parts(old, new):
            by_category.setdefault(category, []).append(part)
    rng = random.Random(args.seed)
    for category in ("newly masked", "no longer masked", "changed"):
        parts = by_category.get(category, [])
        print(f"\n{category}: {len(parts):,} places; a sample of {min(args.sample, len(parts))}:")
        for n, part in enumerate(rng.sample(parts, min(args.sample, len(parts))), 1):
            print(f"{n:3d}. {part!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
