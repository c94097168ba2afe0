"""Antrean disposisi: a LAPOR! export (or one pasted report) triaged through the service's
micro-batcher, shown with both levels of suggestion, decided row by row, downloaded as .xlsx.

Two levels, each labelled on the page:

- **Disposisi instansi** (national, for Admin Pusat): the disposition model's ranked instansi with
  kind, region and the place names matched, when a disposition model is loaded;
- **Unit** (inside one regional government): the agency router of the row's ``penerima`` when a
  unit model for it is loaded (the default agency model counts for ``LAPOR_PENERIMA``'s own
  reports), and always when no disposition model is (then it is the only suggestion).

Each decision (accept suggestion 1, or override with a name typed ahead from the level's known
names) is stored by ``store_feedback``, the function behind ``POST /v1/feedback``, with the level
it was taken on (``level``: ``disposition`` or ``unit``).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from lapor_triage.errors import DataError
from lapor_triage.service.console.annotate import (
    LaporExport,
    Triaged,
    annotate,
    paste_export,
    read_export,
    write_xlsx,
)
from lapor_triage.service.console.queue_store import QueueTooLarge, decode, encode
from lapor_triage.service.console.sessions import Session
from lapor_triage.service.console.web import (
    DecisionForm,
    QueueForm,
    QueuePage,
    render,
    sessions_of,
    why,
)
from lapor_triage.service.deps import AppState
from lapor_triage.service.errors import InputError
from lapor_triage.service.routers.feedback import store_feedback
from lapor_triage.service.schemas.feedback import TriageFeedback

UPLOAD_SUFFIXES = {".xlsx", ".csv"}
TRIAGE_CHUNK = 256
TYPE_TEXT = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan Informasi",
}
LEVEL_OF_FORM = {"disposisi": "disposition", "unit": "unit"}

router = APIRouter(prefix="/console")


def _queue_view(export: LaporExport | None, sort: str, minimum: float) -> list[dict]:
    if export is None:
        return []
    rows = []
    for i, row in enumerate(export.rows):
        s = row.suggestion or {}
        confidence = float(s.get("confidence", 0.0))
        if confidence < minimum:
            continue
        rows.append(
            {
                "index": i,
                "row": row,
                "type": TYPE_TEXT.get(s.get("report_type", ""), s.get("report_type", "")),
                "disposition": s.get("disposition"),
                "unit": s.get("unit"),
                "confidence": confidence,
                "abstain": bool(s.get("abstain")),
            }
        )
    if sort == "naik":
        rows.sort(key=lambda r: r["confidence"])
    elif sort == "turun":
        rows.sort(key=lambda r: -r["confidence"])
    return rows


def _known_names(state: AppState, export: LaporExport | None) -> tuple[list[str], dict[str, int]]:
    """The type-ahead lists: the disposition model's instansi, and the units of each unit model
    the queue uses (model key -> index of its list)."""
    models = state.store.current
    disposition = models.get("disposition")
    instansi = sorted(disposition.labels) if disposition else []
    keys: dict[str, int] = {}
    for row in export.rows if export else []:
        unit = (row.suggestion or {}).get("unit")
        if unit and unit["model"] not in keys and models.get(unit["model"]) is not None:
            keys[unit["model"]] = len(keys)
    return instansi, keys


async def load_queue(request: Request, session: Session) -> LaporExport | None:
    """The session's stored queue (any worker stored it), its decisions applied."""
    store = sessions_of(request)
    rev, blob = await run_in_threadpool(store.load_queue, session)
    if blob is None:
        return None
    return await run_in_threadpool(decode, blob, session.data.get("decisions"))


async def _queue_page(
    request: Request, session: Session, status_code: int = 200, **context: Any
) -> Response:
    state: AppState = request.app.state.lapor
    params = request.query_params
    sort = params.get("urut", "")
    try:
        minimum = max(0.0, min(1.0, float(params.get("min", "0") or 0)))
    except ValueError:
        minimum = 0.0
    export = await load_queue(request, session)
    instansi, unit_lists = _known_names(state, export)
    models = state.store.current
    rows = _queue_view(export, sort, minimum)
    return render(
        request,
        "queue.html",
        session,
        status_code,
        title="Antrean disposisi",
        export=export,
        rows=rows,
        sort=sort,
        minimum=minimum,
        has_disposition=any(r.suggestion and r.suggestion["disposition"] for r in _rows(export)),
        has_unit=any(r.suggestion and r.suggestion["unit"] for r in _rows(export)),
        known_instansi=instansi,
        unit_lists={i: sorted(models.get(k).labels) for k, i in unit_lists.items()},
        unit_list_of=unit_lists,
        decided=sum(1 for r in _rows(export) if r.decisions),
        **context,
    )


def _rows(export: LaporExport | None) -> list:
    return export.rows if export else []


@router.get("/antrean")
async def queue(request: Request, session: QueuePage) -> Response:
    return await _queue_page(request, session)


async def _triage(state: AppState, export: LaporExport) -> LaporExport:
    """Suggestions for every row, through the service's micro-batcher (as the triage route)."""
    models = state.store.current
    if models.get("report-type") is None or models.get("agency") is None:
        raise DataError("model jenis laporan atau instansi belum dimuat (lihat /readyz)")
    records = [r.record for r in export.rows]
    triaged = Triaged([], [], [], [])
    for start in range(0, len(records), TRIAGE_CHUNK):
        chunk = records[start : start + TRIAGE_CHUNK]
        triaged.extend(Triaged(*await state.batcher.predict(models, chunk, 3)))
    export.models = {
        key: models.get(key).version
        for key in ("report-type", "disposition", *dict.fromkeys(triaged.agency_keys))
        if models.get(key) is not None
    }
    return annotate(export, triaged, state.settings.penerima)


@router.post("/antrean/unggah")
async def upload(
    request: Request, session: QueueForm, berkas: Annotated[UploadFile, File()]
) -> Response:
    state: AppState = request.app.state.lapor
    name = Path(berkas.filename or "berkas").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return await _queue_page(
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
            return await _queue_page(request, session, 422, error=_data_error_text(exc, name))
    try:
        export = await _triage(state, export)
    except DataError as exc:
        return await _queue_page(request, session, 503, error=str(exc))
    return await _keep(request, session, export, name)


async def _keep(request: Request, session: Session, export: LaporExport, name: str) -> Response:
    """Store the triaged queue with the session (masked, compressed; its decisions reset), or
    the page with the reason it is too large (nothing stored, the previous queue kept)."""
    cap = request.app.state.lapor.settings.console_queue_max_bytes
    try:
        blob = await run_in_threadpool(encode, export, cap)
    except QueueTooLarge as exc:
        return await _queue_page(
            request,
            session,
            413,
            error=f"{name}: antrean terlalu besar untuk disimpan ({len(export.rows)} laporan, "
            f"{_mb(exc.size)} terkompresi; batas {_mb(exc.cap)}, LAPOR_CONSOLE_QUEUE_MAX_BYTES). "
            "Bagi ekspor menjadi beberapa berkas. Tidak ada data yang disimpan.",
        )
    await run_in_threadpool(sessions_of(request).save_queue, session, blob, decisions={})
    return RedirectResponse("/console/antrean", status_code=303)


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


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
    session: QueueForm,
    judul: Annotated[str, Form()] = "",
    isi: Annotated[str, Form()] = "",
) -> Response:
    state: AppState = request.app.state.lapor
    try:
        export = await _triage(state, paste_export(judul, isi, penerima=state.settings.penerima))
    except DataError as exc:
        return await _queue_page(request, session, 422, error=f"Laporan tempel: {exc}")
    return await _keep(request, session, export, "Laporan tempel")


@router.post("/antrean/keputusan")
async def decide(
    request: Request,
    session: DecisionForm,
    baris: Annotated[int, Form()],
    aksi: Annotated[str, Form()],
    tingkat: Annotated[Literal["disposisi", "unit"], Form()] = "unit",
    nama: Annotated[str, Form()] = "",
) -> Response:
    export = await load_queue(request, session)
    if export is None or not 0 <= baris < len(export.rows):
        return await _queue_page(request, session, 404, error="Baris antrean tidak ditemukan.")
    row = export.rows[baris]
    level = LEVEL_OF_FORM[tingkat]
    s = row.suggestion or {}
    view = s.get(level)
    where = f"Baris {row.row} ({row.report_id})"
    if view is None:
        return await _queue_page(
            request, session, 422, error=f"{where}: tidak ada saran {tingkat}."
        )
    predicted = view["top_k"][0]["name"] if view["top_k"] else None
    if aksi == "terima":
        chosen, decision = predicted, "accepted"
    elif aksi == "alihkan":
        chosen = " ".join(nama.split())
        decision = "accepted" if chosen.casefold() == (predicted or "").casefold() else "overridden"
    else:
        return await _queue_page(request, session, 422, error=f"Aksi tidak dikenal: {aksi!r}.")
    if not chosen:
        what = "instansi" if level == "disposition" else "unit"
        return await _queue_page(
            request, session, 422, error=f"{where}: isi nama {what} tujuan untuk dialihkan."
        )
    try:
        body = TriageFeedback(
            kind="triage",
            level=level,
            report_id=row.report_id,
            judul=row.judul,
            isi=row.isi or row.judul,
            decision=decision,
            agency=chosen,
            predicted_agency=predicted,
            report_type=s.get("report_type"),
            kecamatan=row.record.get("kecamatan"),
            kelurahan=row.record.get("kelurahan"),
            penerima=row.record.get("penerima"),
        )
        state: AppState = request.app.state.lapor
        await run_in_threadpool(store_feedback, body, session.principal, state)
    except (ValidationError, InputError, HTTPException) as exc:
        return await _queue_page(request, session, 422, error=f"{where}: {why(exc)}")

    def _record(decisions: dict | None) -> dict:
        decisions = dict(decisions or {})
        decisions[str(baris)] = {**decisions.get(str(baris), {}), level: [decision, chosen]}
        return decisions

    await run_in_threadpool(sessions_of(request).update_state, session, "decisions", _record)
    return RedirectResponse(f"/console/antrean#baris-{baris}", status_code=303)


@router.get("/antrean/unduh")
async def download(request: Request, session: QueuePage) -> Response:
    export = await load_queue(request, session)
    if export is None:
        return await _queue_page(request, session, 404, error="Belum ada antrean untuk diunduh.")
    buffer = io.BytesIO()
    write_xlsx(export, buffer)
    stem = Path(export.file).stem or "antrean"
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stem}-anotasi.xlsx"'},
    )
