"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

from lapor_triage.service.schemas.common import ResponseModel


class Health(ResponseModel):
    status: str


class Readiness(ResponseModel):
    status: str  # ready | degraded | not_ready
    database: str
    models: dict[str, str]
    missing_models: list[str]
    last_reload: dict
    worker: str | None = None  # the worker process that answered
    workers: list[dict] = []  # every live worker process on this database, with its last reload
