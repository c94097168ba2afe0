"""``/v1/admin``: reload the models, manage API keys."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lapor_triage.service.auth import KeyError_
from lapor_triage.service.deps import DbDep, KeysCaller, ReloadCaller, StateDep
from lapor_triage.service.errors import InputError
from lapor_triage.service.jsonbody import JsonRoute
from lapor_triage.service.model_store import ModelLoadError
from lapor_triage.service.schemas.common import ERROR_RESPONSES, ErrorResponse
from lapor_triage.service.schemas.keys import KeyCreate, KeyCreated, KeyInfo
from lapor_triage.service.schemas.models import ReloadResponse
from lapor_triage.text import mask_pii

router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=JsonRoute)


@router.post(
    "/reload",
    response_model=ReloadResponse,
    responses={
        **ERROR_RESPONSES,
        409: {
            "model": ReloadResponse,
            "description": "the new models failed to load; the old ones keep serving",
        },
    },
    summary="Muat ulang model (reload models, atomically)",
)
async def reload_models(caller: ReloadCaller, state: StateDep, db: DbDep):
    """Load the configured models again (e.g. after `lapor-triage promote`) and swap them in at
    once. Requests in flight finish on the old models. When a new model fails to load, the old
    ones keep serving, the answer is 409 with the error, and /readyz shows it.

    With several worker processes the answer is the outcome in the worker that answers; the
    request is recorded in the database (`reload_id`) and every other worker reloads itself
    within about `LAPOR_RELOAD_POLL_SECONDS`; /readyz on any worker lists each worker's last
    reload and says `degraded` when one of them failed."""
    store, coordinator = state.store, state.coordinator
    reload_id = None
    if coordinator.enabled:
        reload_id = await run_in_threadpool(coordinator.request, caller.key_id)
    try:
        new = await run_in_threadpool(store.reload)
        body = {
            "reloaded": True,
            "generation": new.generation,
            "models": {t: m.version for t, m in new.models.items()},
        }
        status = 200
    except ModelLoadError as exc:
        current = store.current
        body = {
            "reloaded": False,
            "generation": current.generation,
            "models": {t: m.version for t, m in current.models.items()},
            "error": str(exc),
        }
        status = 409
    body["reload_id"] = reload_id
    body["worker"] = coordinator.worker_id if coordinator.enabled else None
    await run_in_threadpool(
        db.audit,
        key_id=caller.key_id,
        role=caller.role.value,
        action="models.reload",
        detail={"ok": body["reloaded"], "models": body["models"], "error": body.get("error")},
    )
    return JSONResponse(ReloadResponse.model_validate(body).model_dump(), status_code=status)


def _key_info(row) -> dict:
    return {
        "key_id": row.key_id,
        "role": row.role,
        "agency": row.agency,
        "name": row.name,
        "created_at": _iso(row.created_at),
        "revoked_at": _iso(row.revoked_at) if row.revoked_at else None,
    }


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyCreated,
    responses=ERROR_RESPONSES,
    summary="Buat kunci API (create an API key)",
)
def create_key(body: KeyCreate, caller: KeysCaller, state: StateDep, db: DbDep) -> dict:
    """Create a key for a role (and an agency, for admin_instansi). The key is in this answer
    only: it is stored hashed."""
    agency = " ".join((body.agency or "").split())
    if body.role == "admin_instansi" and not agency:
        raise InputError(
            "agency", "role admin_instansi needs an agency: the agency the key acts for"
        )
    if body.role != "admin_instansi" and agency:
        raise InputError("agency", f"role {body.role} is not agency-scoped: leave agency out")
    try:
        created = state.keys.create(body.role, agency=body.agency, name=body.name)
    except KeyError_ as exc:
        raise InputError("agency", str(exc)) from exc
    db.audit(
        key_id=caller.key_id,
        role=caller.role.value,
        action="keys.create",
        target=created.key_id,
        detail={"role": created.role.value, "agency": created.agency},
    )
    return {
        "key": created.key,
        "key_id": created.key_id,
        "role": created.role.value,
        "agency": created.agency,
        "name": created.name,
        "created_at": _iso(created.created_at),
        "revoked_at": None,
    }


@router.get(
    "/keys",
    response_model=list[KeyInfo],
    responses=ERROR_RESPONSES,
    summary="Daftar kunci API (list API keys)",
)
def list_keys(caller: KeysCaller, state: StateDep) -> list[dict]:
    return [_key_info(row) for row in state.keys.list()]


@router.delete(
    "/keys/{key_id}",
    response_model=KeyInfo,
    responses={**ERROR_RESPONSES, 404: {"model": ErrorResponse, "description": "no such key"}},
    summary="Cabut kunci API (revoke an API key)",
)
def revoke_key(key_id: str, caller: KeysCaller, state: StateDep, db: DbDep) -> dict:
    try:
        row = state.keys.revoke(key_id)
    except KeyError_:
        raise HTTPException(404, f"no API key with id {mask_pii(key_id)!r}") from None
    db.audit(key_id=caller.key_id, role=caller.role.value, action="keys.revoke", target=key_id)
    return _key_info(row)
