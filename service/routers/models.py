"""``GET /v1/models``: which models serve, with their labels, metrics and training time."""

from __future__ import annotations

from fastapi import APIRouter

from lapor_triage.service.deps import ModelsCaller, ModelsDep, StateDep
from lapor_triage.service.schemas.common import ERROR_RESPONSES
from lapor_triage.service.schemas.models import ModelsResponse

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "",
    response_model=ModelsResponse,
    responses=ERROR_RESPONSES,
    summary="Model yang sedang dipakai (loaded models)",
)
def list_models(caller: ModelsCaller, models: ModelsDep, state: StateDep) -> dict:
    """The loaded model of each task: version, source, labels, evaluation metrics, trained-at."""
    return {
        "generation": models.generation,
        "models": [
            {
                "task": m.task,
                "model_class": type(m.predictor).__name__,
                "version": m.version,
                "source": m.source,
                "labels": m.labels,
                "metrics": m.metrics,
                "trained_at": m.trained_at,
                "loaded_at": m.loaded_at.isoformat(timespec="seconds"),
            }
            for m in models.models.values()
        ],
        "last_reload": state.store.status.as_dict(),
    }
