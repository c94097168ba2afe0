"""The optional disposition model and a unit model from the MLflow registry (real SQLite store):
the disposition from the ``champion`` alias of ``lapor-triage-disposition``, a unit model from
an alias of ``lapor-triage-agency`` named in ``LAPOR_UNIT_MODELS``, answered over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from lapor_triage.service.model_store import ModelLoadError, ModelStore, unit_key
from lapor_triage.service.settings import Settings
from lapor_triage.training.config import TrainConfig
from lapor_triage.training.loop import run_training
from lapor_triage.training.registry import get_client, registered_model_name
from tests.service.conftest import launch, make_settings
from tests.service.tiny_models import PLACES, TEMPLATES, UNIT_TOPICS, disposition_examples
from tests.training.test_tracking import store  # noqa: F401  (a fixture)

SURABAYA = "Pemerintah Kota Surabaya"


def _train(home: Path, task: str, rows: list[dict]) -> int:
    data = home / "data" / f"{task}.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    config = TrainConfig(
        task=task,
        data=[data],
        output=home / "models" / task,
        split="random",
        track=True,
        model={"min_df": 1},
    )
    result = run_training(config, console=Console(stderr=True, quiet=True))
    return int(result.tracking.model_version)


@pytest.fixture(scope="module")
def registered(store: Path) -> Path:  # noqa: F811
    units = [
        {"text": template.format(t=topic, p=place), "label": unit}
        for unit, topics in UNIT_TOPICS[SURABAYA].items()
        for topic in topics
        for place in PLACES
        for template in TEMPLATES["pengaduan"] + TEMPLATES["aspirasi"]
    ]
    X, y = disposition_examples()
    client = get_client()
    version = _train(store, "agency", units)
    client.set_registered_model_alias(registered_model_name("agency"), "surabaya", str(version))
    version = _train(
        store, "disposition", [{"text": x["text"], "label": v} for x, v in zip(X, y, strict=True)]
    )
    client.set_registered_model_alias(
        registered_model_name("disposition"), "champion", str(version)
    )
    return store


def test_disposition_and_unit_model_come_from_the_registry(registered, model_dirs, service_log):
    settings = make_settings(
        model_dirs,
        f"sqlite:///{registered / 'lapor.db'}",
        model_source="auto",
        unit_models={SURABAYA: "models:/lapor-triage-agency@surabaya"},
    )
    model_store = ModelStore(settings)
    models = model_store.reload()
    assert models.get("disposition").source == "models:/lapor-triage-disposition@champion"
    assert models.get(unit_key(SURABAYA)).source == "models:/lapor-triage-agency@surabaya"
    assert models.get("agency").source == str(model_dirs["agency"])  # the folder still wins
    assert not model_store.alias_changed()

    running = launch(settings, service_log)
    try:
        with running.client() as c:
            r = c.post(
                "/v1/reports/triage",
                json={
                    "reports": [
                        {
                            "id": "1",
                            "isi": "sampah menumpuk di Jalan Kenanga",
                            "penerima": SURABAYA,
                        },
                        {"id": "2", "isi": "Lampu PJU di Jl. Pemuda Semarang mati sejak seminggu"},
                    ]
                },
                headers=running.headers("pusat"),
            )
        assert r.status_code == 200, r.text
        first, second = r.json()["results"]
        assert first["agency"]["model"] == unit_key(SURABAYA)
        assert first["agency"]["label"] in UNIT_TOPICS[SURABAYA]
        assert second["agency"]["model"] == "agency"
        assert second["disposition"]["kind"] == "Dinas Perhubungan"
        assert r.json()["models"]["disposition"] == "1"
    finally:
        running.stop()


def test_a_unit_alias_nobody_carries_fails_visibly(registered, model_dirs):
    settings = Settings(
        model_source="local",
        report_type_model_dir=model_dirs["report-type"],
        agency_model_dir=model_dirs["agency"],
        reply_quality_model_dir=model_dirs["reply-quality"],
        train_default_models=False,
        unit_models={SURABAYA: "models:/lapor-triage-agency@nobody"},
    )
    model_store = ModelStore(settings)
    with pytest.raises(ModelLoadError, match="alias 'nobody'"):
        model_store.reload()
    assert model_store.current.get(unit_key(SURABAYA)) is None
    # local source: the optional disposition is not looked up in the registry
    assert model_store.current.get("disposition") is None
