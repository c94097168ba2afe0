"""``GET /metrics``: Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from lapor_triage.service.deps import StateDep

router = APIRouter(tags=["health"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus metrics"}},
    summary="Prometheus metrics",
)
def metrics(state: StateDep) -> PlainTextResponse:
    """Request counts and latency histograms per route, reports triaged and the abstain rate,
    replies assessed and the normatif rate, feedback stored, model reloads."""
    return PlainTextResponse(state.metrics.render(), media_type=CONTENT_TYPE)
