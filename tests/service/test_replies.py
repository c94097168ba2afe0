"""POST /v1/replies/assess and POST /v1/replies (the reply bank) over real HTTP."""

from __future__ import annotations

import uuid

from tests.service.conftest import AGENCY, OTHER_AGENCY

REPORT = "Lampu PJU di Jalan Melati padam sejak seminggu dan jalan jadi gelap."
NORMATIF = "Terima kasih atas laporan Saudara, akan segera kami tindak lanjuti sesuai ketentuan."
SUBSTANTIF = (
    "Petugas UPT kami sudah memperbaiki lampu PJU padam di Jalan Melati pada Senin "
    "12 Februari 2024 pukul 09.00."
)


def assess(client, live, items, who="instansi"):
    return client.post("/v1/replies/assess", json={"items": items}, headers=live.headers(who))


def test_assess_normatif_and_substantif(client, live):
    items = [
        {"id": "n", "report_text": REPORT, "reply_text": NORMATIF, "agency": AGENCY},
        {"id": "s", "report_text": REPORT, "reply_text": SUBSTANTIF, "agency": AGENCY},
    ]
    r = assess(client, live, items)
    assert r.status_code == 200, r.text
    body = r.json()
    by_id = {x["id"]: x for x in body["results"]}
    assert by_id["n"]["label"] == "normatif"
    assert by_id["s"]["label"] == "substantif"
    for result in body["results"]:
        assert set(result["probabilities"]) == {"normatif", "substantif"}
        assert result["reasons"], "every verdict carries at least one reason code"
        assert 0.0 <= result["relevance"] <= 1.0
        for span in result["evidence"]:  # spans index the returned reply_text
            assert 0 <= span["start"] < span["end"] <= len(result["reply_text"])
            if span.get("text") is not None:
                assert result["reply_text"][span["start"] : span["end"]] == span["text"]
    assert body["models"]["reply-quality"]


def test_template_reuse_against_stored_replies(client, live):
    agency = f"Dinas Perhubungan {uuid.uuid4().hex[:6]}"  # a fresh bank for this test
    other = {"X-API-Key": live.keys["admin"]}
    template = "Terima kasih, laporan Saudara telah kami teruskan ke bidang terkait untuk dicek."
    r = client.post(
        "/v1/replies",
        json={
            "replies": [
                {"report_id": "R1", "reply_text": template, "agency": agency},
                {"report_id": "R2", "reply_text": SUBSTANTIF, "agency": agency},
            ]
        },
        headers=other,
    )
    assert r.status_code == 201 and r.json() == {"stored": 2}
    item = {"report_text": REPORT, "reply_text": template, "agency": agency}
    result = assess(client, live, [item], who="admin").json()["results"][0]
    assert result["bank_size"] == 2
    reuse = result["template_reuse"]
    assert reuse["similarity"] > 0.99 and reuse["reused"] is True
    # another agency's bank is not used
    item = {"report_text": REPORT, "reply_text": template, "agency": f"{agency} lain"}
    result = assess(client, live, [item], who="admin").json()["results"][0]
    assert result["bank_size"] == 0 and result["template_reuse"] is None


def test_instansi_only_for_own_agency(client, live):
    item = {"report_text": REPORT, "reply_text": NORMATIF, "agency": OTHER_AGENCY}
    r = assess(client, live, [item])
    assert r.status_code == 403
    assert "items[0].agency" in r.json()["detail"]
    # the same agency written differently is still the key's own agency
    item = {"report_text": REPORT, "reply_text": NORMATIF, "agency": "  dinas  PERHUBUNGAN "}
    assert assess(client, live, [item]).status_code == 200
    r = client.post(
        "/v1/replies",
        json={"replies": [{"reply_text": NORMATIF, "agency": OTHER_AGENCY}]},
        headers=live.headers("instansi"),
    )
    assert r.status_code == 403


def test_assess_roles(client, live):
    item = {"report_text": REPORT, "reply_text": NORMATIF, "agency": AGENCY}
    assert assess(client, live, [item], who="pusat").status_code == 403
    assert assess(client, live, [item], who="ds").status_code == 403
    assert assess(client, live, [item], who="admin").status_code == 200
    assert client.post("/v1/replies/assess", json={"items": [item]}).status_code == 401


def test_empty_reply_is_a_clear_4xx(client, live):
    for reply, message in [("   ", "empty or whitespace"), ("<p> </p>", "nothing to judge")]:
        item = {"report_text": REPORT, "reply_text": reply, "agency": AGENCY}
        r = assess(client, live, [item])
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["field"] == "items[0].reply_text"
        assert message in error["message"]
