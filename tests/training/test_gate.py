"""The promotion gate: rows chosen by a stable hash of the report id are never trained on, the
metrics a run logs come only from rows the logged model was not fitted on, and ``promote``
compares champion and candidate on the gate part with a paired bootstrap interval.

The issue's scenario, with real training runs (``refit_full`` like every default model) on the
demo reports and a real MLflow SQLite store: v1 is fitted on corrupted labels, so it is worse but
would score well on rows it was refit on; v2 (clean labels) must be promoted over it, and v3
(corrupted again) must be refused against v2.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rich.console import Console

from lapor_triage.training import promotion, registry
from lapor_triage.training.config import TrainConfig
from lapor_triage.training.data import load_dataset
from lapor_triage.training.loop import run_training
from lapor_triage.training.records import Example
from lapor_triage.training.splits import gate_key, gate_split, in_gate, text_key
from tests.training.test_tracking import store  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
DEMO_REPORTS = ROOT / "datasets" / "demo" / "reports.csv"
TASK = "report-type"


def test_gate_membership_is_stable_and_about_the_requested_share() -> None:
    keys = [f"id:{i}" for i in range(20_000)]
    share = sum(in_gate(k, 0.1) for k in keys) / len(keys)
    assert 0.09 < share < 0.11
    assert [in_gate(k, 0.1) for k in keys[:50]] == [in_gate(k, 0.1) for k in keys[:50]]
    # a smaller gate is contained in a larger one (same hash, lower threshold)
    assert all(in_gate(k, 0.2) for k in keys if in_gate(k, 0.1))
    assert not any(in_gate(k, 0.0) for k in keys[:100])


def test_gate_key_uses_the_report_id_and_falls_back_to_the_text() -> None:
    real = Example(id="5522719", text="Jalan rusak", row=12)
    made_up = Example(id="reports.csv:12", text="Jalan  RUSAK!", row=12)
    reply = Example(id="r1", text="x", meta={"report_id": "77", "report_source": "p1"})
    assert gate_key(real) == "id:5522719"
    assert gate_key(made_up) == "text:" + text_key("jalan rusak")
    assert gate_key(reply) == "report:p1:77"  # all replies of one report fall together
    examples = [Example(id=str(i), text=f"t{i}", label="a") for i in range(500)]
    rest, gate = gate_split(examples, 0.1)
    assert len(rest) + len(gate) == 500 and 25 < len(gate) < 80
    assert not {e.id for e in rest} & {e.id for e in gate}
    with pytest.raises(ValueError, match="gate fraction"):
        gate_split(examples, 1.5)


def _write(path: Path, examples: list[Example], corrupt: float, seed: int) -> Path:
    """JSON Lines of the demo reports; ``corrupt``: share of labels shifted to the next class
    (so the wrong class becomes the majority for each text and the model is clearly worse)."""
    rng = random.Random(seed)
    labels = sorted({str(e.label) for e in examples})
    with path.open("w", encoding="utf-8") as fh:
        for e in examples:
            label = str(e.label)
            if rng.random() < corrupt:
                label = labels[(labels.index(label) + 1) % len(labels)]
            fh.write(json.dumps({"id": e.id, "text": e.text, "label": label}) + "\n")
    return path


def _train(home: Path, name: str, data: Path) -> object:
    config = TrainConfig(
        task=TASK,
        data=[data],
        output=home / "models" / name,
        split="random",
        refit_full=True,
        model={"cv": 2},
    )
    return run_training(config, console=Console(file=open("/dev/null", "w")))  # noqa: SIM115


@pytest.fixture(scope="module")
def runs(store: Path) -> dict[str, object]:  # noqa: F811
    examples = [e for e in load_dataset([DEMO_REPORTS], TASK).examples if e.label]
    clean = _write(store / "clean.jsonl", examples, 0.0, 0)
    noisy = _write(store / "noisy.jsonl", examples, 0.6, 1)
    return {
        "examples": examples,
        "v1": _train(store, "v1-noisy", noisy),
        "v2": _train(store, "v2-clean", clean),
        "v3": _train(store, "v3-noisy", _write(store / "noisy3.jsonl", examples, 0.6, 2)),
    }


def test_refit_model_logs_only_gate_metrics_and_never_trains_on_the_gate(runs: dict) -> None:
    v2 = runs["v2"]
    gate_ids = {r["id"] for r in v2.eval_records}
    assert gate_ids, "the run logged its gate part"
    expected = {e.id for e in runs["examples"] if in_gate(gate_key(e), 0.1)}
    assert gate_ids == expected
    info = json.loads((v2.model_dir / "training.json").read_text())
    assert info["data"]["n_train"] + info["data"]["n_eval"] + len(gate_ids) <= len(runs["examples"])
    # the logged primary metric is the refit model's score on the gate part
    gate_score = promotion.score(v2.predictor, v2.eval_records, v2.eval_labels)
    assert v2.metrics["macro_f1"] == pytest.approx(gate_score["macro_f1"])
    assert v2.metrics["gate/macro_f1"] == pytest.approx(gate_score["macro_f1"])
    # the corrupted model scores well on rows it was refit on, but not on the gate
    v1 = runs["v1"]
    assert v1.metrics["macro_f1"] < v2.metrics["macro_f1"]


def test_a_better_candidate_beats_a_refit_champion_and_a_worse_one_is_refused(
    runs: dict,
) -> None:
    v1, v2, v3 = (runs[k].tracking.model_version for k in ("v1", "v2", "v3"))
    assert promotion.promote(TASK, v1).promoted  # first champion, no comparison
    better = promotion.promote(TASK, v2, margin=0.01)
    assert better.promoted, better.message
    assert "gate part" in better.eval_source
    assert better.n_eval == len(runs["v2"].eval_records)
    assert better.delta is not None and better.delta > 0.01
    assert better.delta_low is not None and better.delta_low <= better.delta <= better.delta_high
    assert "95% CI" in better.message
    assert not better.notes  # both were trained with the same gate
    worse = promotion.promote(TASK, v3, margin=0.01)
    assert not worse.promoted and worse.delta < -0.01
    assert worse.delta_low is not None and worse.delta_low <= worse.delta <= worse.delta_high
    assert registry.get_champion(TASK).version == v2
