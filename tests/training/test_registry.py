"""Registry and gated promotion on a real MLflow SQLite store.

The tests build on each other in file order: v1 (good) is promoted, v2 (worse) is refused, then
forced; v3 (as good as v1) passes the gate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lapor_triage.models.base import load_model
from lapor_triage.training import promotion, registry
from tests.training.test_tracking import (  # noqa: F401  (store is a fixture)
    EVAL_LABELS,
    EVAL_RECORDS,
    TASK,
    accuracy,
    store,
    train_and_log,
)


@pytest.fixture(scope="module")
def trained(store: Path) -> dict[str, object]:  # noqa: F811
    good = train_and_log(store, "good")
    worse = train_and_log(store, "worse", worse=True)
    return {"good": good, "worse": worse}


def test_versions_are_registered_with_metrics_and_no_champion_yet(trained: dict) -> None:
    versions = registry.list_versions(TASK)
    assert [v.version for v in versions] == [2, 1]
    assert all(v.primary_metric == "macro_f1" for v in versions)
    assert versions[1].metrics["macro_f1"] == pytest.approx(trained["good"].metrics["macro_f1"])
    assert registry.get_champion(TASK) is None
    with pytest.raises(registry.RegistryError, match="no version with alias"):
        registry.load_champion(TASK)


def test_first_version_is_promoted_without_comparison(trained: dict) -> None:
    result = promotion.promote(TASK, 1, user="tester")
    assert result.promoted and not result.forced
    assert result.previous_champion is None
    assert "no champion yet" in result.message
    champion = registry.get_champion(TASK)
    assert champion is not None and champion.version == 1
    assert champion.tags["promotion.promoted_by"] == "tester"


def test_worse_candidate_is_refused_on_the_same_data(trained: dict) -> None:
    good_acc = accuracy(trained["good"].predictor, EVAL_RECORDS, EVAL_LABELS)
    worse_acc = accuracy(trained["worse"].predictor, EVAL_RECORDS, EVAL_LABELS)
    assert worse_acc < good_acc - 0.5  # the fixture really built a worse model

    if registry.get_champion(TASK) is None:  # when run on its own
        promotion.promote(TASK, 1)
    result = promotion.promote(TASK, 2, margin=0.01)
    assert not result.promoted and not result.forced
    assert result.previous_champion == 1
    assert result.n_eval == len(EVAL_LABELS)
    assert "evaluation split of version 2" in result.eval_source
    assert result.champion_metrics["accuracy"] == pytest.approx(good_acc)
    assert result.candidate_metrics["accuracy"] == pytest.approx(worse_acc)
    assert result.delta is not None and result.delta < -0.01
    assert result.comparison_rows()[0][0] == "macro_f1"
    assert registry.get_champion(TASK).version == 1  # unchanged


def test_a_huge_margin_lets_the_worse_candidate_through_only_when_asked(trained: dict) -> None:
    # same comparison with explicit evaluation data, without changing the champion
    refused = promotion.promote(TASK, 2, margin=0.0, eval_data=(EVAL_RECORDS[:6], EVAL_LABELS[:6]))
    assert not refused.promoted and refused.n_eval == 6
    assert refused.eval_source == "given evaluation data"


def test_force_promotes_and_records_the_override(trained: dict) -> None:
    from mlflow import MlflowClient

    from lapor_triage.training.tracking import tracking_uri

    result = promotion.promote(TASK, 2, force=True, reason="hotfix for a demo", user="dina")
    assert result.promoted and result.forced
    assert "FORCED" in result.message
    champion = registry.get_champion(TASK)
    assert champion.version == 2 and champion.forced
    assert champion.tags["promotion.promoted_by"] == "dina"
    assert champion.tags["promotion.reason"] == "hotfix for a demo"
    assert json.loads(champion.tags["promotion.comparison"])["n_eval"] == len(EVAL_LABELS)
    assert "FORCED promotion" in champion.description and "dina" in champion.description
    run = MlflowClient(tracking_uri()).get_run(champion.run_id)
    assert "dina" in run.data.tags["lapor_triage.forced_promotion"]
    previous = registry.get_version(TASK, 1)
    assert previous.tags["promotion.superseded_by"].startswith("2 at ")


def test_candidate_within_margin_is_promoted(trained: dict, store: Path) -> None:  # noqa: F811
    better = train_and_log(store, "better")  # same recipe as v1, so far better than v2
    version = better.tracking.model_version
    assert version == 3
    result = promotion.promote(TASK, version)
    assert result.promoted and not result.forced
    assert result.delta is not None and result.delta >= -0.01
    listed = {v.version: v for v in registry.list_versions(TASK)}
    assert listed[3].is_champion and not listed[2].is_champion
    assert promotion.promote(TASK, 3).message.endswith("already is the champion")


def test_load_by_alias_gives_the_saved_model_predictions(trained: dict, store: Path) -> None:  # noqa: F811
    champion = registry.load_champion(TASK)
    saved = load_model(store / "models" / "better")
    texts = [r["text"] for r in EVAL_RECORDS]
    assert champion.predict(texts) == saved.predict(texts)
    np.testing.assert_allclose(champion.predict_proba(texts), saved.predict_proba(texts))
    # the artifacts are cached: a second load reads the same folder
    folder = registry.model_folder(TASK, 3)
    assert folder == registry.model_folder(TASK, 3)
    assert folder.is_relative_to(store / "var" / "model-cache")
    v2 = registry.load_version(TASK, 2)
    assert v2.predict(texts) == trained["worse"].predictor.predict(texts)


def test_unknown_version_is_a_clear_error(trained: dict) -> None:
    with pytest.raises(registry.RegistryError, match="has no version 99"):
        promotion.promote(TASK, 99)
