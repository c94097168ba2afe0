"""Models from the MLflow registry alias ``champion``: load, notice a moved alias, poll, reload."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lapor_triage.service.model_store import ModelStore, champion_version
from lapor_triage.service.settings import Settings
from lapor_triage.training import promotion
from tests.training.test_tracking import (  # noqa: F401  (store is a fixture)
    TASK,
    store,
    train_and_log,
)


@pytest.fixture(scope="module")
def two_versions(store: Path) -> Path:  # noqa: F811
    train_and_log(store, "first")
    train_and_log(store, "second", C=1.0)
    promotion.promote(TASK, 1, user="test")
    return store


def settings(**over) -> Settings:
    return Settings(model_source="mlflow", train_default_models=False, **over)


def test_champion_is_loaded_from_the_registry(two_versions):
    models = ModelStore(settings(), tasks=(TASK,))
    loaded = models.reload().get(TASK)
    assert loaded.version == "1"
    assert loaded.source == f"models:/lapor-triage-{TASK}@champion"
    assert loaded.labels and loaded.predictor.predict(["jalan rusak"])
    assert not models.alias_changed()


def test_moved_alias_is_noticed_and_polled(two_versions):
    models = ModelStore(settings(mlflow_poll_seconds=0.2), tasks=(TASK,))
    models.reload()
    first = models.current
    models.start_polling()
    try:
        promotion.promote(TASK, 2, force=True, reason="service test", user="test")
        assert champion_version(TASK, "champion") == "2"
        deadline = time.monotonic() + 60
        while models.current.get(TASK).version != "2" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        models.stop_polling()
        promotion.promote(TASK, 1, force=True, reason="restore", user="test")
    assert models.current.get(TASK).version == "2"
    assert models.current.generation == first.generation + 1
    assert first.get(TASK).version == "1"  # the old set is untouched (requests in flight)


def test_mlflow_source_without_a_champion_fails_visibly(two_versions):
    models = ModelStore(settings(mlflow_alias="no-such-alias"), tasks=(TASK,))
    with pytest.raises(Exception, match="no MLflow version carries the alias"):
        models.reload()
    assert models.status.ok is False and "no-such-alias" in models.status.error
