"""Two levels of suggestion over real HTTP (issue 12, item 4): the national disposition for Admin
Pusat when a disposition model is loaded, and unit-level agencies from the unit model of the
report's ``penerima`` (several regional governments' models side by side)."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis import GenerationMode

from lapor_triage.service.model_store import ModelLoadError, ModelStore, unit_key
from lapor_triage.service.settings import TASKS, Settings
from tests.service.conftest import launch, make_settings
from tests.service.tiny_models import UNIT_TOPICS, train_tiny_disposition, train_tiny_unit_models

SURABAYA = "Pemerintah Kota Surabaya"
BANDUNG = "Pemerintah Kabupaten Bandung"
LAMPU = "Lampu PJU di Jl. Pemuda Semarang mati sejak seminggu"
SAMPIT = "Klaim BPJS saya di rumah sakit Sampit ditolak, kartu JKN sudah aktif"
TRIAGE = "/v1/reports/triage"


@pytest.fixture(scope="module")
def extra_models(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("two-level-models")
    return {"disposition": train_tiny_disposition(root), "units": train_tiny_unit_models(root)}


@pytest.fixture(scope="module")
def two_levels(tmp_path_factory, model_dirs, extra_models, service_log):
    """The service with a disposition model and the unit models of Surabaya and Kab. Bandung."""
    home = tmp_path_factory.mktemp("two-levels-home")
    settings = make_settings(
        model_dirs,
        f"sqlite:///{home / 'lapor.db'}",
        disposition_model_dir=extra_models["disposition"],
        unit_models={k: str(v) for k, v in extra_models["units"].items()},
    )
    running = launch(settings, service_log)
    yield running
    running.stop()


def triage(live, reports: list[dict], **extra) -> httpx.Response:
    with live.client() as c:
        return c.post(TRIAGE, json={"reports": reports, **extra}, headers=live.headers("pusat"))


def test_disposition_has_instansi_kind_region_and_evidence(two_levels):
    r = triage(two_levels, [{"id": "1", "isi": LAMPU}, {"id": "2", "isi": SAMPIT}], top_k=3)
    assert r.status_code == 200, r.text
    body = r.json()
    lampu, sampit = (x["disposition"] for x in body["results"])
    assert lampu["label"] == "Dinas Perhubungan Kota Semarang"
    assert lampu["kind"] == "Dinas Perhubungan" and lampu["region"] == "Kota Semarang"
    assert "semarang" in " ".join(lampu["evidence"]).lower()
    assert lampu["abstain"] is False
    first = lampu["top_k"][0]
    assert first == {
        "instansi": "Dinas Perhubungan Kota Semarang",
        "probability": first["probability"],
        "kind": "Dinas Perhubungan",
        "region": "Kota Semarang",
        "evidence": first["evidence"],
        "seen_in_training": True,
    }
    assert 0 < first["probability"] <= 1 and len(lampu["top_k"]) <= 3
    probs = [s["probability"] for s in lampu["top_k"]]
    assert probs == sorted(probs, reverse=True)
    assert sampit["label"] == "BPJS Kesehatan KC Sampit" and sampit["region"] == "KC Sampit"
    assert (
        body["models"]["disposition"] == two_levels.state.store.current.get("disposition").version
    )
    # the unit-level answer is still there, from the default agency model (no penerima)
    assert all(x["agency"]["model"] == "agency" for x in body["results"])


def test_an_unseen_instansi_is_composed_and_a_placeless_report_stays_region_free(two_levels):
    reports = [
        {"id": "a", "isi": "Lampu PJU di Kota Bandung mati, rambu roboh juga"},
        {"id": "b", "isi": "bantuan PKH belum cair sejak tiga bulan"},
    ]
    bandung, pkh = (x["disposition"] for x in triage(two_levels, reports).json()["results"])
    row = next(s for s in bandung["top_k"] if s["instansi"] == "Dinas Perhubungan Kota Bandung")
    assert row["seen_in_training"] is False and row["region"] == "Kota Bandung"
    assert row["evidence"]
    assert pkh["label"] == "Kementerian Sosial" and pkh["region"] is None
    assert pkh["evidence"] == []


def test_without_a_disposition_model_the_answer_is_as_before(live):
    r = triage(live, [{"id": "1", "isi": LAMPU, "penerima": SURABAYA}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["models"]) == {"report-type", "agency"}
    (result,) = body["results"]
    assert set(result) == {"id", "text", "report_type", "agency"}
    assert result["agency"]["model"] == "agency"  # no unit model configured: the default one
    assert live.state.store.current.get("disposition") is None
    with live.client() as c:  # an optional model does not hold readiness back
        assert c.get("/readyz").json() == {"status": "ready"}
        detail = c.get("/readyz", headers=live.headers("admin")).json()
    assert detail["missing_models"] == []


def test_each_report_gets_its_own_governments_units(two_levels):
    reports = [
        {"id": "s", "isi": "sampah menumpuk di Jalan Kenanga", "penerima": SURABAYA},
        {"id": "b", "isi": "sampah menumpuk di Jalan Kenanga", "penerima": BANDUNG},
        # spelled differently: compared as agency names are (case, Kab./Kabupaten)
        {"id": "b2", "isi": "jalan berlubang di Gang Mawar", "penerima": "pemerintah kab. bandung"},
        {"id": "x", "isi": "sampah menumpuk di Jalan Kenanga", "penerima": "Pemerintah Kota Solo"},
        {"id": "n", "isi": "sampah menumpuk di Jalan Kenanga"},
    ]
    r = triage(two_levels, reports, top_k=2)
    assert r.status_code == 200, r.text
    body = r.json()
    by_id = {x["id"]: x["agency"] for x in body["results"]}
    sby, bdg = set(UNIT_TOPICS[SURABAYA]), set(UNIT_TOPICS[BANDUNG])
    assert by_id["s"]["model"] == unit_key(SURABAYA)
    assert by_id["s"]["label"] == "Dinas Kebersihan dan Ruang Terbuka Hijau Kota Surabaya"
    assert {a["agency"] for a in by_id["s"]["top_k"]} <= sby
    assert by_id["b"]["model"] == unit_key(BANDUNG)
    assert by_id["b"]["label"] == "Dinas Lingkungan Hidup Kabupaten Bandung"
    assert {a["agency"] for a in by_id["b"]["top_k"]} <= bdg
    assert by_id["b2"]["model"] == unit_key(BANDUNG)
    assert by_id["b2"]["label"] == "Dinas PUTR Kabupaten Bandung"
    default_labels = set(two_levels.state.store.current.get("agency").labels)
    for rid in ("x", "n"):  # no unit model for this penerima (or none given): the default model
        assert by_id[rid]["model"] == "agency"
        assert by_id[rid]["label"] in default_labels
    assert set(body["models"]) == {
        "report-type",
        "agency",
        unit_key(SURABAYA),
        unit_key(BANDUNG),
        "disposition",
    }


def test_unit_models_follow_lapor_penerima(tmp_path, model_dirs, extra_models, service_log):
    """A report without penerima is the deployment's (LAPOR_PENERIMA): its unit model answers."""
    settings = make_settings(
        model_dirs,
        f"sqlite:///{tmp_path / 'lapor.db'}",
        penerima=BANDUNG,
        unit_models={BANDUNG: str(extra_models["units"][BANDUNG])},
    )
    running = launch(settings, service_log)
    try:
        r = triage(running, [{"id": "1", "isi": "sungai tercemar limbah di Jalan Melati"}])
        agency = r.json()["results"][0]["agency"]
        assert agency["model"] == unit_key(BANDUNG)
        assert agency["label"] in UNIT_TOPICS[BANDUNG]
        assert "disposition" not in r.json()["results"][0]
        with running.client() as c:
            models = c.get("/v1/models", headers=running.headers("admin"))
        assert models.status_code == 200
        assert unit_key(BANDUNG) in models.text
    finally:
        running.stop()


def test_openapi_documents_the_disposition(two_levels):
    spec = httpx.get(f"{two_levels.url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    result = schemas["TriageResult"]["properties"]
    assert "disposition" in result and "disposition" not in schemas["TriageResult"].get(
        "required", []
    )
    suggestion = schemas["DispositionSuggestion"]["properties"]
    assert {"instansi", "probability", "kind", "region", "evidence", "seen_in_training"} <= set(
        suggestion
    )
    assert {"label", "kind", "region", "evidence", "abstain", "top_k"} <= set(
        schemas["DispositionPrediction"]["properties"]
    )
    assert "model" in schemas["AgencyPrediction"]["properties"]


# --- the model store and the settings ----------------------------------------------------------
def _settings(model_dirs, **over) -> Settings:
    values = dict(
        model_source="local",
        report_type_model_dir=model_dirs["report-type"],
        agency_model_dir=model_dirs["agency"],
        reply_quality_model_dir=model_dirs["reply-quality"],
        train_default_models=False,
    )
    values.update(over)
    return Settings(**values)


def test_without_optional_models_only_the_three_tasks_are_required(model_dirs):
    store = ModelStore(_settings(model_dirs))
    assert store.required == TASKS
    loaded = store.reload()
    assert set(loaded.models) == set(TASKS)
    assert loaded.agency_key_for(SURABAYA) == "agency"


def test_configured_models_are_required_and_a_broken_one_fails_visibly(
    model_dirs, extra_models, tmp_path
):
    missing = tmp_path / "no-such-model"
    store = ModelStore(
        _settings(
            model_dirs,
            disposition_model_dir=extra_models["disposition"],
            unit_models={SURABAYA: str(missing)},
        )
    )
    assert store.required == (*TASKS, "disposition", unit_key(SURABAYA))
    with pytest.raises(ModelLoadError, match="no-such-model"):
        store.reload()
    # the other models still serve; the unit is missing, so /readyz would say not_ready
    assert store.current.get("disposition") is not None
    assert store.current.get(unit_key(SURABAYA)) is None
    assert store.current.agency_key_for(SURABAYA) == "agency"


def test_a_folder_of_another_task_is_refused(model_dirs, extra_models):
    store = ModelStore(
        _settings(model_dirs, unit_models={SURABAYA: str(extra_models["disposition"])})
    )
    with pytest.raises(ModelLoadError, match="'disposition' model, not 'agency'"):
        store.reload()
    store = ModelStore(_settings(model_dirs, disposition_model_dir=extra_models["units"][SURABAYA]))
    with pytest.raises(ModelLoadError, match="'agency' model, not 'disposition'"):
        store.reload()


def test_unit_models_setting_is_read_as_json_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv(
        "LAPOR_UNIT_MODELS",
        json.dumps(
            {
                "  Pemerintah  Kota Surabaya ": str(tmp_path),
                BANDUNG: "models:/lapor-triage-agency@bandung",
            }
        ),
    )
    assert Settings().unit_models == {
        SURABAYA: str(tmp_path),
        BANDUNG: "models:/lapor-triage-agency@bandung",
    }
    bad = {
        "no model folder": {SURABAYA: " "},
        "blank": {" ": str(tmp_path)},
        "is not a folder or": {SURABAYA: "models:/lapor-triage-report-type@x"},
        "name the same penerima": {BANDUNG: "a", "pemerintah kab. bandung": "b"},
    }
    for message, value in bad.items():
        monkeypatch.setenv("LAPOR_UNIT_MODELS", json.dumps(value))
        with pytest.raises(ValidationError, match=message) as info:
            Settings()
        assert "LAPOR_UNIT_MODELS" in str(info.value)


# --- fuzzing the two-level triage: never a 5xx ---------------------------------------------------
@pytest.fixture(scope="module")
def two_level_schema(two_levels):
    schema = schemathesis.openapi.from_url(f"{two_levels.url}/openapi.json")
    schema.config.generation.update(modes=list(GenerationMode))
    return schema.include(path=TRIAGE)


two_level_api = schemathesis.pytest.from_fixture("two_level_schema")


@two_level_api.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_triage_with_both_levels_is_never_5xx(case, two_levels):
    response = case.call(headers=two_levels.headers("pusat"))
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


def test_hostile_penerima_and_texts_with_both_levels_are_never_5xx(two_levels):
    reports = [
        {"id": "1", "isi": "\u0000\u2028 sampah", "penerima": SURABAYA.upper()},
        {"id": "2", "isi": "x" * 20_000, "penerima": "Kab. " * 50},
        {"id": "3", "isi": "Semarang " * 500, "penerima": "\u202e" + BANDUNG},
        {"id": "4", "isi": "🙂", "kecamatan": "Semarang", "kelurahan": "Sampit"},
    ]
    r = triage(two_levels, reports, top_k=50)
    assert r.status_code == 200, r.text
    assert all("disposition" in x for x in r.json()["results"])


def test_a_folders_only_deployment_does_not_create_a_registry(model_dirs, tmp_path, monkeypatch):
    """``auto`` with every required folder set and no registry: looking the optional disposition
    up must not create the embedded MLflow store (seconds of migrations at every first start)."""
    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store = ModelStore(_settings(model_dirs, model_source="auto"))
    loaded = store.reload()
    assert set(loaded.models) == set(TASKS)
    assert not store.alias_changed()
    assert not (tmp_path / "mlflow").exists()
