"""Issue 9, part 2 (and the service items of part 3): the service keeps its promises under
hostile input. Each test failed on the code before the fix; the probes that measure the same
things against a fresh server are in ``hostile_probes.py``."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import pytest

from lapor_triage.service.auth import Role
from lapor_triage.service.batcher import TriageBatcher
from lapor_triage.service.jsonbody import json_depth_over, parse_json_body
from lapor_triage.service.logs import escape_controls
from lapor_triage.service.schemas.common import clean_strings
from lapor_triage.text import mask_pii
from tests.service.conftest import AGENCY, OTHER_AGENCY, launch, make_settings
from tests.service.hostile_probes import chunked_upload, nested

REPORT = {"id": "1", "judul": "Jalan rusak", "isi": "Jalan berlubang di Jalan Kenanga."}


def new_lines(live, before: int) -> list[str]:
    """The log lines written since ``before`` (a size of the session log file). The access line
    is written after the answer is sent: wait for it (a bound on waiting, not on speed)."""
    deadline = time.monotonic() + 10
    while live.log_file.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # anything else the request logs
    with live.log_file.open("rb") as f:
        f.seek(before)
        return f.read().decode("utf-8").splitlines()


# --- 1. the body limit while the body streams; no key, no body read ------------------------


def test_a_chunked_body_without_a_key_is_refused_before_it_is_read(live, client):
    total = 3 * live.state.settings.max_body_bytes
    status, sent, head = chunked_upload(live.url, "/v1/reports/triage", {}, total)
    assert status == 401, head
    assert sent < total // 2, f"{sent} of {total} bytes sent before the answer"
    assert client.get("/healthz").status_code == 200


def test_a_chunked_body_over_the_limit_is_413_while_it_streams(live, client):
    total = 3 * live.state.settings.max_body_bytes
    status, sent, head = chunked_upload(
        live.url, "/v1/reports/triage", live.headers("admin"), total
    )
    assert status == 413, head
    assert sent < total, f"{sent} of {total} bytes sent before the answer"
    assert client.get("/healthz").status_code == 200
    # a streamed body under the limit still works
    body = b'{"reports": [{"id": "1", "isi": "Lampu PJU padam."}]}'

    def pieces():
        yield from (body[i : i + 7] for i in range(0, len(body), 7))

    r = client.post(
        "/v1/reports/triage",
        content=pieces(),
        headers={**live.headers("pusat"), "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text


def test_a_streamed_body_over_the_limit_names_the_field_and_limit(live, client):
    limit = live.state.settings.max_body_bytes

    def pieces():
        yield b'{"reports": [{"id": "1", "isi": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}]}'

    r = client.post(
        "/v1/reports/triage",
        content=pieces(),
        headers={**live.headers("pusat"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    detail = r.json()["detail"][0]
    assert detail["field"] == "body" and str(limit) in detail["message"]


def test_a_body_with_a_malformed_key_is_401_and_one_without_a_body_too(live, client):
    r = client.post("/v1/feedback", json={"kind": "triage"}, headers={"X-API-Key": "nope"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked API key"
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/models").status_code == 401


# --- 2. deep nesting -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [500, 990, 10_000])
def test_deeply_nested_json_is_a_clear_422_with_one_log_line(live, client, depth):
    before = live.log_file.stat().st_size
    r = client.post(
        "/v1/reports/triage",
        content=nested(depth),
        headers={**live.headers("pusat"), "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail == [
        {"field": "body", "message": "JSON nested deeper than 32 levels (the limit)"}
    ], detail
    lines = new_lines(live, before)
    assert len(lines) == 1 and "POST /v1/reports/triage 422" in lines[0], lines


def test_clean_strings_and_the_depth_check_do_not_recurse_without_bound():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than 64"):
        clean_strings(deep)
    assert json_depth_over(deep, 32)
    assert not json_depth_over({"reports": [{"id": "1", "tags": ["a"]}]}, 4)
    assert json_depth_over({"reports": [{"id": "1", "tags": ["a"]}]}, 3)
    assert parse_json_body(b'{"a": [1, {"b": "\\u0000"}]}') == {"a": [1, {"b": "\x00"}]}


# --- 3. since out of range -------------------------------------------------------------------


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_export_since_out_of_range_is_422_before_streaming(backend, since):
    with backend.client() as c:
        r = c.get("/v1/feedback/export", params={"since": since}, headers=backend.headers("ds"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == "since" and "years 1-9999" in detail["message"]


def test_export_since_at_the_edges_still_streams(backend):
    with backend.client() as c:
        for since in ("0001-01-01T00:00:00+00:00", "9999-12-31T09:59:59-14:00"):
            r = c.get("/v1/feedback/export", params={"since": since}, headers=backend.headers("ds"))
            assert r.status_code == 200, (since, r.text)


# --- 4. control characters in the path and query ---------------------------------------------


@pytest.mark.parametrize(
    "method, url, field, char",
    [
        ("DELETE", "/v1/admin/keys/k%00", "path", "U+0000"),
        ("DELETE", "/v1/admin/keys/k%1bx", "path", "U+001B"),
        ("GET", "/v1/feedback/export?kind=%00", "query", "U+0000"),
        ("GET", "/v1/feedback/export?since=2024-01-01%0a", "query", "U+000A"),
        ("GET", "/v1/models?x=%c2%85", "query", "U+0085"),
    ],
)
def test_control_characters_in_path_or_query_are_400(backend, method, url, field, char):
    with backend.client() as c:
        r = c.request(method, url, headers=backend.headers("admin"))
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == [
        {"field": field, "message": f"control character {char} in the {field} is not allowed"}
    ]


# --- 5. who may say what in triage feedback --------------------------------------------------


def triage(**over) -> dict:
    body = {
        "kind": "triage",
        "report_id": f"AUTH-{uuid.uuid4().hex[:8]}",
        "isi": "Lampu lalu lintas mati di Jalan Merdeka.",
        "decision": "overridden",
        "predicted_agency": AGENCY,
        "agency": OTHER_AGENCY,
    }
    body.update(over)
    return body


ALLOWED = [
    ("pusat", triage(predicted_agency="Dinas Sosial", agency="Dinas Pendidikan")),
    ("pusat", triage(predicted_agency=None)),
    ("admin", triage(predicted_agency=OTHER_AGENCY, agency="Dinas Sosial")),
    # the instansi the report was disposed to accepts it ...
    ("instansi", triage(decision="accepted", agency=AGENCY)),
    # ... or rejects it and names where it belongs (spelled differently: same agency)
    ("instansi", triage(predicted_agency="  dinas   PERHUBUNGAN ", agency=OTHER_AGENCY)),
]
REFUSED = [
    # claims a report disposed to another agency
    ("instansi", triage(predicted_agency=OTHER_AGENCY, agency=AGENCY)),
    # labels a disposition between two other agencies (issue 9, 2.5)
    ("instansi_other", triage(predicted_agency=AGENCY, agency="Dinas Kesehatan")),
    ("instansi", triage(predicted_agency="Dinas Sosial", agency=OTHER_AGENCY)),
    # no disposition named: only admin_pusat decides
    ("instansi", triage(predicted_agency=None, agency=AGENCY)),
]


@pytest.mark.parametrize("who, body", ALLOWED)
def test_triage_feedback_allowed(backend, who, body):
    with backend.client() as c:
        r = c.post("/v1/feedback", json=body, headers=backend.headers(who))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("who, body", REFUSED)
def test_triage_feedback_refused_with_a_clear_403(backend, who, body):
    with backend.client() as c:
        r = c.post("/v1/feedback", json=body, headers=backend.headers(who))
    assert r.status_code == 403, r.text
    message = r.json()["detail"]
    assert message.startswith("predicted_agency: an admin_instansi key gives triage feedback")
    assert "admin_pusat" in message


# --- 6. log forging --------------------------------------------------------------------------


def test_a_newline_in_the_path_cannot_forge_a_log_line(live, client):
    fake = "2026-12-05 12:50:00,000 INFO service.access: GET /v1/fake 200 1.0ms key=kadmin"
    before = live.log_file.stat().st_size
    r = client.get("/nope%0a" + fake.replace(" ", "%20"))
    assert 400 <= r.status_code < 500
    lines = new_lines(live, before)
    assert len(lines) == 1, lines
    assert "/nope\\x0a2026-12-05 12:50:00,000 INFO service.access" in lines[0]


def test_escape_sequences_nul_and_separators_reach_the_log_escaped(live, client):
    before = live.log_file.stat().st_size
    client.get("/nope%1b[31mred%00nul%e2%80%a8sep%0dcr%c2%85nel")
    text = "\n".join(new_lines(live, before))
    for raw in ("\x1b", "\x00", "\u2028", "\r", "\x85"):
        assert raw not in text
    assert "\\x1b[31mred\\x00nul\\u2028sep\\x0dcr\\x85nel" in text
    assert escape_controls("a\tb\x7f\u2029") == "a\\x09b\\x7f\\u2029"


# --- 7. ids echoed back are masked -----------------------------------------------------------


def test_triage_and_assess_mask_the_ids_they_echo(client, live):
    r = client.post(
        "/v1/reports/triage",
        json={"reports": [{**REPORT, "id": "LAP-081234567890"}]},
        headers=live.headers("pusat"),
    )
    assert r.status_code == 200, r.text
    echoed = r.json()["results"][0]["id"]
    assert echoed == mask_pii("LAP-081234567890") and "081234567890" not in echoed
    item = {"id": "andi@contoh.co.id", "report_text": "Lampu mati.", "reply_text": "Sudah."}
    r = client.post(
        "/v1/replies/assess",
        json={"items": [{**item, "agency": AGENCY}]},
        headers=live.headers("admin"),
    )
    assert r.status_code == 200, r.text
    echoed = r.json()["results"][0]["id"]
    assert echoed == mask_pii("andi@contoh.co.id") and "andi@" not in echoed


# --- 8. failed authentications are rate limited ----------------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory, model_dirs, service_log):
    url = f"sqlite:///{tmp_path_factory.mktemp('limited') / 'lapor.db'}"
    running = launch(make_settings(model_dirs, url, auth_failure_limit="5/minute"), service_log)
    yield running
    running.stop()


def test_failed_authentications_are_limited_per_address(limited):
    wrong = {"X-API-Key": "lt_kdeadbeef00_" + "x" * 24}
    with limited.client() as c:
        statuses = [c.get("/v1/models", headers=wrong).status_code for _ in range(5)]
        assert statuses == [401] * 5
        r = c.get("/v1/models", headers=wrong)
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "too many failed authentications" in r.json()["detail"]
        # a body without a key is refused the same way, before it is read
        r = c.post("/v1/reports/triage", json={"reports": [REPORT]})
        assert r.status_code == 429 and "retry-after" in r.headers
        # a valid key from the same address is served, and does not count
        for _ in range(3):
            assert c.get("/v1/models", headers=limited.headers("ds")).status_code == 200
    # another address is not affected (the loopback network is 127.0.0.0/8)
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=limited.url, transport=transport, timeout=30) as other:
        assert other.get("/v1/models", headers=wrong).status_code == 401


def test_a_bad_limit_setting_names_the_variable(model_dirs, tmp_path):
    from lapor_triage.service.main import create_app

    settings = make_settings(model_dirs, f"sqlite:///{tmp_path / 'x.db'}", auth_failure_limit="x")
    with pytest.raises(ValueError, match="LAPOR_AUTH_FAILURE_LIMIT"):
        create_app(settings, load_models=False)


# --- 9. bounded work per request; small requests keep flowing ---------------------------------


def test_triage_over_the_total_characters_is_413_naming_the_limit(client, live):
    many = [{**REPORT, "id": str(i), "isi": "jalan rusak " * 1800} for i in range(51)]
    r = client.post("/v1/reports/triage", json={"reports": many}, headers=live.headers("pusat"))
    assert r.status_code == 413, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == "reports" and "limit of 1000000" in detail["message"]
    item = {"report_text": "a " * 5000, "reply_text": "b " * 5000, "agency": AGENCY}
    r = client.post(
        "/v1/replies/assess", json={"items": [item] * 51}, headers=live.headers("admin")
    )
    assert r.status_code == 413 and r.json()["detail"][0]["field"] == "items"


def test_the_batcher_serves_a_small_request_before_a_large_one_ends(live):
    models = live.state.store.current
    batcher = TriageBatcher(max_reports=512, slice_chars=2_000)
    large = [{"text": f"lampu PJU padam nomor {i} " * 40} for i in range(60)]  # ~1,100 chars
    small = [{"text": "sampah menumpuk di Gang Mawar"}]
    finished: list[str] = []

    async def run(name, records):
        out = await batcher.predict(models, records, 3)
        finished.append(name)
        return out

    async def both():
        return await asyncio.gather(run("large", large), run("small", small))

    try:
        (large_types, large_agencies, *_), (small_types, *_) = asyncio.run(both())
    finally:
        batcher.stop()
    assert finished == ["small", "large"]
    # slicing changes nothing in the answers
    whole_types = models.get("report-type").predictor.predict_records(large)
    whole_agencies = models.get("agency").predictor.predict_records(large, top=3)
    assert [t["label"] for t in large_types] == [t["label"] for t in whole_types]
    assert [a["label"] for a in large_agencies] == [a["label"] for a in whole_agencies]
    assert len(small_types) == 1


# --- 10. /readyz ----------------------------------------------------------------------------


def test_readyz_detail_only_for_admin_or_data_scientist(client, live):
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/readyz", headers=live.headers("pusat")).json() == {"status": "ready"}
    for who in ("admin", "ds"):
        body = client.get("/readyz", headers=live.headers(who)).json()
        assert body["database"] == "ok" and "report-type" in body["models"], who
    assert (
        client.get("/readyz", headers={"X-API-Key": "lt_kdeadbeef00_" + "x" * 24}).status_code
        == 401
    )


# --- 11. the newcomer's items ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_local_assets(client, page):
    r = client.get(page)
    assert r.status_code == 200
    html = r.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
    assert len(urls) >= 2 and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "http://" not in html and "https://" not in html
    if page == "/docs":  # Swagger UI 5: it renders the OpenAPI 3.1 document FastAPI writes
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert 'PACKAGE_VERSION:"5.' in client.get("/docs-assets/swagger-ui-bundle.js").text


def test_integer_ids_are_taken_as_strings(backend):
    live = backend
    with live.client() as c:
        r = c.post(
            "/v1/reports/triage",
            json={"reports": [{**REPORT, "id": 7}]},
            headers=live.headers("pusat"),
        )
        assert r.status_code == 200 and r.json()["results"][0]["id"] == "7"
        number = uuid.uuid4().int % 10**9
        r = c.post("/v1/feedback", json=triage(report_id=number), headers=live.headers("pusat"))
        assert r.status_code == 201 and r.json()["report_id"] == str(number), r.text
        item = {"id": 5, "report_text": "Lampu mati.", "reply_text": "Sudah.", "agency": AGENCY}
        r = c.post("/v1/replies/assess", json={"items": [item]}, headers=live.headers("admin"))
        assert r.status_code == 200 and r.json()["results"][0]["id"] == "5"
        reply = {"report_id": 9, "reply_text": "Sudah kami perbaiki.", "agency": AGENCY}
        r = c.post("/v1/replies", json={"replies": [reply]}, headers=live.headers("instansi"))
        assert r.status_code == 201, r.text
        # null stays allowed where the id is optional (a 500 once, found by the fuzzer)
        r = c.post(
            "/v1/replies/assess",
            json={"items": [{**item, "id": None}]},
            headers=live.headers("admin"),
        )
        assert r.status_code == 200 and r.json()["results"][0]["id"] is None, r.text
        r = c.post(
            "/v1/replies",
            json={"replies": [{**reply, "report_id": None}]},
            headers=live.headers("instansi"),
        )
        assert r.status_code == 201, r.text
        r = c.post(
            "/v1/replies/assess",
            json={"items": [{**item, "id": "x" * 201}]},
            headers=live.headers("admin"),
        )
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "items[0].id", r.text


def test_key_errors_over_http_name_fields_not_cli_flags(client, live):
    r = client.post(
        "/v1/admin/keys", json={"role": "admin_instansi"}, headers=live.headers("admin")
    )
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "agency" and "--" not in detail["message"]
    assert "needs an agency" in detail["message"]
    r = client.post(
        "/v1/admin/keys", json={"role": "admin", "agency": AGENCY}, headers=live.headers("admin")
    )
    assert r.status_code == 422 and "--" not in r.text
    assert Role.admin_instansi.value == "admin_instansi"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_without_json_content_type_gets_a_clear_message(client, live, content_type):
    headers = live.headers("pusat")
    if content_type:
        headers["content-type"] = content_type
    r = client.post("/v1/reports/triage", content=b'{"reports": []}', headers=headers)
    assert r.status_code == 415, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == "body"
    assert detail["message"].startswith("send Content-Type: application/json")
    assert "valid dictionary" not in detail["message"]
