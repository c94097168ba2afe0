"""The admin console at ``/console``: server-rendered pages (Jinja2) over the same functions as
the API: triage through the service's batcher, reply checks through ``POST /v1/replies/assess``'s
function, decisions through ``store_feedback`` (``POST /v1/feedback``), the key check of
:mod:`lapor_triage.service.deps`.

Every POST carries the session's CSRF token (the sign-in form a double-submit cookie), and the
session cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import io
import logging
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from lapor_triage.errors import DataError
from lapor_triage.jsonl import json_line
from lapor_triage.service.auth import Permission, Principal, Role
from lapor_triage.service.console.annotate import (
    LaporExport,
    annotate,
    paste_export,
    read_export,
    write_xlsx,
)
from lapor_triage.service.console.sessions import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    Session,
    SessionStore,
    same_token,
)
from lapor_triage.service.deps import AppState, _principal
from lapor_triage.service.errors import InputError
from lapor_triage.service.routers.feedback import export_row, store_feedback
from lapor_triage.service.routers.replies import assess
from lapor_triage.service.schemas.feedback import TriageFeedback
from lapor_triage.service.schemas.replies import AssessRequest

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
UPLOAD_SUFFIXES = {".xlsx", ".csv"}
TRIAGE_CHUNK = 256

router = APIRouter(prefix="/console", include_in_schema=False)

REASON_TEXT = {
    "ucapan_terima_kasih_saja": "Hanya ucapan terima kasih, tanpa isi tindak lanjut",
    "janji_tanpa_rincian": "Janji akan ditindaklanjuti tanpa rincian (apa, kapan, siapa)",
    "diteruskan_tanpa_hasil": "Hanya menyebut laporan diteruskan, tanpa hasil",
    "sudah_ditindaklanjuti_tanpa_isi": "Menyatakan sudah ditindaklanjuti tanpa menjelaskan isinya",
    "aturan_umum": "Mengutip aturan umum tanpa menerapkannya pada laporan ini",
    "arahan_umum": "Arahan umum (misalnya 'silakan datang ke kantor') tanpa langkah nyata",
    "tidak_relevan": "Tidak menjawab pokok laporan",
    "tindakan_konkret": "Menyebut tindakan nyata yang sudah atau akan dilakukan",
    "jadwal": "Menyebut jadwal atau tanggal",
    "hasil_verifikasi": "Menyampaikan hasil pemeriksaan atau verifikasi lapangan",
    "informasi_diminta": "Memberikan informasi yang diminta pelapor",
    "keputusan_beralasan": "Menyampaikan keputusan beserta alasannya",
    "permintaan_data_spesifik": "Meminta data tertentu yang dibutuhkan untuk menindaklanjuti",
}
TYPE_TEXT = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan Informasi",
}


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    permission: Permission

    def allowed(self, principal: Principal) -> bool:
        return principal.can(self.permission)


# Monev is read by the agencies' admins (their own agency), the data scientists and admins: the
# roles holding either of these permissions.
MONEV_PERMISSIONS = (Permission.assess, Permission.models)


@dataclass(frozen=True)
class MonevPage(Page):
    def allowed(self, principal: Principal) -> bool:
        return any(principal.can(p) for p in MONEV_PERMISSIONS)


PAGES = (
    Page("/console/antrean", "Antrean disposisi", Permission.triage),
    Page("/console/cek", "Cek tindak lanjut", Permission.assess),
    MonevPage("/console/monev", "Monev", Permission.assess),
    Page("/console/model", "Model", Permission.models),
)
ROLE_TEXT = {
    Role.admin_pusat: "Admin Pusat",
    Role.admin_instansi: "Admin Instansi",
    Role.data_scientist: "Data Scientist",
    Role.admin: "Administrator",
}


_STORE_LOCK = threading.Lock()


def sessions_of(request: Request) -> SessionStore:
    """The console sessions of this app (one store per app, made on first use)."""
    state: AppState = request.app.state.lapor
    store = getattr(state, "console_sessions", None)
    if store is None:
        with _STORE_LOCK:
            store = getattr(state, "console_sessions", None)
            if store is None:
                store = SessionStore()
                state.console_sessions = store  # type: ignore[attr-defined]
    return store


class NotSignedIn(Exception):
    pass


async def current(request: Request) -> Session:
    """The signed-in session, its key checked again by the service's key check (a revoked key
    ends the session)."""
    store = sessions_of(request)
    session = store.get(request.cookies.get(COOKIE))
    if session is None:
        raise NotSignedIn
    try:
        session.principal = await _principal(request, request.app.state.lapor, session.key)
    except HTTPException:
        store.end(session.sid)
        raise NotSignedIn from None
    return session


def _to_login() -> RedirectResponse:
    response = RedirectResponse("/console/masuk", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def render(
    request: Request,
    name: str,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    nav = []
    if session is not None:
        nav = [p for p in PAGES if p.allowed(session.principal)]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "principal": session.principal if session else None,
            "role_text": ROLE_TEXT.get(session.principal.role) if session else None,
            "nav": nav,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


async def guarded(
    request: Request, permission: Permission | tuple[Permission, ...] | None
) -> Session | Response:
    """The session when signed in and allowed (any of the permissions); else a redirect to
    sign-in, or a 403 page."""
    try:
        session = await current(request)
    except NotSignedIn:
        return _to_login()
    wanted = (permission,) if isinstance(permission, Permission) else permission
    if wanted and not any(session.principal.can(p) for p in wanted):
        return render(
            request,
            "forbidden.html",
            session,
            status_code=403,
            title="Akses ditolak",
        )
    return session


def _check_csrf(session: Session, token: str | None) -> None:
    if not same_token(token, session.csrf):
        raise HTTPException(403, "CSRF token missing or wrong")


def _set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )


# ================================================================== sign-in / sign-out ======


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    try:
        session = await current(request)
    except NotSignedIn:
        return _to_login()
    pages = [p for p in PAGES if p.allowed(session.principal)]
    if pages:
        return RedirectResponse(pages[0].path, status_code=303)
    return render(request, "forbidden.html", session, status_code=403, title="Akses ditolak")


@router.get("/masuk")
async def login_page(request: Request) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, title="Masuk", csrf=token)
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/masuk")
async def login(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        error = "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi."
        return _login_error(request, error, 403)
    key = api_key.strip()
    try:
        principal: Principal = await _principal(request, request.app.state.lapor, key)
    except HTTPException:
        return _login_error(request, "Kunci API salah atau sudah dicabut.", 401)
    session = sessions_of(request).create(key, principal)
    log.info("console sign-in: key %s (%s)", principal.key_id, principal.role.value)
    response = RedirectResponse("/console", status_code=303)
    _set_cookie(response, request, COOKIE, session.sid)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


def _login_error(request: Request, message: str, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status, title="Masuk", csrf=token, error=message)
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/keluar")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    store = sessions_of(request)
    session = store.get(request.cookies.get(COOKIE))
    if session is not None:
        _check_csrf(session, csrf)
        store.end(session.sid)
    return _to_login()


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, "not found")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])


# ================================================================== antrean disposisi ======


def _queue_view(export: LaporExport | None, sort: str, minimum: float) -> list[dict]:
    if export is None:
        return []
    rows = []
    for i, row in enumerate(export.rows):
        s = row.suggestion or {}
        top = s.get("top_k") or []
        confidence = top[0]["probability"] if top else 0.0
        if confidence < minimum:
            continue
        rows.append(
            {
                "index": i,
                "row": row,
                "type": TYPE_TEXT.get(s.get("report_type", ""), s.get("report_type", "")),
                "top": top,
                "confidence": confidence,
                "abstain": bool(s.get("abstain")),
            }
        )
    if sort == "naik":
        rows.sort(key=lambda r: r["confidence"])
    elif sort == "turun":
        rows.sort(key=lambda r: -r["confidence"])
    return rows


def _queue_page(
    request: Request, session: Session, status_code: int = 200, **context: Any
) -> Response:
    state: AppState = request.app.state.lapor
    params = request.query_params
    sort = params.get("urut", "")
    try:
        minimum = max(0.0, min(1.0, float(params.get("min", "0") or 0)))
    except ValueError:
        minimum = 0.0
    export = session.data.get("queue")
    agency_model = state.store.current.get("agency")
    known = sorted(agency_model.labels) if agency_model else []
    return render(
        request,
        "queue.html",
        session,
        status_code,
        title="Antrean disposisi",
        export=export,
        rows=_queue_view(export, sort, minimum),
        sort=sort,
        minimum=minimum,
        known_agencies=known,
        decided=sum(1 for r in export.rows if r.decision) if export else 0,
        **context,
    )


@router.get("/antrean")
async def queue(request: Request) -> Response:
    session = await guarded(request, Permission.triage)
    if isinstance(session, Response):
        return session
    return _queue_page(request, session)


async def _triage(state: AppState, export: LaporExport) -> LaporExport:
    """Suggestions for every row, through the service's micro-batcher (as the triage route)."""
    models = state.store.current
    if models.get("report-type") is None or models.get("agency") is None:
        raise DataError("model jenis laporan atau instansi belum dimuat (lihat /readyz)")
    records = [r.record for r in export.rows]
    types: list[dict] = []
    agencies: list[dict] = []
    for start in range(0, len(records), TRIAGE_CHUNK):
        t, a, _, _ = await state.batcher.predict(models, records[start : start + TRIAGE_CHUNK], 3)
        types += t
        agencies += a
    export.models = {
        "report-type": models.get("report-type").version,
        "agency": models.get("agency").version,
    }
    return annotate(export, types, agencies)


@router.post("/antrean/unggah")
async def upload(
    request: Request,
    berkas: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = await guarded(request, Permission.triage)
    if isinstance(session, Response):
        return session
    _check_csrf(session, csrf)
    state: AppState = request.app.state.lapor
    name = Path(berkas.filename or "berkas").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return _queue_page(
            request,
            session,
            422,
            error=f"Berkas {name}: format {suffix or '(tanpa ekstensi)'} tidak didukung; "
            "unggah ekspor LAPOR! .xlsx atau .csv.",
        )
    with tempfile.TemporaryDirectory(prefix="lapor-console-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(await berkas.read())
        try:
            export = read_export(path, name, penerima=state.settings.penerima)
        except DataError as exc:
            return _queue_page(request, session, 422, error=_data_error_text(exc, name))
    try:
        session.data["queue"] = await _triage(state, export)
    except DataError as exc:
        return _queue_page(request, session, 503, error=str(exc))
    return RedirectResponse("/console/antrean", status_code=303)


def _data_error_text(exc: DataError, name: str) -> str:
    parts = [f"Berkas {exc.file or name}"]
    if exc.row is not None:
        parts.append(f"baris {exc.row}")
    if exc.column:
        parts.append(f"kolom {exc.column!r}")
    message = str(exc).split(": ", 1)[1] if exc.file and ": " in str(exc) else str(exc)
    return f"{', '.join(parts)}: {message}. Tidak ada data yang disimpan."


@router.post("/antrean/tempel")
async def paste(
    request: Request,
    judul: Annotated[str, Form()] = "",
    isi: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = await guarded(request, Permission.triage)
    if isinstance(session, Response):
        return session
    _check_csrf(session, csrf)
    state: AppState = request.app.state.lapor
    try:
        export = paste_export(judul, isi, penerima=state.settings.penerima)
        session.data["queue"] = await _triage(state, export)
    except DataError as exc:
        return _queue_page(request, session, 422, error=f"Laporan tempel: {exc}")
    return RedirectResponse("/console/antrean", status_code=303)


@router.post("/antrean/keputusan")
async def decide(
    request: Request,
    baris: Annotated[int, Form()],
    aksi: Annotated[str, Form()],
    instansi: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = await guarded(request, Permission.feedback)
    if isinstance(session, Response):
        return session
    _check_csrf(session, csrf)
    export: LaporExport | None = session.data.get("queue")
    if export is None or not 0 <= baris < len(export.rows):
        return _queue_page(request, session, 404, error="Baris antrean tidak ditemukan.")
    row = export.rows[baris]
    s = row.suggestion or {}
    predicted = s["top_k"][0]["agency"] if s.get("top_k") else None
    if aksi == "terima":
        agency, decision = predicted, "accepted"
    elif aksi == "alihkan":
        agency = " ".join(instansi.split())
        decision = "accepted" if agency.casefold() == (predicted or "").casefold() else "overridden"
    else:
        return _queue_page(request, session, 422, error=f"Aksi tidak dikenal: {aksi!r}.")
    if not agency:
        return _queue_page(
            request,
            session,
            422,
            error=f"Baris {row.row} ({row.report_id}): isi nama instansi tujuan untuk dialihkan.",
        )
    try:
        body = TriageFeedback(
            kind="triage",
            report_id=row.report_id,
            judul=row.judul,
            isi=row.isi or row.judul,
            decision=decision,
            agency=agency,
            predicted_agency=predicted,
            report_type=s.get("report_type"),
            kecamatan=row.record.get("kecamatan"),
            kelurahan=row.record.get("kelurahan"),
            penerima=row.record.get("penerima"),
        )
        state: AppState = request.app.state.lapor
        await run_in_threadpool(store_feedback, body, session.principal, state)
    except (ValidationError, InputError, HTTPException) as exc:
        return _queue_page(
            request, session, 422, error=f"Baris {row.row} ({row.report_id}): {_why(exc)}"
        )
    row.decision, row.decided_agency = decision, agency
    return RedirectResponse(f"/console/antrean#baris-{baris}", status_code=303)


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, InputError):
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return str(exc)


@router.get("/antrean/unduh")
async def download(request: Request) -> Response:
    session = await guarded(request, Permission.triage)
    if isinstance(session, Response):
        return session
    export: LaporExport | None = session.data.get("queue")
    if export is None:
        return _queue_page(request, session, 404, error="Belum ada antrean untuk diunduh.")
    buffer = io.BytesIO()
    write_xlsx(export, buffer)
    stem = Path(export.file).stem or "antrean"
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stem}-anotasi.xlsx"'},
    )


# ================================================================== cek tindak lanjut ======


def _segments(text: str, evidence: list[dict]) -> list[dict]:
    """The reply cut into plain and highlighted pieces (``<mark>`` in the template)."""
    spans = sorted(
        (int(e["start"]), int(e["end"]), e.get("reason")) for e in evidence if e["end"] > e["start"]
    )
    out, pos = [], 0
    for start, end, reason in spans:
        start = max(start, pos)
        if start >= end:
            continue
        if start > pos:
            out.append({"text": text[pos:start], "mark": False})
        out.append({"text": text[start:end], "mark": True, "reason": REASON_TEXT.get(reason, "")})
        pos = end
    if pos < len(text):
        out.append({"text": text[pos:], "mark": False})
    return out


@router.get("/cek")
async def check_page(request: Request) -> Response:
    session = await guarded(request, Permission.assess)
    if isinstance(session, Response):
        return session
    return _check_render(request, session)


def _check_render(
    request: Request, session: Session, status_code: int = 200, **context: Any
) -> Response:
    form = context.pop("form", None) or session.data.get("check_form") or {}
    agency_fixed = session.principal.role is Role.admin_instansi
    if agency_fixed:
        form = {**form, "agency": session.principal.agency}
    return render(
        request,
        "check.html",
        session,
        status_code,
        title="Cek tindak lanjut",
        form=form,
        agency_fixed=agency_fixed,
        result=session.data.get("check"),
        previous=session.data.get("check_previous"),
        reason_text=REASON_TEXT,
        **context,
    )


@router.post("/cek")
async def check(
    request: Request,
    laporan: Annotated[str, Form()] = "",
    tanggapan: Annotated[str, Form()] = "",
    instansi: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = await guarded(request, Permission.assess)
    if isinstance(session, Response):
        return session
    _check_csrf(session, csrf)
    state: AppState = request.app.state.lapor
    principal = session.principal
    agency = principal.agency if principal.role is Role.admin_instansi else instansi
    form = {"report": laporan, "reply": tanggapan, "agency": agency}
    try:
        body = AssessRequest(
            items=[{"report_text": laporan, "reply_text": tanggapan, "agency": agency or ""}]
        )
        out = await run_in_threadpool(
            assess,
            body,
            principal,
            state.store.current,
            state.settings,
            state.db,
            state,
        )
    except (ValidationError, InputError, HTTPException) as exc:
        return _check_render(request, session, 422, form=form, error=_why(exc))
    result = out["results"][0]
    view = {
        "label": result["label"],
        "probability": float(result["probabilities"].get(result["label"], 0.0)),
        "reasons": result["reasons"],
        "segments": _segments(result["reply_text"], result["evidence"]),
        "relevance": result.get("relevance"),
        "reuse": result.get("template_reuse"),
        "report": laporan,
        "reply_text": result["reply_text"],
    }
    previous = session.data.get("check")
    session.data["check_previous"] = (
        previous if previous and previous["report"] == laporan else None
    )
    session.data["check"] = view
    session.data["check_form"] = form
    return _check_render(request, session, form=form)


# ================================================================== model ======


@router.get("/model")
async def model_page(request: Request) -> Response:
    session = await guarded(request, Permission.models)
    if isinstance(session, Response):
        return session
    state: AppState = request.app.state.lapor
    models = [
        {
            "task": task,
            "version": m.version,
            "source": m.source,
            "trained_at": m.trained_at,
            "metrics": m.metrics,
            "labels": len(m.labels),
        }
        for task, m in sorted(state.store.current.models.items())
    ]
    return render(
        request,
        "model.html",
        session,
        title="Model",
        models=models,
        can_export=session.principal.can(Permission.export),
    )


@router.get("/model/umpan-balik.jsonl")
async def feedback_export(request: Request) -> Response:
    session = await guarded(request, Permission.export)
    if isinstance(session, Response):
        return session
    state: AppState = request.app.state.lapor
    principal = session.principal
    state.db.audit(
        key_id=principal.key_id,
        role=principal.role.value,
        action="feedback.export",
        detail={"kind": None, "since": None, "via": "console"},
    )

    def lines():
        for row in state.db.iter_feedback(kind=None, since=None):
            yield json_line(export_row(row)) + "\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="umpan-balik.jsonl"'},
    )


# ================================================================== monev ======

MONEV_LIMIT = 5000


def _monev_rows(
    state: AppState, principal: Principal, agency: str, start: str, end: str
) -> tuple[list[dict], dict[str, list[dict]], int]:
    """Share of normatif replies per agency and month over the stored replies (``POST
    /v1/replies``), judged by the loaded reply-quality model, in the table of
    :func:`lapor_triage.evaluation.monev.monev_table` (the ``lapor-triage monev`` report)."""
    from sqlalchemy import select

    from lapor_triage.monev_table import monev_table
    from lapor_triage.service.auth import normalise_agency
    from lapor_triage.service.tables import StoredReply

    scorer = state.store.current.get("reply-quality")
    if scorer is None:
        raise DataError("model mutu tindak lanjut belum dimuat (lihat /readyz)")
    query = select(StoredReply.agency, StoredReply.reply_text, StoredReply.created_at)
    if principal.role is Role.admin_instansi:
        query = query.where(StoredReply.agency == normalise_agency(principal.agency))
    elif agency.strip():
        query = query.where(StoredReply.agency == normalise_agency(agency))
    query = query.order_by(StoredReply.id.desc()).limit(MONEV_LIMIT)
    with state.db.session() as db_session:
        stored = list(db_session.execute(query))
    records = []
    for name, text, created in stored:
        month = created.strftime("%Y-%m") if created else ""
        if (start and month < start) or (end and month > end):
            continue
        records.append({"report_text": "", "reply_text": text, "agency": name, "month": month})
    if not records:
        return [], {}, 0
    verdicts = scorer.predictor.predict_records(records)
    rows, templates = monev_table(records, verdicts)
    return rows, templates, len(records)


def _chart(rows: list[dict]) -> list[dict]:
    """Bars of an inline SVG chart: share normatif per agency and month."""
    monthly = [r for r in rows if r["month"]] or [r for r in rows if not r["month"]]
    return [
        {
            "label": f"{r['agency']} {r['month']}".strip(),
            "share": float(r["share_normatif"]),
            "n": r["n_replies"],
            "y": 8 + i * 26,
        }
        for i, r in enumerate(monthly[:60])
    ]


@router.get("/monev")
async def monev_page(request: Request) -> Response:
    session = await guarded(request, MONEV_PERMISSIONS)
    if isinstance(session, Response):
        return session
    state: AppState = request.app.state.lapor
    p = request.query_params
    agency, start, end = p.get("instansi", ""), p.get("dari", ""), p.get("sampai", "")
    try:
        rows, templates, n = await run_in_threadpool(
            _monev_rows, state, session.principal, agency, start, end
        )
    except DataError as exc:
        return render(request, "monev.html", session, 503, title="Monev", error=str(exc))
    if p.get("format") == "csv":
        import csv

        from lapor_triage.monev_table import COLUMNS

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="monev.csv"'},
        )
    bars = _chart(rows)
    return render(
        request,
        "monev.html",
        session,
        title="Monev",
        rows=rows,
        templates_by_agency=templates,
        n=n,
        bars=bars,
        chart_height=16 + 26 * len(bars),
        agency=agency,
        start=start,
        end=end,
        own_agency=session.principal.role is Role.admin_instansi,
        query=request.url.query,
    )
