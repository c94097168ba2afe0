"""Deduplication and the train/test splits."""

from __future__ import annotations

import logging
import random
from collections import Counter
from datetime import date, timedelta

import pytest

from lapor_triage.training.records import Example
from lapor_triage.training.splits import dedupe, group_split, random_split, text_key, time_split


def make_examples(
    n: int,
    *,
    seed: int = 0,
    dated: float = 1.0,
    labels: tuple[str, ...] = ("pengaduan", "aspirasi", "permintaan_informasi"),
    weights: tuple[float, ...] = (0.8, 0.12, 0.08),
    sources: tuple[str, ...] = ("a.xlsx",),
) -> list[Example]:
    rng = random.Random(seed)
    start = date(2022, 1, 1)
    out = []
    for i in range(n):
        d = start + timedelta(days=rng.randrange(700))
        out.append(
            Example(
                id=str(i),
                text=f"laporan nomor {i} tentang {rng.choice(['jalan', 'sampah', 'air'])}",
                label=rng.choices(labels, weights)[0],
                source=rng.choice(sources),
                row=i + 2,
                date=d.isoformat() if rng.random() < dated else None,
                meta={"report": f"r{i // 3}"},
            )
        )
    return out


def _ids(examples: list[Example]) -> list[str]:
    return [e.id for e in examples]


def assert_partition(train: list[Example], test: list[Example], examples: list[Example]) -> None:
    assert not set(_ids(train)) & set(_ids(test))
    assert sorted(_ids(train) + _ids(test)) == sorted(_ids(examples))


# ------------------------------------------------------------------------------ dedupe ---


def test_dedupe_keeps_the_first_of_each_normalised_text() -> None:
    exs = [
        Example(id="1", text="Jalan rusak di Soreang!", label="pengaduan"),
        Example(id="2", text="jalan   RUSAK di soreang", label="aspirasi"),
        Example(id="3", text="Lampu jalan mati", label="pengaduan"),
        Example(id="4", text="Jalan rusak, di Soreang.", label="pengaduan"),
    ]
    kept, removed = dedupe(exs)
    assert _ids(kept) == ["1", "3"]
    assert removed == 2
    assert len({text_key(e.text) for e in kept}) == len(kept)


def test_dedupe_without_duplicates_changes_nothing() -> None:
    exs = make_examples(50)
    kept, removed = dedupe(exs)
    assert kept == exs and removed == 0


# -------------------------------------------------------------------------- time split ---


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("test_size", [0.1, 0.15, 0.3])
def test_time_split_tests_on_the_latest_reports(seed: int, test_size: float) -> None:
    exs = make_examples(400, seed=seed, dated=0.9)
    split = time_split(exs, test_size=test_size)
    train, test = split
    assert_partition(train, test, exs)
    assert split.method == "time" and not split.fallback
    train_dates = [e.date for e in train if e.date]
    assert max(train_dates) < min(e.date for e in test)
    assert all(e.date for e in test), "undated examples belong to training"
    assert split.cutoff == min(e.date for e in test)
    # At least the asked share, and not much more (only the examples of the cut-off day).
    assert round(test_size * len(exs)) <= len(test) <= round(test_size * len(exs)) + 5


def test_time_split_without_dates_falls_back_to_a_stratified_random_split(caplog) -> None:
    exs = make_examples(300, dated=0.0)
    with caplog.at_level(logging.WARNING, logger="lapor_triage.training.splits"):
        split = time_split(exs, test_size=0.2, seed=7)
    assert split.fallback and split.method == "stratified"
    assert "falling back" in caplog.text
    assert "fallback" in split.describe()
    assert_partition(split.train, split.test, exs)
    assert len(split.test) == 60
    assert _ids(split.test) == _ids(time_split(exs, test_size=0.2, seed=7).test)


def test_time_split_with_a_single_date_falls_back() -> None:
    exs = [
        Example(id=str(i), text=f"t{i}", label="a" if i % 2 else "b", date="2024-01-01")
        for i in range(20)
    ]
    split = time_split(exs, test_size=0.25)
    assert split.fallback
    assert_partition(split.train, split.test, exs)


def test_time_split_per_source_takes_the_latest_of_each_source() -> None:
    early = [
        Example(id=f"e{i}", text="x", label="a", source="old.csv", date=f"2021-01-{i + 1:02d}")
        for i in range(20)
    ]
    late = [
        Example(id=f"l{i}", text="y", label="a", source="new.csv", date=f"2024-06-{i + 1:02d}")
        for i in range(20)
    ]
    overall = time_split(early + late, test_size=0.2)
    assert {e.source for e in overall.test} == {"new.csv"}
    split = time_split(early + late, test_size=0.2, per_source=True)
    assert Counter(e.source for e in split.test) == {"old.csv": 4, "new.csv": 4}
    assert_partition(split.train, split.test, early + late)


# ------------------------------------------------------------------------ random split ---


def test_random_split_is_seeded_and_stratified() -> None:
    exs = make_examples(1000, seed=3)
    a = random_split(exs, test_size=0.2, seed=11)
    b = random_split(exs, test_size=0.2, seed=11)
    c = random_split(exs, test_size=0.2, seed=12)
    assert _ids(a.test) == _ids(b.test)
    assert _ids(a.test) != _ids(c.test)
    assert_partition(a.train, a.test, exs)
    assert len(a.test) == 200
    overall = Counter(e.label for e in exs)
    in_test = Counter(e.label for e in a.test)
    for label, n in overall.items():
        assert abs(in_test[label] - 0.2 * n) <= 1, (label, n, in_test[label])


def test_random_split_keeps_singleton_labels_in_training() -> None:
    exs = make_examples(100, seed=4, labels=("a", "b"), weights=(0.5, 0.5))
    exs.append(Example(id="rare", text="sekali saja", label="rare"))
    split = random_split(exs, test_size=0.3, seed=1)
    assert "rare" in _ids(split.train)
    assert_partition(split.train, split.test, exs)


def test_unstratified_random_split() -> None:
    exs = make_examples(50)
    split = random_split(exs, test_size=0.2, seed=0, stratify=False)
    assert split.method == "random" and len(split.test) == 10
    assert_partition(split.train, split.test, exs)


def test_bad_test_size_is_refused() -> None:
    with pytest.raises(ValueError, match="test_size"):
        random_split(make_examples(10), test_size=1.5)


# ------------------------------------------------------------------------- group split ---


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_group_split_never_puts_a_group_on_both_sides(seed: int) -> None:
    exs = make_examples(300, seed=seed)
    groups = [e.meta["report"] for e in exs]
    split = group_split(exs, groups, test_size=0.2, seed=seed)
    assert_partition(split.train, split.test, exs)
    train_groups = {e.meta["report"] for e in split.train}
    test_groups = {e.meta["report"] for e in split.test}
    assert not train_groups & test_groups
    assert abs(len(split.test) - 60) <= 3
    again = group_split(exs, "report", test_size=0.2, seed=seed)
    assert _ids(again.test) == _ids(split.test)


def test_group_split_checks_the_number_of_keys() -> None:
    with pytest.raises(ValueError, match="group keys"):
        group_split(make_examples(5), ["a", "b"], test_size=0.2)


def test_group_split_with_only_big_groups_takes_the_smallest() -> None:
    exs = [
        Example(id=str(i), text=f"t{i}", label="a", meta={"g": "big" if i < 60 else "small"})
        for i in range(100)
    ]
    split = group_split(exs, "g", test_size=0.15, seed=0)
    assert {e.meta["g"] for e in split.test} == {"small"}
    assert len(split.train) == 60


def test_dedupe_with_a_pair_key_keeps_one_reply_under_two_reports() -> None:
    from lapor_triage.training.records import Example
    from lapor_triage.training.splits import dedupe

    rows = [
        Example(
            id="1", text="Lubang sudah kami tambal.", meta={"report_text": "jalan A berlubang"}
        ),
        Example(
            id="2", text="Lubang sudah kami tambal.", meta={"report_text": "jalan B berlubang"}
        ),
        Example(
            id="3", text="Lubang sudah kami tambal.", meta={"report_text": "jalan A berlubang"}
        ),
    ]
    kept, removed = dedupe(rows, key=lambda e: e.meta["report_text"] + "|" + e.text)
    assert [e.id for e in kept] == ["1", "2"] and removed == 1
    assert len(dedupe(rows)[0]) == 1
