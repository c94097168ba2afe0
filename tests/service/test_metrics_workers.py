"""One ``/metrics`` scrape covers every worker of ``lapor-triage serve --workers 2``
(prometheus_client multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR`` set by serve)."""

from __future__ import annotations

import shutil

import httpx

from tests.service.test_health_metrics import metric
from tests.service.test_serve_cli import free_port, serve_env, serve_workers
from tests.service.test_workers import REPORT, wait_for

ROUTE = 'method="POST",route="/v1/reports/triage",status="200"'
N = 40


def test_one_scrape_counts_the_requests_of_both_workers(tmp_path, model_dirs):
    home = tmp_path / "home"
    port = free_port()
    metrics_dir = home / "var" / "prometheus" / str(port)
    metrics_dir.mkdir(parents=True)
    stale = metrics_dir / "counter_99999.db"
    stale.write_bytes(b"left by an earlier run")  # cleaned at start: old counts must not leak
    key = "lt_metricstest_" + "x" * 24
    env = serve_env(home, model_dirs, LAPOR_BOOTSTRAP_ADMIN_KEY=key, LAPOR_ENV="development")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = serve_workers(env, port)
    base = f"http://127.0.0.1:{port}"
    try:

        def two_workers_ready():
            try:
                body = httpx.get(
                    f"{base}/readyz", headers={"X-API-Key": key}, timeout=30
                ).json()  # the worker detail needs an admin key (the public answer is the status)
            except httpx.TransportError:
                return None
            workers = body.get("workers", [])
            return workers if len(workers) == 2 and body["status"] == "ready" else None

        workers = wait_for(two_workers_ready, "two workers", timeout=180)
        assert not stale.exists()

        headers = {"X-API-Key": key}
        for _ in range(N):  # a new connection each: the kernel spreads them over both workers
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=headers)
                assert r.status_code == 200, r.text

        # both workers answered some of them: each wrote its own values file
        pids = {w["pid"] for w in workers}
        writers = {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("counter_*.db")}
        assert pids <= writers, (pids, writers)

        # and every scrape, whichever worker answers it, shows the total of both
        for _ in range(6):
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.get("/metrics")
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
            text = r.text
            assert metric(text, "lapor_http_requests_total", ROUTE) == N
            assert metric(text, "lapor_triage_reports_total") == N
            hist = 'method="POST",route="/v1/reports/triage",le="+Inf"'
            assert metric(text, "lapor_http_request_duration_seconds_bucket", hist) == N
            assert (
                metric(text, "lapor_http_request_duration_seconds_count", ROUTE.split(",status")[0])
                == N
            )
            assert "# TYPE lapor_http_request_duration_seconds histogram" in text
            rate = metric(text, "lapor_triage_abstain_rate")
            assert rate == metric(text, "lapor_triage_abstained_total") / N
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
