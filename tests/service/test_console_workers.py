"""Console sessions served by several workers over real HTTP: the session (and its queue) lives in
the service database, so a browser whose requests land on another worker stays signed in.

Two service instances on one database (as the workers of ``serve --workers 2`` are; the test
picks which one answers each request), on SQLite and on PostgreSQL; and ``lapor-triage serve
--workers 2`` itself, where the kernel spreads new connections over the workers and the
per-process metrics files show that both served console pages."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import uuid
import zlib
from datetime import datetime, timedelta, timezone

import httpx
import openpyxl
import pytest
from sqlalchemy import select, update

from lapor_triage.service.console.sessions import COOKIE, SessionStore
from lapor_triage.service.tables import ApiKey, ConsoleSession
from tests.service.conftest import PG_URL, launch, make_settings, postgres_available
from tests.service.test_console import DEMO, csrf_of
from tests.service.test_replies import NORMATIF, REPORT, SUBSTANTIF
from tests.service.test_serve_cli import free_port, serve_env, serve_workers
from tests.service.test_workers import wait_for

PHONE = "081234567890"


def demo_with_a_phone() -> bytes:
    """The demo export with a phone number in its first report (must never be stored)."""
    text = DEMO.read_text(encoding="utf-8")
    marked = text.replace("ditunggu tindak lanjutnya", f"hubungi {PHONE} ditunggu tindak lanjutnya")
    assert marked != text
    return marked.encode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request, tmp_path, model_dirs, service_log):
    """Two service instances on one database: the workers of one service."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        reason = postgres_available()
        if reason:
            pytest.skip(reason)
        url, schema = PG_URL, f"lapor_workers_{uuid.uuid4().hex[:10]}"
    workers = [
        launch(make_settings(dict(model_dirs), url, database_schema=schema), service_log)
        for _ in range(2)
    ]
    yield workers
    for w in workers:
        w.stop()
    if schema:
        workers[0].state.db.drop_all()
    for w in workers:
        w.state.db.dispose()


def sign_in(client: httpx.Client, worker, key: str) -> None:
    """The sign-in form from one worker, posted to the other."""
    other = worker
    page = client.get(f"{other.url}/console/masuk")
    r = client.post(
        f"{worker.url}/console/masuk", data={"api_key": key, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 303 and COOKIE in client.cookies, r.text


def rows_of(db) -> list[ConsoleSession]:
    with db.session() as s:
        return list(s.scalars(select(ConsoleSession)))


def test_sign_in_on_one_worker_queue_and_decisions_on_both(pair):
    a, b = pair
    with httpx.Client(timeout=60) as c:  # cookies are per host, not per port: one browser
        sign_in(c, b, a.keys["pusat"])
        page = c.get(f"{a.url}/console/antrean")  # the other worker knows the session
        assert page.status_code == 200 and "Keluar" in page.text
        token = csrf_of(page.text)
        r = c.post(
            f"{b.url}/console/antrean/unggah",
            data={"csrf": token},
            files={"berkas": ("reports.csv", demo_with_a_phone(), "text/csv")},
        )
        assert r.status_code == 303, r.text
        page = c.get(f"{a.url}/console/antrean")  # the queue uploaded on b, served by a
        assert "reports.csv: 502 laporan" in page.text
        assert page.text.count('<ol class="saran saran-unit">') == 502

        decide = {"csrf": token, "tingkat": "unit"}
        r = c.post(
            f"{a.url}/console/antrean/keputusan", data={**decide, "baris": 0, "aksi": "terima"}
        )
        assert r.status_code == 303, r.text
        r = c.post(
            f"{b.url}/console/antrean/keputusan",
            data={**decide, "baris": 1, "aksi": "alihkan", "nama": "Dinas Kesehatan"},
        )
        assert r.status_code == 303, r.text
        page = c.get(f"{a.url}/console/antrean").text
        assert "Dialihkan: Dinas Kesehatan" in page and "Diterima: " in page

        r = c.get(f"{b.url}/console/antrean/unduh")
        assert r.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        header_at = next(i for i, v in enumerate(values) if v and v[0] == "Tracking ID")
        header = values[header_at]
        first, second = values[header_at + 1], values[header_at + 2]
        assert first[header.index("Keputusan Unit")] == "diterima"
        assert second[header.index("Keputusan Unit")] == "dialihkan"
        assert second[header.index("Unit Dipilih")] == "Dinas Kesehatan"
        # the texts went through mask_pii before they were stored (and so come back masked)
        assert PHONE not in json.dumps(values, default=str)
        assert "[TELEPON]" in first[header.index("Isi Laporan Awal")]

        # what the database holds: the id only as its hash, no phone number in the queue
        sid = c.cookies[COOKIE]
        [row] = rows_of(a.state.db)
        assert row.id_hash == hashlib.sha256(sid.encode()).hexdigest()
        assert sid not in json.dumps({k: str(v) for k, v in vars(row).items() if k != "queue"})
        assert row.key_id == a.state.keys.verify(a.keys["pusat"]).key_id
        assert row.role == "admin_pusat" and row.queue_rev == 1
        stored = zlib.decompress(row.queue).decode()
        assert PHONE not in stored and "[TELEPON]" in stored
        assert PHONE not in json.dumps(row.state)

        # signing out on a ends the session for b too, and deletes the row
        r = c.post(f"{a.url}/console/keluar", data={"csrf": token})
        assert r.status_code == 303
        c.cookies.set(COOKIE, sid, domain="127.0.0.1", path="/console")  # a copy of the cookie
        r = c.get(f"{b.url}/console/antrean")
        assert r.status_code == 303 and r.headers["location"] == "/console/masuk"
        assert rows_of(a.state.db) == []


def test_reply_check_again_on_the_other_worker_shows_what_changed(pair):
    a, b = pair
    with httpx.Client(timeout=60) as c:
        sign_in(c, a, a.keys["instansi"])
        token = csrf_of(c.get(f"{b.url}/console/cek").text)
        first = {"csrf": token, "laporan": REPORT, "tanggapan": NORMATIF}
        r = c.post(f"{a.url}/console/cek", data=first)
        assert r.status_code == 200 and 'id="vonis">Normatif</span>' in r.text
        r = c.post(f"{b.url}/console/cek", data={**first, "tanggapan": SUBSTANTIF})
        assert 'id="vonis">Substantif</span>' in r.text
        assert "Sebelumnya: <strong>Normatif</strong>" in r.text  # a's check, seen by b
        assert 'id="vonis">Substantif</span>' in c.get(f"{a.url}/console/cek").text


def test_a_revoked_key_ends_its_sessions_on_every_worker(pair):
    a, b = pair
    made = []
    for _ in range(2):
        with httpx.Client(timeout=60) as api:
            r = api.post(
                f"{a.url}/v1/admin/keys", json={"role": "admin_pusat"}, headers=a.headers("admin")
            )
            assert r.status_code == 201, r.text
            made.append(r.json())
    with httpx.Client(timeout=60) as c1, httpx.Client(timeout=60) as c2:
        sign_in(c1, a, made[0]["key"])
        sign_in(c2, b, made[1]["key"])
        assert c1.get(f"{b.url}/console/antrean").status_code == 200
        assert c2.get(f"{a.url}/console/antrean").status_code == 200
        # revoked through the API of b: its sessions are deleted at once
        r = httpx.delete(f"{b.url}/v1/admin/keys/{made[0]['key_id']}", headers=b.headers("admin"))
        assert r.status_code == 200, r.text
        assert made[0]["key_id"] not in {s.key_id for s in rows_of(a.state.db)}
        assert c1.get(f"{a.url}/console/antrean").headers["location"] == "/console/masuk"
        # revoked behind the service's back (another instance, a database edit): the key is
        # checked again on the next request, which ends the session and deletes its row
        a.state.db.write(
            lambda s: s.execute(
                update(ApiKey)
                .where(ApiKey.key_id == made[1]["key_id"])
                .values(revoked_at=datetime.now(timezone.utc))
            )
        )
        assert made[1]["key_id"] in {s.key_id for s in rows_of(a.state.db)}
        r = c2.get(f"{b.url}/console/antrean")
        assert r.status_code == 303 and r.headers["location"] == "/console/masuk"
        assert made[1]["key_id"] not in {s.key_id for s in rows_of(a.state.db)}


def test_idle_sessions_expire_and_are_cleaned_up(pair):
    a, b = pair
    db = a.state.db
    with httpx.Client(timeout=60) as c1, httpx.Client(timeout=60) as c2:
        sign_in(c1, a, a.keys["pusat"])
        sign_in(c2, a, a.keys["ds"])
        [stale] = [s.id_hash for s in rows_of(db) if s.role == "admin_pusat"]
        long_ago = datetime.now(timezone.utc) - timedelta(hours=9)
        db.write(
            lambda s: s.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id_hash == stale)
                .values(last_seen=long_ago, expires_at=long_ago + timedelta(hours=8))
            )
        )
        r = c1.get(f"{b.url}/console/antrean")  # more than 8 h idle: signed out, row deleted
        assert r.status_code == 303 and r.headers["location"] == "/console/masuk"
        assert stale not in {s.id_hash for s in rows_of(db)}
        assert c2.get(f"{b.url}/console/model").status_code == 200  # the other one lives on

        # expired rows nobody asks for again are deleted by the cleanup (and at every sign-in)
        db.write(
            lambda s: s.execute(
                update(ConsoleSession).values(expires_at=datetime.now(timezone.utc))
            )
        )
        assert SessionStore(db).cleanup() == 1
        assert rows_of(db) == []
        # a session in use moves its expiry forward (last seen written at most once a minute)
        sign_in(c2, b, a.keys["ds"])
        [live] = rows_of(db)
        assert live.expires_at.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc) + (
            timedelta(hours=7, minutes=59)
        )


def test_a_queue_over_the_size_cap_is_refused_with_a_message(pair):
    a, b = pair
    with httpx.Client(timeout=60) as c:
        sign_in(c, a, a.keys["pusat"])
        token = csrf_of(c.get(f"{a.url}/console/antrean").text)
        b.state.settings.console_queue_max_bytes = 2048
        try:
            r = c.post(
                f"{b.url}/console/antrean/unggah",
                data={"csrf": token},
                files={"berkas": ("reports.csv", DEMO.read_bytes(), "text/csv")},
            )
        finally:
            b.state.settings.console_queue_max_bytes = a.state.settings.console_queue_max_bytes
        assert r.status_code == 413
        assert "antrean terlalu besar untuk disimpan (502 laporan" in r.text
        assert (
            "LAPOR_CONSOLE_QUEUE_MAX_BYTES" in r.text and "Tidak ada data yang disimpan" in r.text
        )
        [row] = rows_of(a.state.db)
        assert row.queue is None and row.queue_rev == 0
        assert "502 laporan" not in c.get(f"{a.url}/console/antrean").text


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_serve_with_two_workers_keeps_the_session_and_the_queue(backend, tmp_path, model_dirs):
    """``lapor-triage serve --workers 2``: every request on a new connection (the kernel spreads
    them over both workers); the session and its queue hold on all of them, and both workers'
    metrics files show console pages they served."""
    home = tmp_path / "home"
    home.mkdir()
    extra = {}
    schema = None
    if backend == "postgres":
        reason = postgres_available()
        if reason:
            pytest.skip(reason)
        schema = f"lapor_serve_{uuid.uuid4().hex[:10]}"
        extra = {"LAPOR_DATABASE_URL": PG_URL, "LAPOR_DATABASE_SCHEMA": schema}
    key = "lt_consolews_" + "x" * 24
    port = free_port()
    env = serve_env(home, model_dirs, LAPOR_BOOTSTRAP_ADMIN_KEY=key, LAPOR_ENV="development")
    env.update(extra)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = serve_workers(env, port)
    base = f"http://127.0.0.1:{port}"
    cookies: dict[str, str] = {}

    def request(method: str, path: str, **kwargs) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60, cookies=cookies) as c:  # a new connection
            r = c.request(method, path, **kwargs)
            cookies.update({k: v for k, v in c.cookies.items()})
            return r

    try:

        def two_workers_ready():
            try:
                body = httpx.get(f"{base}/readyz", headers={"X-API-Key": key}, timeout=30).json()
            except httpx.TransportError:
                return None
            workers = body.get("workers", [])
            return workers if len(workers) == 2 and body["status"] == "ready" else None

        workers = wait_for(two_workers_ready, "two workers", timeout=180)
        page = request("GET", "/console/masuk")
        r = request("POST", "/console/masuk", data={"api_key": key, "csrf": csrf_of(page.text)})
        assert r.status_code == 303 and COOKIE in cookies, r.text
        token = csrf_of(request("GET", "/console/antrean").text)
        r = request(
            "POST",
            "/console/antrean/unggah",
            data={"csrf": token},
            files={"berkas": ("reports.csv", DEMO.read_bytes(), "text/csv")},
        )
        assert r.status_code == 303, r.text
        for i in range(12):
            page = request("GET", "/console/antrean")
            assert page.status_code == 200, (i, page.status_code)
            assert "reports.csv: 502 laporan" in page.text, i
            r = request(
                "POST",
                "/console/antrean/keputusan",
                data={"csrf": token, "tingkat": "unit", "baris": i, "aksi": "terima"},
            )
            assert r.status_code == 303, (i, r.text)
        page = request("GET", "/console/antrean").text
        assert page.count("Diterima: ") == 12  # no decision lost between the workers
        sheet = openpyxl.load_workbook(io.BytesIO(request("GET", "/console/antrean/unduh").content))
        assert sum(1 for row in sheet.active.iter_rows(values_only=True) if "diterima" in row) == 12

        # both workers served console pages (each worker writes its own metrics file)
        from prometheus_client.mmap_dict import MmapedDict

        served = set()
        for path in (home / "var" / "prometheus" / str(port)).glob("counter_*.db"):
            for key_json, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
                if '"/console/antrean"' in key_json and value > 0:
                    served.add(int(path.stem.rsplit("_", 1)[1]))
        assert {w["pid"] for w in workers} <= served, (workers, served)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if schema:
            from sqlalchemy import create_engine

            engine = create_engine(PG_URL)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
