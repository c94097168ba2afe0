"""Dependencies of the routers (``Annotated`` aliases): app state, settings, the database, the
model set of this request, and the caller's identity checked against a permission.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from lapor_triage.service.auth import KeyStore, Permission, Principal
from lapor_triage.service.batcher import TriageBatcher
from lapor_triage.service.cluster import ReloadCoordinator
from lapor_triage.service.db import Database
from lapor_triage.service.metrics import ServiceMetrics
from lapor_triage.service.model_store import ModelSet, ModelStore
from lapor_triage.service.ratelimit import AuthFailureLimiter, client_address
from lapor_triage.service.settings import Settings


@dataclass
class AppState:
    settings: Settings
    db: Database
    keys: KeyStore
    store: ModelStore
    metrics: ServiceMetrics
    batcher: TriageBatcher
    coordinator: ReloadCoordinator
    auth_limiter: AuthFailureLimiter


# The dependencies are ``async`` so that they run on the event loop, not in the thread pool.
async def get_state(request: Request) -> AppState:
    return request.app.state.lapor


async def get_settings(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


async def get_db(state: Annotated[AppState, Depends(get_state)]) -> Database:
    return state.db


async def get_models(state: Annotated[AppState, Depends(get_state)]) -> ModelSet:
    """The model set of this request, taken once: a reload meanwhile does not affect it."""
    return state.store.current


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
ModelsDep = Annotated[ModelSet, Depends(get_models)]

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key (`lapor-triage keys create`)"
)
_bearer = HTTPBearer(auto_error=False, description="the same API key as a bearer token")


async def get_principal(
    request: Request,
    state: StateDep,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    key = api_key or (bearer.credentials if bearer else None)
    return await _principal(request, state, key)


async def _principal(request: Request, state: AppState, key: str | None) -> Principal:
    if not key:
        raise auth_failed(state, request.scope, MISSING_KEY)
    principal = state.keys.verify_cached(key)
    if principal is True:  # not cached: ask the database (in a worker thread)
        principal = await run_in_threadpool(state.keys.verify, key)
    if not isinstance(principal, Principal):
        raise auth_failed(state, request.scope, "invalid or revoked API key")
    request.state.key_id = principal.key_id  # for the access log
    return principal


MISSING_KEY = "missing API key: send it in the X-API-Key header (or Authorization: Bearer)"


def auth_failed(state: AppState, scope: MutableMapping[str, Any], message: str) -> HTTPException:
    """The error for a failed authentication: 401, or 429 with ``Retry-After`` once the client
    address is over ``LAPOR_AUTH_FAILURE_LIMIT``; the failure is counted."""
    client = client_address(scope)
    wait = state.auth_limiter.retry_after(client)
    if wait is not None:
        return HTTPException(
            429,
            f"too many failed authentications from this address: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    state.auth_limiter.failed(client)
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require(permission: Permission):
    """A dependency: the caller, who must hold ``permission``."""

    async def _check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, f"role {principal.role.value} may not use {permission.value}")
        return principal

    _check.__name__ = f"require_{permission.value}"
    return _check


def _header_key(request: Request) -> str | None:
    """The key as the two security schemes above read it: ``X-API-Key``, else a bearer token."""
    headers = request.headers
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, credentials = get_authorization_scheme_param(headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return None


def require_fast(permission: Permission):
    """As :func:`require`, as one dependency without sub-dependencies, for the hot path
    (``POST /v1/reports/triage``): FastAPI's dependency solver costs tens of microseconds per
    dependency and request. The route must declare :data:`KEY_SECURITY` for its OpenAPI entry."""

    async def _check(request: Request) -> Principal:
        principal = await _principal(request, request.app.state.lapor, _header_key(request))
        if not principal.can(permission):
            raise HTTPException(403, f"role {principal.role.value} may not use {permission.value}")
        return principal

    _check.__name__ = f"require_{permission.value}_fast"
    return _check


KEY_SECURITY = {"security": [{"APIKeyHeader": []}, {"HTTPBearer": []}]}
"""``openapi_extra`` of a route using :func:`require_fast` (the schemes the other routes define)."""


def forbid_other_agency(principal: Principal, agency: str | None, field: str) -> None:
    """403 when an agency-scoped key acts for another agency."""
    if not principal.may_act_for(agency):
        raise HTTPException(
            403,
            f"{field}: this key acts for agency {principal.agency!r} only, not {agency!r}",
        )


TriageCaller = Annotated[Principal, Depends(require_fast(Permission.triage))]
AssessCaller = Annotated[Principal, Depends(require(Permission.assess))]
FeedbackCaller = Annotated[Principal, Depends(require(Permission.feedback))]
ExportCaller = Annotated[Principal, Depends(require(Permission.export))]
ModelsCaller = Annotated[Principal, Depends(require(Permission.models))]
RepliesCaller = Annotated[Principal, Depends(require(Permission.replies))]
KeysCaller = Annotated[Principal, Depends(require(Permission.keys))]
ReloadCaller = Annotated[Principal, Depends(require(Permission.reload))]
