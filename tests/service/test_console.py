"""The admin console (/console) over real HTTP against the running test service: sign-in,
CSRF, roles, the disposition queue (upload, decisions stored as feedback, .xlsx download) and the
reply check. The same flows run in a real browser in ``test_console_browser.py``."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openpyxl
import pytest

from lapor_triage.service.console.annotate import ADDED_COLUMNS, LaporExport
from lapor_triage.service.console.queue_store import decode
from lapor_triage.service.console.sessions import SessionStore
from tests.service.conftest import AGENCY
from tests.service.test_replies import NORMATIF, REPORT, SUBSTANTIF

DEMO = Path(__file__).resolve().parents[2] / "datasets" / "demo" / "reports.csv"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "every form carries a CSRF token"
    return match.group(1)


@contextmanager
def sign_in(live, who: str) -> Iterator[httpx.Client]:
    with live.client(follow_redirects=True) as client:
        page = client.get("/console/masuk")
        data = {"api_key": live.keys[who], "csrf": csrf_of(page.text)}
        r = client.post("/console/masuk", data=data)
        assert r.status_code == 200, r.text
        yield client


def feedback_rows(live) -> list[dict]:
    with live.client() as c:
        r = c.get("/v1/feedback/export", headers=live.headers("ds"))
        assert r.status_code == 200
        return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def test_wrong_key_is_refused_with_a_message(live):
    with live.client() as client:
        page = client.get("/console/masuk")
        assert page.status_code == 200
        assert 'type="password"' in page.text and '<label for="api_key"' in page.text
        r = client.post("/console/masuk", data={"api_key": "lt_wrong", "csrf": csrf_of(page.text)})
        assert r.status_code == 401
        assert "Kunci API salah atau sudah dicabut" in r.text
        assert "lapor_console" not in client.cookies


def test_sign_in_needs_the_forms_csrf_token(live):
    with live.client() as client:
        client.get("/console/masuk")
        r = client.post("/console/masuk", data={"api_key": live.keys["pusat"], "csrf": "forged"})
        assert r.status_code == 403
        assert "lapor_console" not in client.cookies


def test_session_cookie_is_httponly_strict_and_sign_out_ends_it(live):
    with live.client() as client:
        page = client.get("/console/masuk")
        r = client.post(
            "/console/masuk", data={"api_key": live.keys["pusat"], "csrf": csrf_of(page.text)}
        )
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "lapor_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        sid = client.cookies["lapor_console"]
        queue = client.get("/console/antrean")
        assert queue.status_code == 200
        # a POST without the session's CSRF token is refused
        assert client.post("/console/keluar", data={"csrf": "x"}).status_code == 403
        assert client.get("/console/antrean").status_code == 200
        out = client.post("/console/keluar", data={"csrf": csrf_of(queue.text)})
        assert out.status_code == 303 and out.headers["location"] == "/console/masuk"
    with live.client() as other:  # the old cookie no longer opens anything
        other.cookies.set("lapor_console", sid, path="/console")
        r = other.get("/console/antrean")
        assert r.status_code == 303 and r.headers["location"] == "/console/masuk"


def test_navigation_shows_only_what_the_role_may_use(live):
    with sign_in(live, "pusat") as client:
        html = client.get("/console/antrean").text
        assert 'href="/console/antrean"' in html
        assert 'href="/console/cek"' not in html and 'href="/console/model"' not in html
    with sign_in(live, "instansi") as client:
        html = client.get("/console/cek").text
        assert 'href="/console/cek"' in html and 'href="/console/antrean"' not in html
        assert AGENCY in html
        r = client.get("/console/antrean")
        assert r.status_code == 403 and "tidak dapat membuka" in r.text
        assert client.get("/console/model").status_code == 403


def stored_queue(live, sid: str) -> LaporExport:
    """The queue of the session with cookie ``sid``, as the database holds it."""
    state = live.state
    store = SessionStore(state.db)
    session = store.get(sid, state.keys.verify_digest)
    assert session is not None
    _, blob = store.load_queue(session)
    return decode(blob, session.data.get("decisions"))


def test_queue_upload_decide_download(live):
    before = len(feedback_rows(live))
    with sign_in(live, "pusat") as client:
        page = client.get("/console/antrean")
        token = csrf_of(page.text)
        r = client.post(
            "/console/antrean/unggah",
            data={"csrf": token},
            files={"berkas": ("reports.csv", DEMO.read_bytes(), "text/csv")},
        )
        assert r.status_code == 200, r.text
        assert "reports.csv: 502 laporan" in r.text
        assert r.text.count('<ol class="saran saran-unit">') == 502
        # no disposition model on this service: the unit level only, labelled as such
        assert 'id="kol-unit"' in r.text and 'id="kol-disposisi"' not in r.text
        assert '<datalist id="unit-dikenal-0">' in r.text and 'value="Dinas Kesehatan"' in r.text
        rows = stored_queue(live, client.cookies["lapor_console"]).rows
        first, second = rows[0], rows[1]
        assert first.suggestion["disposition"] is None
        assert len(first.suggestion["unit"]["top_k"]) == 3
        top1 = first.suggestion["unit"]["top_k"][0]["name"]
        other = next(
            a
            for a in ("Dinas Kesehatan", "Dinas Perhubungan")
            if a != second.suggestion["unit"]["top_k"][0]["name"]
        )
        decide = {"csrf": token, "tingkat": "unit"}
        r = client.post("/console/antrean/keputusan", data={**decide, "baris": 0, "aksi": "terima"})
        assert r.status_code == 200 and "Diterima: " + top1 in r.text
        # no disposition suggestion to decide on: refused, nothing stored
        r = client.post(
            "/console/antrean/keputusan",
            data={**decide, "tingkat": "disposisi", "baris": 1, "aksi": "terima"},
        )
        assert r.status_code == 422 and "tidak ada saran disposisi" in r.text
        r = client.post(
            "/console/antrean/keputusan",
            data={**decide, "baris": 1, "aksi": "alihkan", "nama": other},
        )
        assert r.status_code == 200 and "Dialihkan: " + other in r.text
        # sorting and filtering by confidence (server side; the JS only submits the form)
        low = client.get("/console/antrean", params={"urut": "naik", "min": "0.99"})
        shown = [float(x) for x in re.findall(r'data-confidence="([0-9.]+)"', low.text)]
        assert all(c >= 0.99 for c in shown)
        asc = client.get("/console/antrean", params={"urut": "naik"})
        conf = [float(x) for x in re.findall(r'data-confidence="([0-9.]+)"', asc.text)]
        assert conf == sorted(conf) and len(conf) == 502
        xlsx = client.get("/console/antrean/unduh")
        assert xlsx.status_code == 200
    new = feedback_rows(live)[before:]
    by_id = {row["report_id"]: row for row in new}
    assert by_id[first.report_id]["decision"] == "accepted"
    assert by_id[first.report_id]["agency"] == top1
    assert by_id[second.report_id]["decision"] == "overridden"
    assert by_id[second.report_id]["agency"] == other
    assert by_id[first.report_id]["penerima"] == "Pemerintah Kota Contoh"
    assert {row["level"] for row in new} == {"unit"}

    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    values = [list(r) for r in wb.active.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(values) if r and r[0] == "Tracking ID")
    header = values[header_at]
    assert header_at == 10  # the LAPOR! preamble is kept
    assert list(header[-len(ADDED_COLUMNS) :]) == list(ADDED_COLUMNS)
    data = values[header_at + 1 :]
    assert len(data) == 502
    col = {name: header.index(name) for name in ADDED_COLUMNS}
    assert data[0][col["Keputusan Unit"]] == "diterima" and data[0][col["Unit Dipilih"]] == top1
    assert data[1][col["Keputusan Unit"]] == "dialihkan" and data[1][col["Unit Dipilih"]] == other
    assert data[2][col["Keputusan Unit"]] is None and data[0][col["Keputusan Disposisi"]] is None
    assert data[0][col["Saran Unit 1"]] == top1 and 0 < data[0][col["Keyakinan Unit 1"]] <= 1
    assert data[0][col["Saran Disposisi 1"]] is None  # no disposition model


def test_a_broken_upload_names_file_row_and_column_and_stores_nothing(live, tmp_path):
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    broken = "\n".join([*lines[:13], lines[12]]) + "\n"  # row 14 repeats row 13's Tracking ID
    before = len(feedback_rows(live))
    with sign_in(live, "pusat") as client:
        token = csrf_of(client.get("/console/antrean").text)
        r = client.post(
            "/console/antrean/unggah",
            data={"csrf": token},
            files={"berkas": ("ekspor rusak.csv", broken.encode(), "text/csv")},
        )
        assert r.status_code == 422
        assert "Berkas ekspor rusak.csv, baris 14, kolom &#39;Tracking ID&#39;" in r.text
        assert "duplicate Tracking ID" in r.text and "Tidak ada data yang disimpan" in r.text
        assert '<ol class="saran' not in r.text
        r = client.post(
            "/console/antrean/unggah",
            data={"csrf": token},
            files={"berkas": ("catatan.txt", b"halo", "text/plain")},
        )
        assert r.status_code == 422 and "tidak didukung" in r.text
    assert len(feedback_rows(live)) == before


def test_paste_one_report(live):
    with sign_in(live, "pusat") as client:
        token = csrf_of(client.get("/console/antrean").text)
        r = client.post(
            "/console/antrean/tempel",
            data={"csrf": token, "judul": "Lampu padam", "isi": "Lampu PJU di Jalan Melati padam."},
        )
        assert r.status_code == 200
        assert "laporan tempel: 1 laporan" in r.text
        assert r.text.count('<ol class="saran saran-unit">') == 1


def test_reply_check_highlights_and_shows_what_changed(live):
    with sign_in(live, "instansi") as client:
        token = csrf_of(client.get("/console/cek").text)
        r = client.post(
            "/console/cek",
            data={"csrf": token, "laporan": REPORT, "tanggapan": NORMATIF, "instansi": "X"},
        )
        assert r.status_code == 200, r.text
        assert 'id="vonis">Normatif</span>' in r.text
        assert "<mark" in r.text
        assert "Alasan" in r.text and "peluang" in r.text and "Kesesuaian dengan laporan" in r.text
        assert 'id="perubahan"' not in r.text
        r = client.post(
            "/console/cek",
            data={"csrf": token, "laporan": REPORT, "tanggapan": SUBSTANTIF},
        )
        assert 'id="vonis">Substantif</span>' in r.text
        assert 'id="perubahan"' in r.text and "Sebelumnya: <strong>Normatif</strong>" in r.text


def test_reply_check_of_an_empty_draft_is_an_error_not_a_crash(live):
    with sign_in(live, "instansi") as client:
        token = csrf_of(client.get("/console/cek").text)
        r = client.post("/console/cek", data={"csrf": token, "laporan": REPORT, "tanggapan": " "})
        assert r.status_code == 422 and 'role="alert"' in r.text


def test_model_page_and_feedback_download(live):
    with sign_in(live, "ds") as client:
        html = client.get("/console/model").text
        assert "report-type" in html and "agency" in html and "reply-quality" in html
        r = client.get("/console/model/umpan-balik.jsonl")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        assert client.get("/console/antrean").status_code == 403


@pytest.mark.parametrize("name", ["console.css", "console.js"])
def test_assets_are_served_from_the_package(live, name):
    with live.client() as client:
        r = client.get(f"/console/static/{name}")
        assert r.status_code == 200 and len(r.content) > 200
        assert client.get("/console/static/..%2Fsessions.py").status_code == 404


def test_monev_per_agency_and_month_with_csv(live):
    from lapor_triage.service.auth import normalise_agency
    from tests.service.conftest import OTHER_AGENCY

    replies = [{"agency": AGENCY, "reply_text": NORMATIF, "report_id": f"m{i}"} for i in range(3)]
    other = [{"agency": OTHER_AGENCY, "reply_text": SUBSTANTIF, "report_id": "m9"}]
    with live.client() as c:
        for who, rows in (("instansi", replies), ("instansi_other", other)):
            r = c.post("/v1/replies", json={"replies": rows}, headers=live.headers(who))
            assert r.status_code == 201, r.text
    own, theirs = normalise_agency(AGENCY), normalise_agency(OTHER_AGENCY)
    with sign_in(live, "instansi") as client:
        html = client.get("/console/monev").text
        assert 'href="/console/monev"' in html and "<svg" in html and 'id="monev"' in html
        assert own in html and theirs not in html  # an agency admin sees its own agency only
        r = client.get("/console/monev", params={"instansi": OTHER_AGENCY, "format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        lines = r.text.splitlines()
        assert lines[0].startswith("agency,month,n_replies,n_normatif,share_normatif")
        agencies = {line.split(",")[0] for line in lines[1:]}
        assert agencies == {own}
        overall = next(line.split(",") for line in lines[1:] if line.split(",")[1] == "")
        n, n_normatif, share = int(overall[2]), int(overall[3]), float(overall[4])
        assert n >= 3 and 0 <= n_normatif <= n and share == pytest.approx(n_normatif / n, abs=1e-4)
    with sign_in(live, "ds") as client:
        html = client.get("/console/monev", params={"instansi": OTHER_AGENCY}).text
        assert theirs in html and own not in html.split('id="monev"')[1]
    with sign_in(live, "pusat") as client:
        assert client.get("/console/monev").status_code == 403
