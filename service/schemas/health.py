"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

from pydantic import Field

from lapor_triage.service.schemas.common import ResponseModel


class Health(ResponseModel):
    status: str


class Readiness(ResponseModel):
    """The public answer is ``status`` alone; the rest only for an admin or data_scientist key."""

    status: str = Field(description="ready | degraded | not_ready")
    database: str | None = None
    models: dict[str, str] | None = None
    missing_models: list[str] | None = None
    last_reload: dict | None = None
    worker: str | None = None  # the worker process that answered
    workers: list[dict] | None = None  # every live worker on this database, with its last reload
