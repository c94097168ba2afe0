"""Predictors: one object per task with fit / predict / predict_proba / top_k / save / load."""

from lapor_triage.models.base import (
    FORMAT_VERSION,
    ModelFormatError,
    Predictor,
    load_model,
    register,
)

__all__ = ["FORMAT_VERSION", "ModelFormatError", "Predictor", "load_model", "register"]
