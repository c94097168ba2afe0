"""Cek tindak lanjut: an agency's draft reply checked by the function behind ``POST
/v1/replies/assess``: the verdict, the reasons in plain Indonesian, the deciding phrases marked in
the draft, relevance, template reuse, and what changed since the previous check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from lapor_triage.service.auth import Role
from lapor_triage.service.console.sessions import Session
from lapor_triage.service.console.web import CheckForm, CheckPage, render, sessions_of, why
from lapor_triage.service.deps import AppState
from lapor_triage.service.errors import InputError
from lapor_triage.service.routers.replies import assess
from lapor_triage.service.schemas.replies import AssessRequest
from lapor_triage.text import mask_pii

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

router = APIRouter(prefix="/console")


def segments(text: str, evidence: list[dict]) -> list[dict]:
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
async def check_page(request: Request, session: CheckPage) -> Response:
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
    session: CheckForm,
    laporan: Annotated[str, Form()] = "",
    tanggapan: Annotated[str, Form()] = "",
    instansi: Annotated[str, Form()] = "",
) -> Response:
    state: AppState = request.app.state.lapor
    principal = session.principal
    agency = principal.agency if principal.role is Role.admin_instansi else instansi
    form = {"report": laporan, "reply": tanggapan, "agency": agency}
    try:
        body = AssessRequest(
            items=[{"report_text": laporan, "reply_text": tanggapan, "agency": agency or ""}]
        )
        out = await run_in_threadpool(
            assess, body, principal, state.store.current, state.settings, state.db, state
        )
    except (ValidationError, InputError, HTTPException) as exc:
        return _check_render(request, session, 422, form=form, error=why(exc))
    result = out["results"][0]
    view = {
        "label": result["label"],
        "probability": float(result["probabilities"].get(result["label"], 0.0)),
        "reasons": result["reasons"],
        "segments": segments(result["reply_text"], result["evidence"]),
        "relevance": result.get("relevance"),
        "reuse": result.get("template_reuse"),
        "report": laporan,
        "reply_text": result["reply_text"],
    }
    previous = session.data.get("check")
    await run_in_threadpool(
        sessions_of(request).save_state,
        session,
        check_previous=previous if previous and previous["report"] == mask_pii(laporan) else None,
        check=view,
        check_form=form,
    )
    return _check_render(request, session, form=form)
