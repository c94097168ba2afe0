"""``GET /v1/models``."""

from __future__ import annotations

from pydantic import Field

from lapor_triage.service.schemas.common import ResponseModel


class ModelInfo(ResponseModel):
    task: str
    model_class: str = Field(description="predictor class")
    version: str = Field(description="MLflow version, or a content hash of a model folder")
    source: str = Field(description="model folder or models:/<name>@<alias>")
    labels: list[str]
    metrics: dict[str, float] = Field(description="evaluation metrics saved with the model")
    trained_at: str | None
    loaded_at: str


class ModelsResponse(ResponseModel):
    generation: int = Field(description="increases with every successful reload")
    models: list[ModelInfo]
    last_reload: dict


class ReloadResponse(ResponseModel):
    reloaded: bool
    generation: int
    models: dict[str, str]
    error: str | None = None
    reload_id: int | None = Field(
        None, description="the recorded reload request that every worker process follows"
    )
    worker: str | None = Field(None, description="the worker process that answered (host:pid:id)")
