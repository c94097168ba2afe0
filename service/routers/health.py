"""``/healthz`` (the process answers) and ``/readyz`` (database and models ready)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lapor_triage.service.auth import Permission
from lapor_triage.service.deps import AppState, StateDep, _header_key, _principal
from lapor_triage.service.schemas.health import Health, Readiness

KEY_SECURITY_OPTIONAL = {"security": [{}, {"APIKeyHeader": []}, {"HTTPBearer": []}]}
"""``openapi_extra`` of /readyz: a key is optional (it adds the detail)."""

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> dict:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
    summary="Readiness: database reachable, models loaded, last reload",
    openapi_extra=KEY_SECURITY_OPTIONAL,
)
async def readyz(request: Request, state: StateDep):
    """``ready`` (200): database answers and every task has a model. ``degraded`` (200): serving,
    but the last reload failed (the previous models keep serving; ``last_reload.error`` says
    why), in this worker or in any other live worker process (``workers``). ``not_ready`` (503):
    no database or a task without a model.

    Without a key the answer is ``{"status": ...}`` alone; with an admin or data_scientist key
    it adds the database, the models, the last reload and the workers (host, process)."""
    key = _header_key(request)
    detail = False
    if key:  # a wrong key is a 401 (and counts as a failed authentication)
        principal = await _principal(request, state, key)
        detail = principal.can(Permission.models)
    return await run_in_threadpool(_readiness, state, detail)


def _readiness(state: AppState, detail: bool) -> JSONResponse:
    try:
        state.db.ping()
        database = "ok"
    except Exception as exc:
        database = f"error: {type(exc).__name__}"
    current = state.store.current
    missing = [t for t in state.store.required if current.get(t) is None]
    last = state.store.status.as_dict()
    workers: list[dict] = []
    if database == "ok":
        try:
            workers = state.coordinator.workers()
        except Exception as exc:  # readiness must answer even when this query fails
            workers = [{"error": f"cannot list workers: {type(exc).__name__}"}]
    failed_worker = any(w.get("ok") is False for w in workers)
    if database != "ok" or missing:
        status, code = "not_ready", 503
    elif last["ok"] is False or failed_worker:
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    if not detail:
        return JSONResponse({"status": status}, status_code=code)
    body = Readiness(
        status=status,
        database=database,
        models={t: m.version for t, m in current.models.items()},
        missing_models=missing,
        last_reload=last,
        worker=state.coordinator.worker_id if state.coordinator.enabled else None,
        workers=workers,
    )
    return JSONResponse(body.model_dump(), status_code=code)
