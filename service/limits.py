"""Limits checked per request (they come from the settings, so they are not in the schema)."""

from __future__ import annotations

from fastapi import HTTPException

from lapor_triage.service.errors import InputError
from lapor_triage.service.model_store import LoadedModel, ModelSet
from lapor_triage.service.settings import Settings


def check_batch(n: int, field: str, settings: Settings) -> None:
    if n > settings.max_batch:
        raise InputError(field, f"{n} items is over the limit of {settings.max_batch} per request")


def check_text(value: str | None, field: str, settings: Settings) -> None:
    if value is not None and len(value) > settings.max_text_chars:
        raise InputError(
            field,
            f"text of {len(value)} characters is over the limit of {settings.max_text_chars}",
        )


def check_total_chars(total: int, field: str, settings: Settings) -> None:
    """413 when one request carries more text than ``LAPOR_MAX_REQUEST_CHARS`` in all: the work
    of a request is bounded, whatever the batch size and the per-text limit allow."""
    if total > settings.max_request_chars:
        raise InputError(
            field,
            f"{total} characters of text in this request is over the limit of "
            f"{settings.max_request_chars} per request (LAPOR_MAX_REQUEST_CHARS): split it",
            status_code=413,
        )


def need_model(models: ModelSet, task: str) -> LoadedModel:
    loaded = models.get(task)
    if loaded is None:
        raise HTTPException(503, f"no {task} model is loaded (see /readyz)")
    return loaded
