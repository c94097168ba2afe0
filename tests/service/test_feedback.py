"""POST /v1/feedback and GET /v1/feedback/export, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.service.conftest import AGENCY, OTHER_AGENCY

EXPORT_FIELDS = {
    "kind",
    "level",
    "report_id",
    "text",
    "report_type",
    "agency",
    "decision",
    "reply_text",
    "reply_label",
    "kecamatan",
    "kelurahan",
    "penerima",
    "created_at",
    "weight",
}


def triage_feedback(report_id: str, **over) -> dict:
    body = {
        "kind": "triage",
        "report_id": report_id,
        "judul": "Jalan berlubang",
        "isi": "Jalan di depan SDN 3 berlubang. Telepon 0812-3456-7890, surel andi@contoh.co.id",
        "decision": "overridden",
        "predicted_agency": OTHER_AGENCY,
        "agency": AGENCY,
        "report_type": "pengaduan",
    }
    body.update(over)
    return body


def reply_feedback(report_id: str, **over) -> dict:
    body = {
        "kind": "reply",
        "report_id": report_id,
        "report_text": "Lampu PJU mati di Jalan Melati.",
        "reply_text": "Terima kasih, akan kami tindak lanjuti. Info: 081298765432",
        "agency": AGENCY,
        "reply_label": "normatif",
        "decision": "accepted",
    }
    body.update(over)
    return body


def export(c: httpx.Client, live, **params) -> list[dict]:
    r = c.get("/v1/feedback/export", params=params, headers=live.headers("ds"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def test_feedback_is_stored_masked_and_exported(backend):
    live = backend
    rid = f"FB-{uuid.uuid4().hex[:8]}"
    with live.client() as c:
        r = c.post("/v1/feedback", json=triage_feedback(rid), headers=live.headers("pusat"))
        assert r.status_code == 201, r.text
        stored = r.json()
        assert stored["report_id"] == rid and stored["kind"] == "triage"
        r = c.post("/v1/feedback", json=reply_feedback(rid), headers=live.headers("instansi"))
        assert r.status_code == 201, r.text
        rows = [row for row in export(c, live) if row["report_id"] == rid]
    assert len(rows) == 2
    triage, reply = sorted(rows, key=lambda row: row["kind"] != "triage")
    for row in rows:
        assert set(row) == EXPORT_FIELDS
        assert row["weight"] == 1.0
        assert row["created_at"].endswith("+00:00")
    assert triage["kind"] == "triage" and triage["agency"] == AGENCY
    assert triage["level"] == "unit" and reply["level"] is None  # unit: the default level
    assert triage["decision"] == "overridden" and triage["report_type"] == "pengaduan"
    assert triage["text"].startswith("Jalan berlubang\n")
    assert "[TELEPON]" in triage["text"] and "[EMAIL]" in triage["text"]
    assert "0812" not in triage["text"] and "contoh.co.id" not in triage["text"]
    assert reply["reply_label"] == "normatif" and reply["text"] == "Lampu PJU mati di Jalan Melati."
    assert "[TELEPON]" in reply["reply_text"]


def test_export_filters(backend):
    live = backend
    with live.client() as c:
        rid = f"FX-q{uuid.uuid4().hex[:8]}"  # a letter first: an all-digit id would read as a phone number
        assert (
            c.post("/v1/feedback", json=reply_feedback(rid), headers=live.headers("admin"))
        ).status_code == 201
        replies = export(c, live, kind="reply")
        assert replies and all(row["kind"] == "reply" for row in replies)
        assert rid in {row["report_id"] for row in replies}
        assert export(c, live, since="2999-01-01T00:00:00Z") == []
        r = c.get("/v1/feedback/export", params={"kind": "x"}, headers=live.headers("ds"))
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "kind"


def test_twenty_concurrent_posts_are_all_stored(backend):
    live = backend
    batch = uuid.uuid4().hex[:8]
    ids = [f"C-{batch}-{i:02d}" for i in range(20)]

    def post(rid: str) -> int:
        with live.client() as c:
            body = triage_feedback(rid, decision="accepted", agency=AGENCY, predicted_agency=AGENCY)
            return c.post("/v1/feedback", json=body, headers=live.headers("pusat")).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(post, ids))
    assert codes == [201] * 20
    with live.client() as c:
        exported = {row["report_id"] for row in export(c, live)}
    assert set(ids) <= exported


def test_feedback_roles_and_agency_scope(backend):
    live = backend
    with live.client() as c:
        body = triage_feedback(f"R-{uuid.uuid4().hex[:6]}")
        assert c.post("/v1/feedback", json=body).status_code == 401
        assert c.post("/v1/feedback", json=body, headers=live.headers("ds")).status_code == 403
        # admin_instansi: rejecting a disposition addressed to its own agency is fine ...
        own = triage_feedback(
            f"R-{uuid.uuid4().hex[:6]}", predicted_agency=AGENCY, agency=OTHER_AGENCY
        )
        assert c.post("/v1/feedback", json=own, headers=live.headers("instansi")).status_code == 201
        # ... claiming another agency's disposition is not (test_feedback_authority.py)
        assert (
            c.post("/v1/feedback", json=body, headers=live.headers("instansi")).status_code == 403
        )
        # ... another agency's report is not
        other = triage_feedback("R-x", agency="Dinas Sosial", predicted_agency=OTHER_AGENCY)
        r = c.post("/v1/feedback", json=other, headers=live.headers("instansi"))
        assert r.status_code == 403
        r = c.post(
            "/v1/feedback",
            json=reply_feedback("R-y", agency=OTHER_AGENCY),
            headers=live.headers("instansi"),
        )
        assert r.status_code == 403
        # export: data_scientist and admin only
        assert c.get("/v1/feedback/export", headers=live.headers("pusat")).status_code == 403
        assert c.get("/v1/feedback/export", headers=live.headers("instansi")).status_code == 403
        assert c.get("/v1/feedback/export", headers=live.headers("admin")).status_code == 200
        assert c.get("/v1/feedback/export").status_code == 401


@pytest.mark.parametrize(
    "body, field, words",
    [
        (triage_feedback("x", decision="maybe"), "decision", "accepted"),
        (triage_feedback("x", decision="accepted"), "body", "differs from predicted_agency"),
        (triage_feedback("x", report_type="keluhan"), "report_type", "pengaduan"),
        (triage_feedback("x", isi="   "), "isi", "empty"),
        (reply_feedback("x", reply_label="bagus"), "reply_label", "normatif"),
        ({"kind": "pujian", "report_id": "x"}, "body", "unknown kind"),
        ({"report_id": "x"}, "body", "kind"),
        (triage_feedback("x", extra="y"), "extra", "unknown field"),
        (triage_feedback("x", weight=5), "weight", "unknown field"),
    ],
)
def test_bad_feedback_is_422_naming_the_field(client, live, body, field, words):
    r = client.post("/v1/feedback", json=body, headers=live.headers("admin"))
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_export_is_readable_by_the_training_loader(client, live, tmp_path):
    from lapor_triage.training.data import load_dataset

    rid = f"L-{uuid.uuid4().hex[:8]}"
    r = client.post("/v1/feedback", json=triage_feedback(rid), headers=live.headers("pusat"))
    assert r.status_code == 201, r.text
    r = client.get("/v1/feedback/export", params={"kind": "triage"}, headers=live.headers("ds"))
    path = tmp_path / "feedback.jsonl"
    path.write_text(r.text, encoding="utf-8")
    for task in ("agency", "report-type"):
        result = load_dataset([path], task=task)
        [mine] = [e for e in result.examples if e.id == rid]
        # masked: the mask is there AND the number and address are gone, in every example
        assert "[TELEPON]" in mine.text and "[EMAIL]" in mine.text, mine.text
        assert not any("3456" in e.text or "andi@" in e.text for e in result.examples)


def test_nul_and_lone_surrogates_are_stored_on_every_backend(backend):
    live = backend
    rid = f"NUL-{uuid.uuid4().hex[:6]}"
    body = (
        '{"kind": "triage", "report_id": "RID", "isi": "jalan\\u0000 rusak \\ud800", '
        '"decision": "overridden", "agency": "Dinas PU"}'
    ).replace("RID", rid)
    with live.client() as c:
        r = c.post(
            "/v1/feedback",
            content=body.encode(),
            headers={**live.headers("pusat"), "content-type": "application/json"},
        )
        assert r.status_code == 201, r.text
        [row] = [row for row in export(c, live) if row["report_id"] == rid]
    assert row["text"] == "jalan rusak ?"


def test_reply_export_is_readable_by_the_reply_loader(client, live, tmp_path):
    from lapor_triage.training import reply_data

    rid = f"RL-{uuid.uuid4().hex[:6]}"
    r = client.post("/v1/feedback", json=reply_feedback(rid), headers=live.headers("instansi"))
    assert r.status_code == 201
    r = client.get("/v1/feedback/export", headers=live.headers("ds"))  # both kinds
    path = tmp_path / "feedback.jsonl"
    path.write_text(r.text, encoding="utf-8")
    result = reply_data.load_replies([path])
    mine = [e for e in result.examples if e.meta.get("report_id") == rid or rid in e.id]
    assert mine and mine[0].label == "normatif"
    assert mine[0].meta.get("provenance") == "feedback"
