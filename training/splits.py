"""Deduplication and train/test splits that keep evaluation honest.

* :func:`dedupe` drops repeated texts (so no text is on both sides of a split).
* :func:`time_split` trains on the earlier reports and tests on the latest ones (agencies and
  labelling habits drift over time). Without dates it falls back to a seeded stratified random
  split and says so.
* :func:`random_split` is a seeded, optionally stratified random split.
* :func:`group_split` keeps every group (e.g. one report with several replies) on one side.

Every split returns a :class:`Split`: a ``(train, test)`` pair that also tells how it was made
(``split.method``, ``split.fallback``, ``split.cutoff``).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from lapor_triage.training.records import Example

log = logging.getLogger(__name__)

_NON_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)


class Split(tuple):
    """``(train, test)`` plus how the split was made.

    Unpacks like a pair (``train, test = time_split(...)``); ``method`` is ``"time"``,
    ``"random"``, ``"stratified"`` or ``"group"``; ``fallback`` is true when a time split had to
    fall back to a random split; ``cutoff`` is the first test date of a time split.
    """

    method: str
    fallback: bool
    cutoff: str | None
    note: str

    def __new__(
        cls,
        train: list[Example],
        test: list[Example],
        method: str,
        *,
        fallback: bool = False,
        cutoff: str | None = None,
        note: str = "",
    ) -> Split:
        self = super().__new__(cls, (train, test))
        self.method, self.fallback, self.cutoff, self.note = method, fallback, cutoff, note
        return self

    @property
    def train(self) -> list[Example]:
        return self[0]

    @property
    def test(self) -> list[Example]:
        return self[1]

    def describe(self) -> str:
        text = f"{self.method} split: {len(self.train)} train / {len(self.test)} test"
        if self.cutoff:
            text += f", test from {self.cutoff}"
        if self.note:
            text += f" ({self.note})"
        return text


def text_key(text: str) -> str:
    """The form two texts are compared in: case, accents, punctuation and spacing ignored."""
    s = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD_RE.sub(" ", s).split())


def dedupe(
    examples: Sequence[Example], key: Callable[[Example], str] | None = None
) -> tuple[list[Example], int]:
    """Keep the first example of every normalised text; return ``(kept, number removed)``.

    ``key`` chooses what counts as the same item (default: the normalised ``text``); reply pairs
    use the report and the reply together, since one reply text may rightly stand under many reports.
    """
    seen: set[str] = set()
    kept: list[Example] = []
    for ex in examples:
        key_ = key(ex) if key is not None else text_key(ex.text)
        if key_ in seen:
            continue
        seen.add(key_)
        kept.append(ex)
    return kept, len(examples) - len(kept)


def _n_test(n: int, test_size: float | int) -> int:
    if isinstance(test_size, int) and not isinstance(test_size, bool) and test_size >= 1:
        k = test_size
    elif 0 < float(test_size) < 1:
        k = round(float(test_size) * n)
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a count ≥ 1, got {test_size}")
    return min(max(k, 1 if n > 1 else 0), n - 1 if n > 1 else 0)


def random_split(
    examples: Sequence[Example],
    test_size: float | int = 0.15,
    seed: int = 42,
    stratify: bool = True,
) -> Split:
    """Seeded random split; stratified by label unless ``stratify`` is false.

    Stratification allocates the test rows to labels in proportion (largest remainders), and
    never puts the only example of a label in the test set.
    """
    examples = list(examples)
    n = len(examples)
    k = _n_test(n, test_size)
    rng = np.random.default_rng(seed)
    if not stratify or not any(e.label is not None for e in examples):
        order = rng.permutation(n)
        test_idx = set(order[:k].tolist())
        method = "random"
    else:
        by_label: dict[Any, list[int]] = defaultdict(list)
        for i, ex in enumerate(examples):
            by_label[ex.label].append(i)
        labels = sorted(by_label, key=lambda lab: str(lab))
        frac = k / n if n else 0.0
        quota = {lab: len(by_label[lab]) * frac for lab in labels}
        alloc = {lab: min(math.floor(quota[lab]), len(by_label[lab]) - 1) for lab in labels}
        remaining = k - sum(alloc.values())
        # Largest remainders first, ties broken at random; keep ≥ 1 of each label in train.
        tiebreak = rng.random(len(labels))
        order = sorted(
            range(len(labels)),
            key=lambda j: (-(quota[labels[j]] - alloc[labels[j]]), tiebreak[j]),
        )
        while remaining > 0:
            progressed = False
            for j in order:
                lab = labels[j]
                if remaining and alloc[lab] < len(by_label[lab]) - 1:
                    alloc[lab] += 1
                    remaining -= 1
                    progressed = True
            if not progressed:
                break
        test_idx = set()
        for lab in labels:
            idx = by_label[lab]
            chosen = rng.permutation(len(idx))[: alloc[lab]]
            test_idx.update(idx[c] for c in chosen)
        method = "stratified"
    train = [e for i, e in enumerate(examples) if i not in test_idx]
    test = [e for i, e in enumerate(examples) if i in test_idx]
    return Split(train, test, method)


def time_split(
    examples: Sequence[Example],
    test_size: float | int = 0.15,
    *,
    seed: int = 42,
    per_source: bool = False,
) -> Split:
    """Train on the earlier examples, test on the latest ``test_size`` share (by ``Example.date``).

    All examples of the cut-off date go to the test side, so every training date is earlier
    than every test date. Undated examples go to training. With ``per_source`` each source file
    contributes its own latest share (useful when sources cover different periods). When no
    example has a date (or all share one date) this falls back to :func:`random_split` with
    ``seed``, logs a warning and returns ``fallback=True``.
    """
    examples = list(examples)
    if per_source:
        by_source: dict[str, list[Example]] = defaultdict(list)
        for ex in examples:
            by_source[ex.source].append(ex)
        parts = [time_split(group, test_size, seed=seed) for group in by_source.values()]
        train = [e for p in parts for e in p.train]
        test = [e for p in parts for e in p.test]
        fallback = any(p.fallback for p in parts)
        cutoffs = sorted(p.cutoff for p in parts if p.cutoff)
        note = "; ".join(f"{src}: {p.describe()}" for src, p in zip(by_source, parts, strict=True))
        return Split(
            train,
            test,
            "time",
            fallback=fallback,
            cutoff=cutoffs[0] if cutoffs else None,
            note=note,
        )

    dated = sorted((e for e in examples if e.date), key=lambda e: str(e.date))
    n_test = _n_test(len(examples), test_size)
    if not dated or len({e.date for e in dated}) < 2 or n_test == 0:
        why = "no example has a date" if not dated else "all dated examples share one date"
        log.warning("time split impossible (%s): falling back to a stratified random split", why)
        split = random_split(examples, test_size, seed=seed)
        return Split(
            split.train,
            split.test,
            split.method,
            fallback=True,
            note=f"fallback: {why}",
        )
    n_test = min(n_test, len(dated))
    cutoff = str(dated[len(dated) - n_test].date)
    if cutoff == dated[0].date:  # the cut-off date is the earliest: keep it in training
        cutoff = min(str(e.date) for e in dated if str(e.date) > cutoff)
    test_ids = {id(e) for e in dated if str(e.date) >= cutoff}
    train = [e for e in examples if id(e) not in test_ids]
    test = [e for e in examples if id(e) in test_ids]
    test.sort(key=lambda e: str(e.date))
    undated = len(examples) - len(dated)
    note = f"{undated} undated in train" if undated else ""
    return Split(train, test, "time", cutoff=cutoff, note=note)


def group_split(
    examples: Sequence[Example],
    groups: Sequence[Hashable] | Callable[[Example], Hashable] | str,
    test_size: float | int = 0.15,
    seed: int = 42,
) -> Split:
    """Seeded split that keeps every group on one side.

    ``groups`` is one key per example, a function of the example, or the name of a ``meta``
    field (falling back to the example id where the field is empty). Whole groups are drawn at
    random until the test side holds about ``test_size`` of the examples.
    """
    examples = list(examples)
    if isinstance(groups, str):
        field = groups
        keys: list[Hashable] = [e.meta.get(field) or e.id for e in examples]
    elif callable(groups):
        keys = [groups(e) for e in examples]
    else:
        keys = list(groups)
        if len(keys) != len(examples):
            raise ValueError(f"{len(keys)} group keys for {len(examples)} examples")
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        members[key].append(i)
    target = _n_test(len(examples), test_size)
    rng = np.random.default_rng(seed)
    group_list = list(members)
    order = rng.permutation(len(group_list))
    test_idx: set[int] = set()
    for j in order:
        if len(test_idx) >= target:
            break
        idx = members[group_list[j]]
        if len(test_idx) + len(idx) <= target:
            test_idx.update(idx)
    if not test_idx and target:
        # Every group is bigger than the test share: take the smallest one that leaves a train side.
        sizes = sorted((len(members[g]), k) for k, g in enumerate(group_list))
        for size, k in sizes:
            if size < len(examples):
                test_idx.update(members[group_list[k]])
                break
    train = [e for i, e in enumerate(examples) if i not in test_idx]
    test = [e for i, e in enumerate(examples) if i in test_idx]
    return Split(train, test, "group", note=f"{len(members)} groups")


# --- the promotion gate ---------------------------------------------------------------------------
GATE_FRACTION = 0.10
GATE_SALT = "lapor-triage-gate-v1"


def gate_key(example: Example) -> str:
    """What decides an example's gate membership: the report id (for replies: the report they
    answer, so all replies of one report fall together), or the normalised text where the id was
    made up from a row number."""
    report_id = example.meta.get("report_id")
    if report_id:
        return f"report:{example.meta.get('report_source') or ''}:{report_id}"
    synthetic = example.row is not None and str(example.id).endswith(f":{example.row}")
    if example.id and not synthetic:
        return f"id:{example.id}"
    return "text:" + text_key(example.text)


def in_gate(key: str, fraction: float = GATE_FRACTION, salt: str = GATE_SALT) -> bool:
    """True when ``key`` falls in the gate part: a stable SHA-256 hash (not Python's salted
    ``hash``), so every run, machine and version puts the same rows in the gate."""
    if fraction <= 0:
        return False
    import hashlib

    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def gate_split(
    examples: Sequence[Example], fraction: float = GATE_FRACTION, salt: str = GATE_SALT
) -> Split:
    """``(rest, gate)``: the gate part (about ``fraction`` of the examples, by :func:`gate_key`)
    is excluded from every training run, ``refit_full`` included, so a champion and a candidate
    can be compared on rows neither was fitted on."""
    if not 0 <= fraction < 1:
        raise ValueError(f"gate fraction must be in [0, 1), got {fraction}")
    gate_ids = {id(e) for e in examples if in_gate(gate_key(e), fraction, salt)}
    rest = [e for e in examples if id(e) not in gate_ids]
    gate = [e for e in examples if id(e) in gate_ids]
    return Split(rest, gate, "gate", note=f"{fraction:.0%} by stable hash of the report id")
