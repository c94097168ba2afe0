"""The disposition queue with both levels over real HTTP: a service with a disposition model and the
unit models of two regional governments. The queue shows the national disposition (instansi, kind,
region, evidence, abstain) and, for reports of a government whose unit model is loaded, the units;
decisions on either level are stored by ``store_feedback`` with their level, and the feedback
export carries it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from tests.service.test_console import csrf_of, sign_in, stored_queue
from tests.service.test_two_levels import LAMPU, SAMPIT, SURABAYA

HEADER = ["Tracking ID", "Judul Laporan", "Isi Laporan Awal", "Kecamatan", "Kelurahan"]
REPORTS = [
    ("T-1", "Lampu mati", LAMPU),
    ("T-2", "Klaim ditolak", SAMPIT),
    ("T-3", "Sampah", "sampah menumpuk di Jalan Kenanga sejak seminggu"),
]


def export_csv(penerima: str, reports=REPORTS) -> bytes:
    """A small LAPOR! "Laporan Ringkas" export of ``penerima`` (preamble, header, rows)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Judul Laporan", "", "Laporan Ringkas"])
    w.writerow(["Nama Instansi", "", penerima])
    w.writerow([])
    w.writerow(HEADER)
    for rid, judul, isi in reports:
        w.writerow([rid, judul, isi, "", ""])
    return out.getvalue().encode()


@pytest.fixture()
def console2(live_two_levels):
    return live_two_levels


def upload(client, penerima: str) -> tuple[str, str]:
    token = csrf_of(client.get("/console/antrean").text)
    r = client.post(
        "/console/antrean/unggah",
        data={"csrf": token},
        files={"berkas": ("ekspor.csv", export_csv(penerima), "text/csv")},
    )
    assert r.status_code == 200, r.text
    return token, r.text


def export_rows(live) -> list[dict]:
    with live.client() as c:
        r = c.get("/v1/feedback/export", headers=live.headers("ds"))
    return [json.loads(line) for line in r.text.splitlines()]


def test_both_levels_shown_labelled_and_decided(console2):
    with sign_in(console2, "pusat") as client:
        token, html = upload(client, SURABAYA)
        assert 'id="kol-disposisi"' in html and 'id="kol-unit"' in html
        assert html.count('<ol class="saran saran-disposisi">') == 3
        assert html.count('<ol class="saran saran-unit">') == 3  # Surabaya's unit model
        assert "Dinas Perhubungan Kota Semarang" in html and "bukti: " in html
        assert "Kota Semarang" in html and "BPJS Kesehatan KC Sampit" in html
        assert "Dinas Kebersihan dan Ruang Terbuka Hijau Kota Surabaya" in html
        assert (
            '<datalist id="instansi-dikenal">' in html and '<datalist id="unit-dikenal-0">' in html
        )
        rows = stored_queue(console2, client.cookies["lapor_console"]).rows
        lampu = rows[0].suggestion
        assert lampu["disposition"]["top_k"][0]["name"] == "Dinas Perhubungan Kota Semarang"
        assert lampu["disposition"]["top_k"][0]["region"] == "Kota Semarang"
        assert lampu["unit"]["model"] == f"agency@{SURABAYA}"
        assert lampu["confidence"] == lampu["disposition"]["top_k"][0]["probability"]
        decide = {"csrf": token, "baris": 0}
        r = client.post(
            "/console/antrean/keputusan", data={**decide, "tingkat": "disposisi", "aksi": "terima"}
        )
        assert r.status_code == 200 and "Diterima: Dinas Perhubungan Kota Semarang" in r.text
        r = client.post(
            "/console/antrean/keputusan",
            data={**decide, "tingkat": "unit", "aksi": "alihkan", "nama": "Dinas X Kota Surabaya"},
        )
        assert r.status_code == 200 and "Dialihkan: Dinas X Kota Surabaya" in r.text
        r = client.post(
            "/console/antrean/keputusan",
            data={
                "csrf": token,
                "baris": 1,
                "tingkat": "disposisi",
                "aksi": "alihkan",
                "nama": "BPJS Kesehatan KC Palangkaraya",
            },
        )
        assert r.status_code == 200
        xlsx = client.get("/console/antrean/unduh").content
    by = {(r["report_id"], r["level"]): r for r in export_rows(console2)}
    d = by[("T-1", "disposition")]
    assert d["decision"] == "accepted" and d["agency"] == "Dinas Perhubungan Kota Semarang"
    u = by[("T-1", "unit")]
    assert u["decision"] == "overridden" and u["agency"] == "Dinas X Kota Surabaya"
    assert by[("T-2", "disposition")]["agency"] == "BPJS Kesehatan KC Palangkaraya"
    assert by[("T-2", "disposition")]["decision"] == "overridden"

    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    values = [list(r) for r in wb.active.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(values) if r and r[0] == "Tracking ID")
    col = {name: values[at].index(name) for name in values[at] if name}
    first = values[at + 1]
    assert first[col["Saran Disposisi 1"]] == "Dinas Perhubungan Kota Semarang"
    assert (
        first[col["Wilayah 1"]] == "Kota Semarang" and "semarang" in first[col["Bukti Wilayah 1"]]
    )
    assert first[col["Keputusan Disposisi"]] == "diterima"
    assert first[col["Keputusan Unit"]] == "dialihkan"
    assert first[col["Unit Dipilih"]] == "Dinas X Kota Surabaya"
    assert first[col["Disposisi Ragu"]] in {"ya", "tidak"}


def test_without_a_unit_model_for_the_penerima_only_the_disposition_shows(console2):
    with sign_in(console2, "pusat") as client:
        _, html = upload(client, "Pemerintah Kota Solo")
        assert 'id="kol-disposisi"' in html and 'id="kol-unit"' not in html
        assert html.count('<ol class="saran saran-disposisi">') == 3
        assert '<ol class="saran saran-unit">' not in html


def test_disposition_feedback_over_the_api_and_who_may_give_it(console2):
    body = {
        "kind": "triage",
        "level": "disposition",
        "report_id": "API-1",
        "isi": "Lampu PJU mati di Semarang, hubungi saya di 081234567890",
        "decision": "overridden",
        "predicted_agency": "Dinas Pekerjaan Umum Kota Semarang",
        "agency": "Dinas Perhubungan Kota Semarang",
    }
    with console2.client() as c:
        r = c.post("/v1/feedback", json=body, headers=console2.headers("pusat"))
        assert r.status_code == 201, r.text
        # an agency's admin does not decide national dispositions
        body_instansi = {**body, "report_id": "API-2", "predicted_agency": "Dinas Perhubungan"}
        r = c.post("/v1/feedback", json=body_instansi, headers=console2.headers("instansi"))
        assert r.status_code == 403 and "level" in r.text
        r = c.post(
            "/v1/feedback", json={**body, "level": "nasional"}, headers=console2.headers("pusat")
        )
        assert r.status_code == 422
        only = c.get(
            "/v1/feedback/export", params={"level": "disposition"}, headers=console2.headers("ds")
        )
        units = c.get(
            "/v1/feedback/export", params={"level": "unit"}, headers=console2.headers("ds")
        )
    rows = [json.loads(line) for line in only.text.splitlines()]
    assert rows and {r["level"] for r in rows} == {"disposition"}
    api = next(r for r in rows if r["report_id"] == "API-1")
    assert "081234567890" not in api["text"]  # masked before it was stored
    assert all(json.loads(line)["level"] == "unit" for line in units.text.splitlines())


def test_the_queue_page_at_phone_width_is_the_same_html(console2, tmp_path: Path):
    """The level names are in every cell (shown when the table collapses on a phone)."""
    with sign_in(console2, "pusat") as client:
        _, html = upload(client, SURABAYA)
    assert html.count('<span class="level-name">Disposisi instansi</span>') == 3
    assert html.count('<span class="level-name">Unit</span>') == 3
