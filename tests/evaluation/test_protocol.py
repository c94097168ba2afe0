"""The evaluation protocol: folds, time windows, intervals, and one end-to-end run on demo data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from lapor_triage.evaluation import protocol
from lapor_triage.training.metrics import paired_bootstrap

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo"


def test_grouped_folds_keep_each_group_in_one_fold_and_stratify() -> None:
    labels = ["a"] * 40 + ["b"] * 10
    groups = [f"g{i // 2}" for i in range(50)]  # pairs of near-duplicates
    folds = protocol.grouped_folds(labels, groups, n_splits=5, seed=0)
    assert len(folds) == 5
    seen = np.zeros(50, dtype=int)
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        assert sum(labels[i] == "b" for i in test) >= 1  # every fold has the small class
        seen[test] += 1
    assert (seen == 1).all()  # every row tested exactly once


def test_time_windows_train_only_on_earlier_dates() -> None:
    dates = [f"2024-01-{d:02d}" for d in range(1, 31) for _ in range(2)] + [None]
    windows = protocol.time_windows(dates, n_windows=3)
    assert len(windows) == 3
    for train, test, _ in windows:
        assert max(dates[i] for i in train) < min(dates[i] for i in test)
        assert None not in [dates[i] for i in test]


def _preds(labels: list[str], pred: list[str]) -> protocol.Predictions:
    p = protocol.Predictions.empty(sorted(set(labels)), 1, len(labels))
    classes = sorted(set(labels) | set(pred))
    proba = np.array([[1.0 if c == x else 0.0 for c in classes] for x in pred])
    p.add(0, np.arange(len(labels)), proba, classes, labels)
    return p


def test_bootstrap_table_gives_intervals_and_paired_differences() -> None:
    y = ["a"] * 30 + ["b"] * 10
    perfect = _preds(y, y)
    always_a = _preds(y, ["a"] * 40)
    table = protocol.bootstrap_table(
        y, {"baseline": always_a, "model": perfect}, np.arange(40), ["a", "b"], n_boot=200
    )
    point, low, high = table["model"]["macro_f1"]
    assert point == low == high == pytest.approx(1.0)
    assert table["model"]["f1/b"][0] == pytest.approx(1.0)
    assert table["baseline"]["f1/b"][0] == pytest.approx(0.0)
    assert table["baseline"]["top1_accuracy"][0] == pytest.approx(0.75)
    delta = table["model"]["Δ top1_accuracy"]
    assert delta[0] == pytest.approx(0.25) and delta[1] > 0.0  # the interval excludes 0


def test_paired_bootstrap_interval_of_the_difference() -> None:
    y = ["a", "b"] * 50
    better = list(y)
    worse = ["a"] * 100
    res = paired_bootstrap(y, worse, better, metric="top1_accuracy", n_boot=300)
    assert res["delta"] == pytest.approx(0.5)
    assert 0.3 < res["low"] <= 0.5 <= res["high"] < 0.7
    same = paired_bootstrap(y, better, better, metric="macro_f1", n_boot=100)
    assert same["delta"] == same["low"] == same["high"] == 0.0
    with pytest.raises(ValueError, match="one prediction of each model per row"):
        paired_bootstrap(y, worse[:3], better)


def test_challenge_sets_are_found_by_the_glob(tmp_path: Path) -> None:
    found = protocol.challenge_paths()
    assert ROOT / "datasets" / "challenge" / "reply_challenge.jsonl" in found
    (tmp_path / "datasets" / "challenge_blind" / "x").mkdir(parents=True)
    blind = tmp_path / "datasets" / "challenge_blind" / "x" / "set.jsonl"
    blind.write_text("{}\n")
    assert protocol.challenge_paths(tmp_path) == [blind]


def test_run_on_demo_data_writes_table_csv_and_plot(tmp_path: Path) -> None:
    evaluation = protocol.Evaluation(
        "demo-report-type",
        "report-type",
        ("reports.csv",),
        "macro_f1",
        {"macro_f1": 0.6},
        (
            protocol.BASELINE,
            protocol.DEFAULT,
            protocol.ModelSpec("C on inner folds", {}, grid=({"C": 0.1}, {"C": 1.0})),
        ),
        per_source=True,
    )
    lines: list[str] = []
    result = protocol.run_evaluation(
        evaluation, DEMO, folds=2, repeats=1, n_windows=1, n_boot=50, log=lines.append
    )
    assert any("split 1/2" in line for line in lines)  # progress is printed
    kfold = result["schemes"]["2-fold × 1 (grouped, stratified)"]
    assert set(kfold["metrics"]) == {"baseline", "default", "C on inner folds"}
    point, low, high = kfold["metrics"]["default"]["macro_f1"]
    assert 0.0 <= low <= point <= high <= 1.0
    assert "Δ macro_f1" in kfold["metrics"]["default"]
    assert len(result["chosen"]["C on inner folds"]) >= 2  # one choice per outer split
    md = protocol.markdown([result], "python -m lapor_triage.evaluation.protocol")
    assert "| baseline |" in md and "Targets" in md
    rows = protocol.csv_rows([result])
    assert {r["model"] for r in rows} >= {"baseline", "default"}
    protocol.plot(result, tmp_path / "demo.png")
    assert (tmp_path / "demo.png").read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "out.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert json.dumps(result, default=str)


def test_command_refuses_a_missing_data_folder(tmp_path: Path) -> None:
    assert protocol.main(["--data-dir", str(tmp_path / "absent"), "--output", str(tmp_path)]) == 2
