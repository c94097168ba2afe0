"""The inner relevance-swap check of evaluation.reply_inner and its decision rule."""

from __future__ import annotations

from lapor_triage.evaluation.reply_inner import decide, relevance_swaps, swap_record
from lapor_triage.records import Example


def _ex(i: int, label: str, agency: str | None, report: str) -> Example:
    return Example(
        id=f"r{i}",
        text=f"balasan {i}",
        label=label,
        meta={"agency": agency, "report_text": report, "reply_text": f"balasan {i}"},
    )


EXAMPLES = [
    _ex(0, "substantif", "Dinas PU", "jalan rusak di jalan mawar"),
    _ex(1, "normatif", "dinas  pu", "lampu jalan mati di kampung baru"),
    _ex(2, "substantif", "Dinas PU", "Jalan rusak di jalan MAWAR"),  # same report text as row 0
    _ex(3, "substantif", "Dinas Sosial", "bantuan sosial belum cair"),  # only report of its agency
    _ex(4, "substantif", None, "tanpa instansi"),
    _ex(5, "substantif", "Dinas PU", "saluran air tersumbat"),  # outside the fold below
]
GROUPS = ["g0", "g1", "g2", "g3", "g4", "g5"]


def test_swaps_pair_substantive_replies_with_other_reports_of_the_same_agency() -> None:
    pairs = relevance_swaps(EXAMPLES, GROUPS, [0, 1, 2, 3, 4], seed=0)
    assert [a for a, _ in pairs] == [0, 2]  # row 3: its agency's only report; row 4: no agency
    for a, b in pairs:
        assert b == 1  # the only other report of Dinas PU in the fold with a different text
        assert b in (0, 1, 2, 3, 4) and GROUPS[a] != GROUPS[b]


def test_swaps_stay_in_the_fold_and_are_deterministic() -> None:
    fold = [0, 1, 5]
    first = relevance_swaps(EXAMPLES, GROUPS, fold, seed=3)
    assert first == relevance_swaps(EXAMPLES, GROUPS, fold, seed=3)
    assert {a for a, _ in first} == {0, 5}
    assert all(b in fold for _, b in first)
    draws = {tuple(relevance_swaps(EXAMPLES, GROUPS, fold, seed=s)) for s in range(20)}
    assert len(draws) > 1  # row 0 can go under row 1 or row 5


def test_swap_record_keeps_the_reply_and_takes_the_other_report() -> None:
    record = swap_record(EXAMPLES[0], EXAMPLES[1])
    assert record["reply_text"] == "balasan 0"
    assert record["report_text"] == "lampu jalan mati di kampung baru"
    assert "reasons" not in record


def _s(score: float, lo: float, hi: float) -> dict[str, object]:
    return {"score": score, "delta_ci": (lo, hi)}


def test_decision_rule_adopts_only_a_best_setting_whose_interval_is_above_zero() -> None:
    assert decide({"default": _s(0.9, 0, 0), "x": _s(0.92, 0.001, 0.03)})[0] == "x"
    assert decide({"default": _s(0.9, 0, 0), "x": _s(0.92, -0.001, 0.03)})[0] == "default"
    assert decide({"default": _s(0.93, 0, 0), "x": _s(0.92, 0.001, 0.03)})[0] == "default"
    chosen = decide(
        {"default": _s(0.9, 0, 0), "x": _s(0.95, -0.01, 0.1), "y": _s(0.91, 0.005, 0.02)}
    )
    assert chosen[0] == "default"  # the best (x) fails; the runner-up is not considered
