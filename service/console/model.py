"""Model: the loaded versions, their sources, training time and metrics, and the feedback export
(``GET /v1/feedback/export``'s rows: both levels of triage decisions and reply verdicts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from lapor_triage.jsonl import json_line
from lapor_triage.service.auth import Permission
from lapor_triage.service.console.web import ExportPage, ModelPage, render
from lapor_triage.service.deps import AppState
from lapor_triage.service.routers.feedback import export_row

router = APIRouter(prefix="/console")


@router.get("/model")
async def model_page(request: Request, session: ModelPage) -> Response:
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
async def feedback_export(request: Request, session: ExportPage) -> Response:
    state: AppState = request.app.state.lapor
    principal = session.principal
    state.db.audit(
        key_id=principal.key_id,
        role=principal.role.value,
        action="feedback.export",
        detail={"kind": None, "level": None, "since": None, "via": "console"},
    )

    def lines():
        for row in state.db.iter_feedback(kind=None, since=None):
            yield json_line(export_row(row)) + "\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="umpan-balik.jsonl"'},
    )
