"""``penerima`` (the instansi whose LAPOR! queue received a report) and the report's location over
real HTTP: triage hands them to the models, feedback stores them masked and exports them, the
export reads back into the training loader, and ``LAPOR_PENERIMA`` fills in a missing one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from lapor_triage.service.settings import Settings
from lapor_triage.service.tables import Feedback
from tests.service.conftest import AGENCY, OTHER_AGENCY, launch, make_settings
from tests.service.test_db_upgrade import OLD_ROW, make_old_database
from tests.service.test_feedback import export, reply_feedback, triage_feedback

DEFAULT_PENERIMA = "Pemerintah Kota Samarinda"


def capture_records(live, monkeypatch) -> dict[str, list[dict]]:
    """What each triage model is handed: its ``predict_records`` of the current model set is
    wrapped (the real model still answers)."""
    seen: dict[str, list[dict]] = {"report-type": [], "agency": []}
    models = live.state.store.current
    for task, records in seen.items():
        predictor = models.get(task).predictor
        original = predictor.predict_records

        def wrapped(batch, *args, _original=original, _records=records, **kwargs):
            _records.extend(dict(r) for r in batch)
            return _original(batch, *args, **kwargs)

        monkeypatch.setattr(predictor, "predict_records", wrapped)
    return seen


def triage(c, live, reports: list[dict]) -> list[dict]:
    r = c.post("/v1/reports/triage", json={"reports": reports}, headers=live.headers("pusat"))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def report(rid: str, **over) -> dict:
    body = {
        "id": rid,
        "judul": "Lampu PJU padam",
        "isi": "Lampu PJU padam di Jalan Melati sejak tiga hari.",
    }
    body.update(over)
    return body


def stored_row(live, report_id: str, kind: str) -> Feedback:
    """The row as it is in the database (not as the export shows it)."""
    query = select(Feedback).where(Feedback.report_id == report_id, Feedback.kind == kind)
    with live.state.db.session() as session:
        return session.scalars(query).one()


# --- triage ---------------------------------------------------------------------------------
def test_triage_hands_penerima_and_location_to_both_models(live, monkeypatch):
    assert live.state.settings.penerima is None  # the shared service has no default
    seen = capture_records(live, monkeypatch)
    reports = [
        report(
            "P-1",
            penerima="  Pemerintah   Kota Surabaya ",
            kecamatan="Wonokromo",
            kelurahan="Ngagel Rejo",
        ),
        report("P-2"),
        report("P-3", penerima="   "),
    ]
    with live.client() as c:
        results = triage(c, live, reports)
    assert [r["id"] for r in results] == ["P-1", "P-2", "P-3"]
    for task, records in seen.items():
        assert len(records) == 3, task
        first, second, third = records
        assert first["penerima"] == "Pemerintah Kota Surabaya", task
        assert (first["kecamatan"], first["kelurahan"]) == ("Wonokromo", "Ngagel Rejo")
        assert "penerima" not in second and "penerima" not in third, task


def test_triage_penerima_is_limited_and_documented(client, live):
    body = {"reports": [report("P-long", penerima="x" * 301)]}
    r = client.post("/v1/reports/triage", json=body, headers=live.headers("pusat"))
    assert r.status_code == 422, r.text
    assert any(e["field"] == "reports[0].penerima" for e in r.json()["detail"])
    spec = client.get("/openapi.json").json()
    report_in = spec["components"]["schemas"]["ReportIn"]
    prop = report_in["properties"]["penerima"]
    assert {"type": "string", "maxLength": 300} in prop["anyOf"]
    assert "LAPOR_PENERIMA" in prop["description"]
    request = spec["components"]["schemas"]["TriageRequest"]
    assert request["examples"][0]["reports"][0]["penerima"] == "Pemerintah Kota Surabaya"
    feedback_in = spec["components"]["schemas"]["TriageFeedback"]["properties"]
    assert {"kecamatan", "kelurahan", "penerima"} <= set(feedback_in)


def test_the_penerima_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("LAPOR_PENERIMA", raising=False)
    assert Settings().penerima is None
    monkeypatch.setenv("LAPOR_PENERIMA", "  Pemerintah  Kota Samarinda ")
    assert Settings().penerima == "Pemerintah Kota Samarinda"
    monkeypatch.setenv("LAPOR_PENERIMA", "   ")
    assert Settings().penerima is None


# --- feedback -------------------------------------------------------------------------------
def test_feedback_stores_and_exports_location_masked(backend):
    live = backend
    rid = f"LOC-{uuid.uuid4().hex[:8]}"
    body = triage_feedback(
        rid,
        kecamatan=" Wonokromo ",
        kelurahan="Ngagel Rejo (RT 3, hubungi 0812-3456-7890)",
        penerima="Pemerintah Kota Surabaya  cc andi@contoh.co.id",
    )
    with live.client() as c:
        r = c.post("/v1/feedback", json=body, headers=live.headers("pusat"))
        assert r.status_code == 201, r.text
        r = c.post("/v1/feedback", json=reply_feedback(rid), headers=live.headers("instansi"))
        assert r.status_code == 201, r.text
        rows = [row for row in export(c, live) if row["report_id"] == rid]
    triage_row, reply_row = sorted(rows, key=lambda row: row["kind"] != "triage")
    assert triage_row["kecamatan"] == "Wonokromo"
    assert triage_row["kelurahan"] == "Ngagel Rejo (RT 3, hubungi [TELEPON])"
    assert triage_row["penerima"] == "Pemerintah Kota Surabaya cc [EMAIL]"
    assert (reply_row["kecamatan"], reply_row["kelurahan"], reply_row["penerima"]) == (
        None,
        None,
        None,
    )
    # masked before it was stored, not only in the export
    row = stored_row(live, rid, "triage")
    assert "0812" not in row.kelurahan and "[TELEPON]" in row.kelurahan
    assert "contoh.co.id" not in row.penerima and "[EMAIL]" in row.penerima


def test_feedback_location_limits(client, live):
    for name, limit in (("kecamatan", 200), ("kelurahan", 200), ("penerima", 300)):
        body = triage_feedback("LIM", **{name: "x" * (limit + 1)})
        r = client.post("/v1/feedback", json=body, headers=live.headers("pusat"))
        assert r.status_code == 422, (name, r.text)
        assert any(e["field"] == name for e in r.json()["detail"]), r.json()


def test_export_round_trips_through_the_training_loader(client, live, tmp_path):
    from lapor_triage.training import data

    rid = f"RT-{uuid.uuid4().hex[:8]}"
    body = triage_feedback(
        rid,
        kecamatan="Gubeng",
        kelurahan="Airlangga",
        penerima="Pemerintah Kota Surabaya",
        agency="Kelurahan Airlangga",
        predicted_agency=AGENCY,
    )
    r = client.post("/v1/feedback", json=body, headers=live.headers("pusat"))
    assert r.status_code == 201, r.text
    plain = f"RT-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/v1/feedback",
        json=triage_feedback(plain, agency=OTHER_AGENCY),
        headers=live.headers("pusat"),
    )
    assert r.status_code == 201, r.text
    r = client.get("/v1/feedback/export", params={"kind": "triage"}, headers=live.headers("ds"))
    assert r.status_code == 200
    path = tmp_path / "feedback.jsonl"
    path.write_text(r.text, encoding="utf-8")

    result = data.load_dataset([path], "agency")
    by_id = {e.id: e for e in result.examples}
    ex = by_id[rid]
    assert ex.label == "Kelurahan Airlangga"
    assert ex.meta["provenance"] == "feedback"
    assert ex.meta["kecamatan"] == "Gubeng"
    assert ex.meta["kelurahan"] == "Airlangga"
    assert ex.meta["penerima"] == "Pemerintah Kota Surabaya"
    # a row without location has none in its meta (no "None" strings)
    assert not {"kecamatan", "kelurahan", "penerima"} & set(by_id[plain].meta)

    typed = {e.id: e for e in data.load_dataset([path], "report-type").examples}
    assert typed[rid].label == "pengaduan"
    assert typed[rid].meta["penerima"] == "Pemerintah Kota Surabaya"


# --- a deployment with LAPOR_PENERIMA, on a database made by an earlier release -----------
@pytest.fixture(scope="module")
def upgraded(tmp_path_factory, model_dirs, service_log):
    """The service with ``penerima`` set, started on an SQLite file whose feedback table has the
    first release's shape and one old row (``create_all`` upgrades it at start)."""
    home = tmp_path_factory.mktemp("old-db-home")
    url = f"sqlite:///{home / 'lapor.db'}"
    make_old_database(url, None)
    running = launch(make_settings(model_dirs, url, penerima=DEFAULT_PENERIMA), service_log)
    yield running
    running.stop()
    running.state.db.dispose()


def test_setting_fills_in_a_missing_penerima_for_triage(upgraded, monkeypatch):
    live = upgraded
    assert live.state.settings.penerima == DEFAULT_PENERIMA
    seen = capture_records(live, monkeypatch)
    reports = [
        report("D-1"),
        report("D-2", penerima=" "),
        report("D-3", penerima="Pemerintah Kabupaten Bandung"),
    ]
    with live.client() as c:
        triage(c, live, reports)
    for task, records in seen.items():
        assert [r.get("penerima") for r in records] == [
            DEFAULT_PENERIMA,
            DEFAULT_PENERIMA,
            "Pemerintah Kabupaten Bandung",
        ], task


def test_upgraded_database_keeps_old_feedback_and_stores_new(upgraded):
    live = upgraded
    with live.client() as c:
        own = triage_feedback(
            "U-own", penerima="Pemerintah Kabupaten Bandung", kecamatan="Baleendah"
        )
        assert c.post("/v1/feedback", json=own, headers=live.headers("pusat")).status_code == 201
        bare = triage_feedback("U-bare")
        assert c.post("/v1/feedback", json=bare, headers=live.headers("pusat")).status_code == 201
        rows = {row["report_id"]: row for row in export(c, live)}
    old = rows["OLD-1"]
    assert old["text"] == OLD_ROW["text"] and old["agency"] == OLD_ROW["agency"]
    assert old["weight"] == 2.0 and old["created_at"] == "2024-02-12T08:30:00+00:00"
    assert (old["kecamatan"], old["kelurahan"], old["penerima"]) == (None, None, None)
    assert rows["U-own"]["penerima"] == "Pemerintah Kabupaten Bandung"
    assert rows["U-own"]["kecamatan"] == "Baleendah"
    # a triage decision without its own penerima gets the deployment's, as triage did
    assert rows["U-bare"]["penerima"] == DEFAULT_PENERIMA
    assert rows["U-bare"]["kecamatan"] is None
