"""Reloads reach every worker process: two service instances on one database (as the workers of
``serve --workers 2`` are), and ``lapor-triage serve --workers 2`` itself."""

from __future__ import annotations

import os
import shutil
import signal
import time

import httpx
import pytest

from tests.service.conftest import launch, make_settings
from tests.service.test_serve_cli import free_port, serve_env, serve_workers

REPORT = {"id": "1", "judul": "Sampah", "isi": "Sampah menumpuk di Gang Mawar."}


def wait_for(check, what: str, timeout: float = 60.0):
    """Poll ``check()`` until it returns something truthy (a bound on waiting, not on speed)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture()
def two_workers(tmp_path, model_dirs, service_log):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    workers = [
        launch(make_settings(dict(model_dirs), url, reload_poll_seconds=0.2), service_log)
        for _ in range(2)
    ]
    yield workers
    for w in workers:
        w.stop()


def generation(worker) -> int:
    with worker.client() as c:
        r = c.get("/v1/models", headers=worker.headers("admin"))
        assert r.status_code == 200, r.text
        return r.json()["generation"]


def test_a_reload_through_one_worker_reloads_the_other(two_workers):
    a, b = two_workers
    before_b = generation(b)
    with a.client() as c:
        r = c.post("/v1/admin/reload", headers=a.headers("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reloaded"] is True and body["reload_id"] >= 1
    assert body["worker"] == a.state.coordinator.worker_id
    # the other worker follows by itself: a new model set, and its status row says so
    wait_for(lambda: generation(b) > before_b, "the second worker to reload")
    with b.client() as c:
        ready = c.get("/readyz", headers=b.headers("admin")).json()
    assert ready["status"] == "ready"
    listed = {w["worker"]: w for w in ready["workers"]}
    assert set(listed) == {a.state.coordinator.worker_id, b.state.coordinator.worker_id}
    assert listed[b.state.coordinator.worker_id]["this_worker"] is True
    wait_for(
        lambda: all(
            w["reload_id"] >= body["reload_id"] and w["ok"] is True
            for w in httpx.get(f"{b.url}/readyz", headers=b.headers("admin")).json()["workers"]
        ),
        "both workers to record the reload",
    )
    # the answering worker reloaded once, not a second time when its watcher saw its own request
    assert a.state.store.current.generation == body["generation"]


def test_a_worker_that_fails_its_reload_shows_in_readyz_of_the_others(two_workers, tmp_path):
    a, b = two_workers
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    good = b.state.settings.agency_model_dir
    b.state.settings.agency_model_dir = broken  # only the second worker will fail to load
    try:
        with a.client() as c:
            r = c.post("/v1/admin/reload", headers=a.headers("admin"))
            assert r.status_code == 200, r.text  # the answering worker loaded fine

            def degraded():
                body = c.get("/readyz", headers=a.headers("admin")).json()
                return body if body["status"] == "degraded" else None

            ready = wait_for(degraded, "/readyz of the first worker to show the failed one")
        failed = [w for w in ready["workers"] if w["ok"] is False]
        assert [w["worker"] for w in failed] == [b.state.coordinator.worker_id]
        assert "invalid JSON" in failed[0]["error"]
        assert ready["last_reload"]["ok"] is True  # the answering worker itself is fine
        # the failed worker keeps serving its old models
        with b.client() as c:
            r = c.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=b.headers("pusat"))
            assert r.status_code == 200, r.text
            assert c.get("/readyz").json() == {"status": "degraded"}  # the public answer
    finally:
        b.state.settings.agency_model_dir = good
    with a.client() as c:
        assert c.post("/v1/admin/reload", headers=a.headers("admin")).status_code == 200
        wait_for(lambda: c.get("/readyz").json()["status"] == "ready", "both workers ready again")


def test_serve_with_two_workers_reloads_both(tmp_path, model_dirs):
    home = tmp_path / "home"
    home.mkdir()
    key = "lt_workerstest_" + "x" * 24
    port = free_port()
    env = serve_env(home, model_dirs, LAPOR_BOOTSTRAP_ADMIN_KEY=key, LAPOR_ENV="development")
    proc = serve_workers(env, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:

            def two_workers_ready():
                try:
                    body = c.get("/readyz", headers={"X-API-Key": key}).json()
                except httpx.TransportError:
                    return None
                return body if len(body.get("workers", [])) == 2 else None

            wait_for(two_workers_ready, "two workers", timeout=180)
            r = c.post("/v1/admin/reload", headers={"X-API-Key": key})
            assert r.status_code == 200, r.text
            reload_id = r.json()["reload_id"]

            def both_reloaded():
                workers = c.get("/readyz", headers={"X-API-Key": key}).json()["workers"]
                return len(workers) == 2 and all(
                    w["reload_id"] >= reload_id and w["ok"] is True and w["generation"] >= 2
                    for w in workers
                )

            wait_for(both_reloaded, "both workers to reload")
            r = c.post("/v1/reports/triage", json={"reports": [REPORT]}, headers={"X-API-Key": key})
            assert r.status_code == 200, r.text

            # a worker that dies is replaced, and the replacement serves
            pids = {
                w["pid"] for w in c.get("/readyz", headers={"X-API-Key": key}).json()["workers"]
            }
            os.kill(min(pids), signal.SIGKILL)

            def replaced():
                try:
                    workers = c.get("/readyz", headers={"X-API-Key": key}).json()["workers"]
                except httpx.TransportError:
                    return None
                return {w["pid"] for w in workers} - pids

            wait_for(replaced, "a new worker", timeout=180)
            for _ in range(6):  # new connections: some reach the new worker
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as fresh:
                    r = fresh.post(
                        "/v1/reports/triage", json={"reports": [REPORT]}, headers={"X-API-Key": key}
                    )
                    assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
