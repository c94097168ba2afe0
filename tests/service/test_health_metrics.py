"""/healthz, /readyz, /metrics and the OpenAPI document."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.service.conftest import AGENCY


def test_healthz_and_readyz(client, live):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}  # the public answer
    r = client.get("/readyz", headers=live.headers("ds"))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["database"] == "ok"
    assert set(body["models"]) == {"report-type", "agency", "reply-quality"}
    assert body["missing_models"] == []


def metric(text: str, name: str, labels: str = "") -> float:
    """The value of the sample ``name{labels}`` in a scrape (the order of labels is free, as
    in Prometheus: prometheus_client writes ``le`` first)."""
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', labels))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == wanted:
                return sample.value
    raise AssertionError(f"{name}{{{labels}}} not in /metrics")


def test_metrics_count_requests_abstain_and_normatif(client, live):
    before = client.get("/metrics").text
    reports = [{"id": str(i), "isi": "Sampah menumpuk di Gang Mawar."} for i in range(3)]
    assert (
        client.post(
            "/v1/reports/triage", json={"reports": reports}, headers=live.headers("pusat")
        ).status_code
        == 200
    )
    item = {
        "report_text": "Lampu mati.",
        "reply_text": "Akan kami tindak lanjuti.",
        "agency": AGENCY,
    }
    assert (
        client.post(
            "/v1/replies/assess", json={"items": [item]}, headers=live.headers("instansi")
        ).status_code
        == 200
    )
    r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = r.text
    route = 'method="POST",route="/v1/reports/triage",status="200"'
    assert (
        metric(after, "lapor_http_requests_total", route)
        == (metric(before, "lapor_http_requests_total", route) if route in before else 0) + 1
    )
    assert (
        metric(after, "lapor_triage_reports_total")
        == metric(before, "lapor_triage_reports_total") + 3
    )
    hist = 'method="POST",route="/v1/reports/triage",le="+Inf"'
    assert metric(after, "lapor_http_request_duration_seconds_bucket", hist) >= 1
    assert "# TYPE lapor_http_request_duration_seconds histogram" in after
    rate = metric(after, "lapor_triage_abstain_rate")
    reports_total = metric(after, "lapor_triage_reports_total")
    abstained = metric(after, "lapor_triage_abstained_total")
    assert abs(rate - abstained / reports_total) < 1e-9
    normatif = metric(after, "lapor_replies_normatif_rate")
    assert 0 < normatif <= 1  # the reply above is normatif
    assert metric(after, "lapor_replies_assessed_total", 'label="normatif"') >= 1
    # unknown paths are counted under one label, not one per path
    client.get("/v1/no-such-path/12345")
    assert "/v1/no-such-path" not in client.get("/metrics").text


def test_openapi_documents_endpoints_with_indonesian_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/v1/reports/triage",
        "/v1/replies/assess",
        "/v1/feedback",
        "/v1/feedback/export",
        "/v1/models",
        "/v1/admin/reload",
        "/healthz",
        "/readyz",
        "/metrics",
    ]:
        assert path in paths, path
    text = str(spec)
    assert "Jalan berlubang" in text and "tindak lanjuti" in text
    assert "X-API-Key" in text
