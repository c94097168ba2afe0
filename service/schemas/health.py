"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

from service.schemas.common import ResponseModel


class Health(ResponseModel):
    status: str


class Readiness(ResponseModel):
    status: str  # ready | degraded | not_ready
    database: str
    models: dict[str, str]
    missing_models: list[str]
    last_reload: dict
