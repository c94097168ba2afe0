"""National disposition for Admin Pusat: which instansi a report goes to, as kind + region.

An instansi is a *kind* (Dinas Perhubungan, BPJS Kesehatan, Kementerian Sosial, Kecamatan) and,
where it has one, a *region* or branch (Kota Semarang, KC Sampit). :class:`DispositionModel`

1. predicts the kind from the text (word + char TF-IDF, LinearSVC, temperature-calibrated:
   :class:`~lapor_triage.models.features.CalibratedLinear`);
2. finds regions from the places the report names (:class:`~lapor_triage.models.regions.
   RegionFinder`: kelurahan, kecamatan, kabupaten/kota and province names against the Kemendagri
   region data, and the reporter's location fields);
3. composes them with what the training labels show: ``P(level | kind)`` (none / kabkota /
   provinsi / kecamatan / branch) from the kind's own labels smoothed towards its family's
   (:class:`~lapor_triage.models.region_choice.LevelPrior`; a level neither took is never
   composed), and a conditional logit over the kind's options (region-free, each region the report
   names at a level the kind takes, or a region it does not name), fitted on the training posts
   (:class:`~lapor_triage.models.region_choice.OptionModel`). An instansi never seen in training
   (Dinas Perhubungan Kota Bandung, when only Kota Semarang's was seen) is suggested when its kind
   is likely and its region is named. The mass of "a region not named" goes to the kind's seen
   regional instansi by the flat classifier (``other_regions="seen"``) or to the region-free name
   (``"none"``), never to a composed name of a form the kind does not take;
4. mixes in (weight ``flat_weight``) a flat calibrated classifier over the instansi seen in
   training, whose regional labels keep their mass only where the finder found their region too
   (``flat_regions="found"``; ``"any"`` lets it suggest a seen region on the text alone); the
   mass of the others goes to the kind's options as in 3.

``region_text_weight > 0`` adds regions learned from the wording (a classifier over the training
regions: ``#LaporHendi``, ``BRT``, ``smg`` point to Kota Semarang) as candidates of that weight
times their probability, with the evidence ``kata-kata laporan (dipelajari)``. The defaults
(``flat_weight=0.3``, ``other_regions="none"``, ``region_text_weight=3``) are the setting inner-fold
cross-validation chose on the training part of every outer fold of the 2017 posts (flat weight 0.3
in 4 of 5 folds, the other two in 5 of 5): ``python -m lapor_triage.evaluation.disposition_quality``.
A region learned from wording is a guess when the report names no place at all, which the issue
rules out; ``region_text_weight=0`` turns it off (top-1 0.316 instead of 0.418 on the same folds).

``abstain`` is true when the best suggestion's probability is under ``abstain_threshold``, as for
the agency router, and also when its region rests on learned wording alone (no place named): the
inner-fold choice keeps those regions because they rank better, and the abstain mark keeps the
issue's rule that a report naming no place does not get a region as if it were known. ``predict_proba`` covers ``classes_`` (seen instansi and every kind alone);
``predict_records`` / ``top_k`` / ``predict`` rank the composed suggestions, unseen ones included.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.models.base import Predictor, Record, register
from lapor_triage.models.disposition_compose import LEARNED_EVIDENCE, DispositionComposition
from lapor_triage.models.features import CalibratedLinear
from lapor_triage.models.instansi_names import compose, region_level, split_instansi
from lapor_triage.models.region_choice import LevelPrior, OptionModel, option_rows
from lapor_triage.models.regions import RegionFinder

NAME_MAP_FILE = "name_map.json"


def _region_guessed(suggestion: Mapping[str, Any]) -> bool:
    """A regional suggestion whose only evidence is the learned wording, no named place."""
    return bool(suggestion.get("region")) and list(suggestion.get("evidence") or []) == [
        LEARNED_EVIDENCE
    ]


@register
class DispositionModel(DispositionComposition, Predictor):
    """Ranked instansi (kind + region) with calibrated probabilities, evidence and ``abstain``."""

    task = "disposition"

    def __init__(
        self,
        C: float = 0.5,
        class_weight: str | None = "sqrt",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        min_df: int = 2,
        max_features: int | None = 100_000,
        max_chars: int = 2000,
        flat_weight: float = 0.3,
        flat_regions: str = "found",
        region_prior: float = 1.0,
        option_l2: float = 1.0,
        other_regions: str = "none",
        region_text_weight: float = 3.0,
        region_text_min: float = 0.05,
        top_kinds: int = 10,
        abstain_threshold: float = 0.3,
        random_state: int = 0,
    ) -> None:
        self._store_params(locals())

    # --- learning ----------------------------------------------------------------------------
    def _linear(self, X: Any, y: Sequence[str], sw: np.ndarray | None) -> CalibratedLinear:
        """A LinearSVC with a temperature fitted on held-out rows whose class was seen.

        ``CalibratedLinear``'s own out-of-fold temperature scores every held-out row, also those
        whose class is missing from the training half; in a long tail (a third of the instansi
        have one post) that row's true class gets the lowest margin, and the fitted temperature
        runs to its bound (100): every probability became about 1/number of classes. Here the
        temperature is fitted on one stratified half-split, on the rows whose class the other half
        has."""
        from sklearn.model_selection import StratifiedKFold

        from lapor_triage.models.features import fit_temperature

        clf = CalibratedLinear(
            C=self.C, class_weight=self.class_weight, cv=1, random_state=self.random_state
        ).fit(X, y, sample_weight=sw)
        y_idx = np.searchsorted(clf.classes_, np.asarray([str(v) for v in y]))
        counts = np.bincount(y_idx, minlength=len(clf.classes_))
        if len(y) >= 20 and counts.max() >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tr, te = next(
                    StratifiedKFold(2, shuffle=True, random_state=self.random_state).split(
                        np.zeros(len(y)), np.where(counts[y_idx] >= 2, y_idx, -1)
                    )
                )
            part = CalibratedLinear(
                C=self.C, class_weight=self.class_weight, cv=1, random_state=self.random_state
            ).fit(X[tr], [str(y[i]) for i in tr], sample_weight=None if sw is None else sw[tr])
            known = {c: j for j, c in enumerate(part.classes_)}
            keep = [i for i in te if str(y[i]) in known]
            if keep:
                margins = part.decision_function(X[keep])
                truth = np.array([known[str(y[i])] for i in keep])
                clf.temperature_ = fit_temperature(margins, truth)
        clf.oof_margins_ = None
        return clf

    def _featurize(self, X: Sequence[Mapping[str, Any]], fit: bool = False) -> Any:
        """Word (1-2) and character (2-5, within words) TF-IDF of the first ``max_chars``
        (:class:`~lapor_triage.models.disposition_features.DispositionFeatures`: the features of
        scikit-learn's vectorizers, computed several times faster per report). Character n-grams
        added 0.025 top-1 over words alone (5-fold, same folds)."""
        texts = [str(r.get("text") or "")[: self.max_chars] for r in X]
        if fit:
            from lapor_triage.models.disposition_features import DispositionFeatures

            self.features_ = DispositionFeatures(
                self.word_ngram_range, self.char_ngram_range, self.min_df, self.max_features
            ).fit(texts)
        return self.features_.transform(texts)

    def fit(
        self,
        X: Sequence[Record],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> DispositionModel:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} items but y has {len(y)} labels")
        if len(X) == 0:
            raise ValueError("cannot fit on zero examples")
        if self.flat_regions not in {"found", "any"}:
            raise ValueError(f"flat_regions must be 'found' or 'any', not {self.flat_regions!r}")
        if self.other_regions not in {"seen", "none"}:
            raise ValueError(f"other_regions must be 'seen' or 'none', not {self.other_regions!r}")
        X = [({"text": r} if isinstance(r, str) else r) for r in X]
        y = [str(v) for v in y]
        parts = [split_instansi(v) for v in y]
        kinds = [k for k, _ in parts]
        if len(set(kinds)) < 2:
            raise ValueError(f"need at least 2 different kinds of instansi, found {set(kinds)}")
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)

        feats = self._featurize(X, fit=True)
        self.kind_clf_ = self._linear(feats, kinds, sw)
        self.flat_clf_ = None
        if len(set(y)) > 1:  # also for flat_weight 0: it spreads the "region not named" mass
            self.flat_clf_ = self._linear(feats, y, sw)

        self.region_clf_ = None
        regions = [r or "" for _, r in parts]
        if self.region_text_weight > 0 and len(set(regions)) > 1:
            self.region_clf_ = self._linear(feats, regions, sw)
        w = np.ones(len(y)) if sw is None else sw
        known: dict[str, str] = {r: region_level(r) for _, r in parts if r}
        levels = [region_level(r) for _, r in parts]
        self.level_prior_ = LevelPrior(self.region_prior).fit(kinds, levels, w)
        self.finder_ = RegionFinder(known)
        self.seen_ = sorted(set(y))
        self.classes_ = np.array(sorted(set(y) | {compose(k, None) for k in kinds}))
        self.name_map_ = {}
        for rec, label in zip(X, y, strict=True):
            raw = rec.get("label_raw") if isinstance(rec, Mapping) else None
            if raw:
                self.name_map_[str(raw)] = label
        self._prepare()
        self.options_ = OptionModel(self.option_l2)
        self.options_.fit(*self._option_examples(X, parts, levels, w))
        self._prepare_options()
        return self

    def _option_examples(
        self,
        X: Sequence[Mapping[str, Any]],
        parts: Sequence[tuple[str, str | None]],
        levels: Sequence[str],
        w: np.ndarray,
    ) -> tuple[list[tuple[np.ndarray, int]], list[float]]:
        """One option group per training post: its true kind's options, leave-one-out level
        counts and seen flags (the post's own label does not count), and the true option."""
        counts = Counter(compose(k, r) for k, r in parts)
        groups, weights = [], []
        for rec, (kind, region), level, weight in zip(X, parts, levels, w, strict=True):
            own = compose(kind, region)

            def seen(k: str, r: str | None, own: str = own) -> bool:
                name = compose(k, r)
                return counts.get(name, 0) - (name == own) > 0

            level_p = self.level_prior_.probs(kind, minus=(level, float(weight)))
            opts, F = option_rows(kind, level_p, self.finder_.find(rec), seen)
            if region is None:
                truth = next((i for i, o in enumerate(opts) if o[0] == "none"), -1)
            else:
                truth = next((i for i, o in enumerate(opts) if o[1] == region), -1)
                if truth < 0:
                    truth = next((i for i, o in enumerate(opts) if o[0] == "other"), -1)
            groups.append((F, truth))
            weights.append(float(weight))
        return groups, weights

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self._prepare()

    def level_probs(self, kind: str) -> dict[str, float]:
        """``P(level | kind)`` (levels the kind and its family never took are left out)."""
        return self.level_prior_.probs(kind)

    # --- prediction --------------------------------------------------------------------------
    def predict_proba(self, X: Sequence[Record]) -> np.ndarray:
        """Probabilities over ``classes_`` (seen instansi and kinds alone); composed instansi
        never seen in training are not columns, so a row may sum to less than 1."""
        sugg = self._suggestions(X)
        out = np.zeros((len(sugg), len(self.classes_)))
        for i, row in enumerate(sugg):
            for s in row:
                j = self._index_.get(s["instansi"])
                if j is not None:
                    out[i, j] = s["probability"]
        return out

    def predict(self, X: Sequence[Record]) -> list[str]:
        return [row[0]["instansi"] for row in self._suggestions(X, limit=1)]

    def top_k(self, X: Sequence[Record], k: int = 3) -> list[list[tuple[str, float]]]:
        return [
            [(s["instansi"], s["probability"]) for s in row[:k]]
            for row in self._suggestions(X, limit=k if k >= 1 else None)
        ]

    def predict_records(self, X: Sequence[Record], top: int = 10) -> list[dict[str, Any]]:
        """``{"label", "probabilities", "top_k": [{"instansi", "kind", "region", "probability",
        "evidence", "seen_in_training"}], "kind", "region", "evidence", "abstain"}`` per record."""
        out = []
        for row in self._suggestions(X, limit=max(1, top)):
            best = row[0]
            top_rows = [
                {**s, "probability": round(s["probability"], 6)} for s in row[: max(1, top)]
            ]
            out.append(
                {
                    "label": best["instansi"],
                    "probabilities": {s["instansi"]: s["probability"] for s in top_rows},
                    "top_k": top_rows,
                    "kind": best["kind"],
                    "region": best["region"],
                    "evidence": best["evidence"],
                    "abstain": bool(
                        best["probability"] < self.abstain_threshold or _region_guessed(best)
                    ),
                }
            )
        return out

    # --- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """The usual model folder plus ``name_map.json`` (raw instansi spelling -> canonical)."""
        path = super().save(path)
        (path / NAME_MAP_FILE).write_text(
            json.dumps(dict(sorted(self.name_map_.items())), indent=2, ensure_ascii=False) + "\n"
        )
        return path

    def extra_config(self) -> dict[str, Any]:
        if not self.is_fitted:
            return {}
        return {
            "abstain_threshold": float(self.abstain_threshold),
            "n_instansi_seen": len(self.seen_),
            "n_kinds": len(self.kind_clf_.classes_),
            "n_known_regions": len(self.finder_.known),
            "kind_temperature": float(self.kind_clf_.temperature_),
        }


__all__ = ["DispositionModel", "NAME_MAP_FILE"]
