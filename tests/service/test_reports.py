"""POST /v1/reports/triage over real HTTP."""

from __future__ import annotations

import pytest

REPORT = {
    "id": "LAP-1",
    "judul": "Lampu lalu lintas mati",
    "isi": "Lampu lalu lintas di Jalan Melati mati sejak kemarin. Hubungi saya di 081234567890 "
    "atau budi.santoso@example.com, NIK 3578012345678901.",
    "kecamatan": "Wonokromo",
}


def test_triage_one_report(client, live):
    r = client.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=live.headers("pusat"))
    assert r.status_code == 200, r.text
    body = r.json()
    [result] = body["results"]
    assert result["id"] == "LAP-1"
    types = result["report_type"]
    assert set(types["probabilities"]) == {"pengaduan", "aspirasi", "permintaan_informasi"}
    assert types["label"] == max(types["probabilities"], key=types["probabilities"].get)
    assert abs(sum(types["probabilities"].values()) - 1) < 1e-3
    agency = result["agency"]
    assert agency["label"] == "Dinas Perhubungan"
    assert isinstance(agency["abstain"], bool)
    probs = [a["probability"] for a in agency["top_k"]]
    assert probs == sorted(probs, reverse=True)
    assert agency["top_k"][0]["agency"] == agency["label"]
    # the returned text is the masked text the models saw
    assert "[TELEPON]" in result["text"] and "[EMAIL]" in result["text"]
    assert "[NIK]" in result["text"]
    assert "081234567890" not in result["text"] and "example.com" not in result["text"]
    assert set(body["models"]) == {"report-type", "agency"}


def test_triage_batch_keeps_order_and_top_k(client, live):
    reports = [
        {"id": f"B{i}", "judul": "", "isi": text}
        for i, text in enumerate(
            [
                "Sampah menumpuk di Gang Mawar sudah seminggu tidak diangkut.",
                "Jalan berlubang di Jalan Kenanga membahayakan pengendara.",
                "Bagaimana cara mendaftar vaksin di puskesmas? Mohon informasinya.",
            ]
        )
    ]
    r = client.post(
        "/v1/reports/triage", json={"reports": reports, "top_k": 2}, headers=live.headers("admin")
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == ["B0", "B1", "B2"]
    assert all(len(x["agency"]["top_k"]) == 2 for x in results)
    assert results[0]["agency"]["label"] == "Dinas Lingkungan Hidup"
    assert results[1]["agency"]["label"] == "Dinas Pekerjaan Umum"
    assert results[2]["report_type"]["label"] == "permintaan_informasi"


def test_triage_html_is_cleaned(client, live):
    report = {
        "id": "H",
        "judul": "Pohon tumbang",
        "isi": "<p>Pohon tumbang</p><br/>di Jalan Merdeka",
    }
    r = client.post("/v1/reports/triage", json={"reports": [report]}, headers=live.headers("pusat"))
    assert r.status_code == 200
    assert "<p>" not in r.json()["results"][0]["text"]


@pytest.mark.parametrize("who", ["instansi", "ds"])
def test_triage_outside_role_is_403(client, live, who):
    r = client.post("/v1/reports/triage", json={"reports": [REPORT]}, headers=live.headers(who))
    assert r.status_code == 403
    assert "may not use triage" in r.json()["detail"]


def test_triage_without_or_with_bad_key_is_401(client):
    assert client.post("/v1/reports/triage", json={"reports": [REPORT]}).status_code == 401
    r = client.post(
        "/v1/reports/triage", json={"reports": [REPORT]}, headers={"X-API-Key": "lt_nope_nope"}
    )
    assert r.status_code == 401
    assert "invalid" in r.json()["detail"]


def test_bearer_token_is_accepted(client, live):
    r = client.post(
        "/v1/reports/triage",
        json={"reports": [REPORT]},
        headers={"Authorization": f"Bearer {live.keys['pusat']}"},
    )
    assert r.status_code == 200


def test_other_authorization_schemes_are_not_keys(client, live):
    for value in (f"Basic {live.keys['pusat']}", "Bearer", live.keys["pusat"]):
        r = client.post(
            "/v1/reports/triage", json={"reports": [REPORT]}, headers={"Authorization": value}
        )
        assert r.status_code == 401, value
        assert r.headers["www-authenticate"] == "Bearer"


def test_triage_is_documented_with_both_key_schemes(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/reports/triage"]["post"]
    assert operation["security"] == [{"APIKeyHeader": []}, {"HTTPBearer": []}]
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}
    assert operation["requestBody"]["content"]["application/json"]["schema"]


def test_concurrent_requests_get_their_own_results(live):
    """Requests batched together by the server are answered each with its own reports."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [
        ("Sampah menumpuk di Gang Mawar.", "Dinas Lingkungan Hidup"),
        ("Jalan berlubang di Jalan Kenanga.", "Dinas Pekerjaan Umum"),
        ("Lampu lalu lintas mati di Jalan Melati.", "Dinas Perhubungan"),
        ("Obat di puskesmas habis.", "Dinas Kesehatan"),
    ]

    def call(i: int) -> tuple[int, list[tuple[str, str]]]:
        reports = [{"id": f"{i}-{j}", "isi": texts[(i + j) % 4][0]} for j in range(1 + i % 3)]
        with live.client() as c:
            r = c.post(
                "/v1/reports/triage", json={"reports": reports}, headers=live.headers("pusat")
            )
        return i, [(x["id"], x["agency"]["label"]) for x in r.json()["results"]]

    with ThreadPoolExecutor(16) as pool:
        for i, got in pool.map(call, range(48)):
            expected = [(f"{i}-{j}", texts[(i + j) % 4][1]) for j in range(1 + i % 3)]
            assert got == expected
