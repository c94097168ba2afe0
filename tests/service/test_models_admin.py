"""GET /v1/models, POST /v1/admin/reload (atomic swap, failed loads), /v1/admin/keys."""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

REPORT = {"id": "1", "judul": "Sampah", "isi": "Sampah menumpuk di Gang Mawar."}


def test_models_lists_loaded_versions(client, live, model_dirs):
    r = client.get("/v1/models", headers=live.headers("ds"))
    assert r.status_code == 200, r.text
    body = r.json()
    by_task = {m["task"]: m for m in body["models"]}
    assert set(by_task) == {"report-type", "agency", "reply-quality"}
    assert by_task["report-type"]["labels"] == ["aspirasi", "pengaduan", "permintaan_informasi"]
    assert "Dinas Perhubungan" in by_task["agency"]["labels"]
    assert by_task["agency"]["model_class"] == "AgencyRouter"
    assert by_task["agency"]["source"] == str(model_dirs["agency"])
    assert by_task["agency"]["trained_at"]
    assert body["generation"] >= 1


@pytest.mark.parametrize("who, code", [("pusat", 403), ("instansi", 403), ("admin", 200)])
def test_models_roles(client, live, who, code):
    assert client.get("/v1/models", headers=live.headers(who)).status_code == code


@pytest.fixture()
def swap_agency_dir(live):
    """Point the running service's agency model folder elsewhere for one test."""
    settings = live.state.settings
    original = settings.agency_model_dir
    yield lambda path: setattr(settings, "agency_model_dir", path)
    settings.agency_model_dir = original
    live.state.store.reload()


def test_reload_swaps_and_requests_in_flight_never_fail(
    live, model_dirs, tmp_path, swap_agency_dir
):
    # A copy of the agency model with different metadata: same predictions, a new version.
    copy = tmp_path / "agency-v2"
    shutil.copytree(model_dirs["agency"], copy)
    config = json.loads((copy / "config.json").read_text())
    config["note"] = "second version"
    (copy / "config.json").write_text(json.dumps(config))
    old_version = live.state.store.current.get("agency").version

    stop = threading.Event()
    seen: list[tuple[int, str | None]] = []

    def hammer() -> None:
        with live.client() as c:
            while not stop.is_set():
                r = c.post(
                    "/v1/reports/triage", json={"reports": [REPORT]}, headers=live.headers("pusat")
                )
                seen.append((r.status_code, r.json().get("models", {}).get("agency")))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer) for _ in range(4)]
        with live.client() as c:
            for i in range(4):
                swap_agency_dir(copy if i % 2 == 0 else model_dirs["agency"])
                r = c.post("/v1/admin/reload", headers=live.headers("admin"))
                assert r.status_code == 200 and r.json()["reloaded"] is True
        stop.set()
        for f in futures:
            f.result()
    new_version = live.state.store.current.get("agency").version
    assert len(seen) > 10
    assert all(code == 200 for code, _ in seen), {code for code, _ in seen}
    versions = {v for _, v in seen}
    assert versions <= {old_version, json_version(live, copy)} and len(versions) == 2
    assert new_version == old_version  # the last reload went back to the first folder


def json_version(live, folder) -> str:
    from lapor_triage.service.model_store import _folder_hash

    return _folder_hash(folder)


def test_failed_reload_keeps_old_models_and_shows_in_readyz(
    client, live, tmp_path, swap_agency_dir
):
    before = live.state.store.current
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    swap_agency_dir(broken)
    r = client.post("/v1/admin/reload", headers=live.headers("admin"))
    assert r.status_code == 409
    body = r.json()
    assert body["reloaded"] is False and "agency: " in body["error"]
    assert "invalid JSON" in body["error"]
    assert live.state.store.current.get("agency") is before.get("agency")  # the old one serves
    assert body["models"]["agency"] == before.get("agency").version
    ready = client.get("/readyz", headers=live.headers("admin"))
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "invalid JSON" in ready.json()["last_reload"]["error"]
    # the old models keep serving
    r = client.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=live.headers("pusat"))
    assert r.status_code == 200
    # the failure is in the log
    assert "model reload failed for agency" in live.log_file.read_text()
    # a good reload clears it
    swap_agency_dir(live.state.store.current.get("agency").source)
    assert client.post("/v1/admin/reload", headers=live.headers("admin")).status_code == 200
    assert client.get("/readyz").json()["status"] == "ready"


@pytest.mark.parametrize("who", ["pusat", "instansi", "ds"])
def test_reload_and_keys_are_admin_only(client, live, who):
    assert client.post("/v1/admin/reload", headers=live.headers(who)).status_code == 403
    assert client.get("/v1/admin/keys", headers=live.headers(who)).status_code == 403
    body = {"role": "admin"}
    assert client.post("/v1/admin/keys", json=body, headers=live.headers(who)).status_code == 403


def test_keys_api_create_use_revoke(client, live):
    r = client.post(
        "/v1/admin/keys",
        json={"role": "admin_pusat", "name": "operator baru"},
        headers=live.headers("admin"),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith(f"lt_{created['key_id']}_")
    listed = client.get("/v1/admin/keys", headers=live.headers("admin")).json()
    assert created["key_id"] in {k["key_id"] for k in listed}
    assert all("key" not in k for k in listed)  # keys are never listed
    headers = {"X-API-Key": key}
    assert (
        client.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=headers).status_code
        == 200
    )
    r = client.delete(f"/v1/admin/keys/{created['key_id']}", headers=live.headers("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert (
        client.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=headers).status_code
        == 401
    )


@pytest.mark.parametrize(
    "body, field",
    [({"role": "admin_instansi"}, "agency"), ({"role": "admin", "agency": "Dinas X"}, "agency")],
)
def test_keys_api_refuses_wrong_agency_scope(client, live, body, field):
    r = client.post("/v1/admin/keys", json=body, headers=live.headers("admin"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == field


def test_a_task_that_fails_at_startup_does_not_stop_the_others(model_dirs, tmp_path):
    from lapor_triage.service.model_store import ModelLoadError, ModelStore
    from tests.service.conftest import make_settings

    settings = make_settings(
        model_dirs, f"sqlite:///{tmp_path / 'x.db'}", reply_quality_model_dir=tmp_path / "absent"
    )
    store = ModelStore(settings)
    with pytest.raises(ModelLoadError, match="reply-quality: ModelFormatError"):
        store.reload()
    assert store.current.get("reply-quality") is None
    assert store.current.get("agency") is not None and store.current.generation == 1
    assert store.status.ok is False and "no such model folder" in store.status.error
