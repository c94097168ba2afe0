"""After the other service tests (file name sorts last): send personal data through every
endpoint, then scan the whole session's log and every database row for unmasked NIK, phone
numbers and e-mail addresses."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lapor_triage.service.tables import Base
from lapor_triage.text import contains_pii
from tests.service.conftest import AGENCY, postgres_available

NIK = "3578012345678901"
PHONE = "0812-3456-7890"
EMAIL = "siti.aminah@contoh.go.id"
PII = f"NIK {NIK}, HP {PHONE}, surel {EMAIL}"
# digests and random tokens, not text anybody wrote (a 64-hex digest can hold a digit run that
# reads as a phone number: console_sessions.id_hash did, in one fresh-clone run)
NOT_SCANNED = {"key_hash", "id_hash", "csrf"}


def send_personal_data(live) -> None:
    with live.client() as c:
        admin = live.headers("admin")
        report = {"id": f"ID {PHONE}", "judul": f"Jalan rusak {EMAIL}", "isi": PII,
                  "kecamatan": PHONE, "kelurahan": EMAIL, "kategori": NIK}  # fmt: skip
        assert c.post("/v1/reports/triage", json={"reports": [report]}, headers=admin).is_success
        item = {"id": NIK, "report_text": PII, "reply_text": f"Sudah kami hubungi di {PHONE}",
                "agency": AGENCY}  # fmt: skip
        assert c.post("/v1/replies/assess", json={"items": [item]}, headers=admin).is_success
        replies = {"replies": [{"report_id": NIK, "reply_text": PII, "agency": f"Dinas {EMAIL}"}]}
        assert c.post("/v1/replies", json=replies, headers=admin).is_success
        feedback = [
            {"kind": "triage", "report_id": NIK, "judul": EMAIL, "isi": PII,
             "decision": "overridden", "agency": f"Dinas {PHONE}", "predicted_agency": EMAIL},
            {"kind": "reply", "report_id": PHONE, "report_text": PII, "reply_text": PII,
             "agency": AGENCY, "reply_label": "normatif"},
        ]  # fmt: skip
        for body in feedback:
            assert c.post("/v1/feedback", json=body, headers=admin).status_code == 201
        key = {"role": "admin_instansi", "agency": f"Dinas {PHONE}", "name": EMAIL}
        assert c.post("/v1/admin/keys", json=key, headers=admin).status_code == 201
        # rejected input and odd paths are logged too
        c.post("/v1/reports/triage", json={"reports": [{**report, NIK: EMAIL}]}, headers=admin)
        c.post("/v1/feedback", content=f"{{{PII}".encode(), headers=admin)
        c.delete(f"/v1/admin/keys/{PHONE}", headers=admin)
        c.get(f"/v1/nothing/{EMAIL}", headers={"X-API-Key": PII})
        c.get("/v1/feedback/export", params={"since": NIK}, headers=admin)
        assert c.get("/v1/feedback/export", headers=admin).is_success


def leaks_in_database(db) -> list[str]:
    found = []
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if column in NOT_SCANNED or not isinstance(value, str | dict | list):
                        continue  # timestamps and numbers are not text anybody wrote
                    text = (
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    )
                    if contains_pii(text):
                        found.append(f"{table.name}.{column}: {text[:120]!r}")
    return found


def test_no_unmasked_personal_data_in_logs_or_database(live, request):
    send_personal_data(live)
    databases = [live.state.db]
    if postgres_available() is None:
        pg = request.getfixturevalue("live_pg")
        send_personal_data(pg)
        databases.append(pg.state.db)

    leaks = [f"{db.url.split(':')[0]} {leak}" for db in databases for leak in leaks_in_database(db)]
    assert leaks == []

    log_text = live.log_file.read_text(encoding="utf-8")
    assert "service.access" in log_text, "the scan must see the service's log"
    assert "/v1/admin/keys/[TELEPON]" in log_text  # the path with a phone number, masked
    leaking_lines = [line for line in log_text.splitlines() if contains_pii(line)]
    assert leaking_lines == []
    # the stored text really went through (masked), so the scan had something to look at
    with live.state.db.session() as session:
        from lapor_triage.service.tables import Feedback

        texts = [t for t in session.scalars(select(Feedback.text)) if "[NIK]" in t]
    assert texts, "the personal data sent above was stored masked"


@pytest.mark.parametrize("text", [NIK, PHONE, EMAIL])
def test_the_scan_would_see_a_leak(text):
    assert contains_pii(f"prefix {text} suffix")
