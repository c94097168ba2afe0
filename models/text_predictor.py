"""The featurisation the TF-IDF predictors (report type, agency) share: n-gram features fitted on
the training records, with sentence embeddings appended when the predictor names an ``encoder``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lapor_triage.models.base import Predictor, Record
from lapor_triage.models.features import TextFeatures


class TextFeaturePredictor(Predictor):
    """A predictor whose inputs become :class:`TextFeatures` rows (plus embeddings)."""

    encoder: str | None

    def _text_features(self) -> TextFeatures:
        """The unfitted feature extractor with this predictor's settings."""
        raise NotImplementedError

    def _featurize(self, X: Sequence[Record], fit: bool = False) -> Any:
        if fit:
            self.features_ = self._text_features().fit(X)
        feats = self.features_.transform(X)
        if self.encoder:
            from lapor_triage.models.embeddings import embedding_block

            feats = embedding_block(self, X, feats, fit=fit)
        return feats
