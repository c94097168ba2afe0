"""Bad input never yields a 500: each case is a 4xx naming the field and the reason."""

from __future__ import annotations

import pytest

from tests.service.conftest import AGENCY

OK_REPORT = {"id": "1", "judul": "Jalan rusak", "isi": "Jalan berlubang di Jalan Kenanga."}
OK_ITEM = {"report_text": "Lampu mati.", "reply_text": "Sudah kami perbaiki.", "agency": AGENCY}


def reports(*items) -> dict:
    return {"reports": list(items)}


TRIAGE_CASES = [
    ("empty isi", reports({**OK_REPORT, "isi": ""}), "reports[0].isi", "empty"),
    ("whitespace isi", reports({**OK_REPORT, "isi": " \n\t "}), "reports[0].isi", "whitespace"),
    (
        "html only",
        reports({**OK_REPORT, "judul": "", "isi": "<br/><p></p>"}),
        "reports[0].isi",
        "no text",
    ),
    (
        "too long",
        reports(OK_REPORT, {**OK_REPORT, "isi": "a" * 20_001}),
        "reports[1].isi",
        "over the limit",
    ),
    (
        "long title",
        reports({**OK_REPORT, "judul": "b" * 20_001}),
        "reports[0].judul",
        "over the limit",
    ),
    ("batch too big", reports(*[OK_REPORT] * 257), "reports", "limit of 256"),
    ("empty batch", reports(), "reports", "at least 1"),
    ("no reports", {}, "reports", "missing"),
    ("reports not a list", {"reports": OK_REPORT}, "reports", "valid list"),
    ("id as float", reports({**OK_REPORT, "id": 7.5}), "reports[0].id", "valid string"),
    ("id as bool", reports({**OK_REPORT, "id": True}), "reports[0].id", "valid string"),
    ("isi as list", reports({**OK_REPORT, "isi": ["a"]}), "reports[0].isi", "valid string"),
    ("missing isi", reports({"id": "1"}), "reports[0].isi", "missing"),
    (
        "unknown field",
        reports({**OK_REPORT, "pelapor": "Budi"}),
        "reports[0].pelapor",
        "unknown field",
    ),
    ("unknown top field", {**reports(OK_REPORT), "debug": True}, "debug", "unknown field"),
    ("top_k zero", {**reports(OK_REPORT), "top_k": 0}, "top_k", "greater than or equal to 1"),
    ("top_k string", {**reports(OK_REPORT), "top_k": "3"}, "top_k", "valid integer"),
    ("body is a list", [OK_REPORT], "body", "valid dictionary"),
    ("body is null", None, "body", ""),
]


@pytest.mark.parametrize("name, body, field, words", TRIAGE_CASES, ids=[c[0] for c in TRIAGE_CASES])
def test_bad_triage_input(client, live, name, body, field, words):
    r = client.post("/v1/reports/triage", json=body, headers=live.headers("pusat"))
    assert 400 <= r.status_code < 500, r.text
    errors = r.json()["detail"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


ASSESS_CASES = [
    ("empty reply", {"items": [{**OK_ITEM, "reply_text": ""}]}, "items[0].reply_text", "empty"),
    (
        "blank report",
        {"items": [{**OK_ITEM, "report_text": "  "}]},
        "items[0].report_text",
        "empty",
    ),
    (
        "no agency",
        {"items": [{k: v for k, v in OK_ITEM.items() if k != "agency"}]},
        "items[0].agency",
        "missing",
    ),
    (
        "long reply",
        {"items": [{**OK_ITEM, "reply_text": "x" * 20_001}]},
        "items[0].reply_text",
        "over the limit",
    ),
    ("batch too big", {"items": [OK_ITEM] * 257}, "items", "limit of 256"),
    ("unknown field", {"items": [{**OK_ITEM, "skor": 1}]}, "items[0].skor", "unknown field"),
    ("wrong type", {"items": [{**OK_ITEM, "agency": 12}]}, "items[0].agency", "valid string"),
]


@pytest.mark.parametrize("name, body, field, words", ASSESS_CASES, ids=[c[0] for c in ASSESS_CASES])
def test_bad_assess_input(client, live, name, body, field, words):
    r = client.post("/v1/replies/assess", json=body, headers=live.headers("admin"))
    assert 400 <= r.status_code < 500, r.text
    errors = r.json()["detail"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    "path", ["/v1/reports/triage", "/v1/replies/assess", "/v1/feedback", "/v1/replies"]
)
@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"{not json", "application/json"),
        (b'{"reports": [', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"", "application/json"),
        (b"reports=1", "application/x-www-form-urlencoded"),
        (b"hello", "text/plain"),
    ],
)
def test_invalid_json_is_4xx(client, live, path, content, content_type):
    r = client.post(
        path, content=content, headers={**live.headers("admin"), "content-type": content_type}
    )
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert detail[0]["field"] == "body", detail
    assert detail[0]["message"]


def test_body_over_the_size_limit_is_413(client, live):
    big = {"reports": [{**OK_REPORT, "isi": "a" * 19_000}] * 256}  # ~4.9 MB > 4 MB test limit
    r = client.post("/v1/reports/triage", json=big, headers=live.headers("pusat"))
    assert r.status_code == 413
    assert r.json()["detail"][0]["field"] == "body"


def test_unknown_path_and_method(client, live):
    assert client.get("/v1/nothing", headers=live.headers("admin")).status_code == 404
    assert client.get("/v1/reports/triage", headers=live.headers("admin")).status_code == 405
    r = client.delete("/v1/admin/keys/doesnotexist", headers=live.headers("admin"))
    assert r.status_code == 404 and "doesnotexist" in r.json()["detail"]


def test_bad_query_parameters(client, live):
    r = client.get("/v1/feedback/export", params={"since": "kemarin"}, headers=live.headers("ds"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "since"


@pytest.mark.parametrize(
    "path, body",
    [
        (
            "/v1/reports/triage",
            '{"reports": [{"id": "a\\ud800", "isi": "jalan \\udfff rusak\\u0000"}]}',
        ),
        (
            "/v1/feedback",
            '{"kind": "triage", "report_id": "x\\u0000", "isi": "jalan \\ud800 rusak", '
            '"decision": "overridden", "agency": "Dinas \\u0000PU"}',
        ),
        (
            "/v1/replies/assess",
            '{"items": [{"report_text": "a\\ud800", "reply_text": "sudah \\udfff", "agency": "X"}]}',
        ),
        ("/v1/replies", '{"replies": [{"reply_text": "\\ud800 teks \\u0000", "agency": "X"}]}'),
    ],
)
def test_lone_surrogates_and_nul_characters_are_not_a_500(client, live, path, body):
    """Valid JSON that no database or UTF-8 response can hold as is."""
    headers = {**live.headers("admin"), "content-type": "application/json"}
    r = client.post(path, content=body.encode(), headers=headers)
    assert r.status_code in (200, 201), r.text
