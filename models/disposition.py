"""National disposition for Admin Pusat: which instansi a report goes to, as kind + region.

An instansi is a *kind* (Dinas Perhubungan, BPJS Kesehatan, Kementerian Sosial, Kecamatan) and,
where it has one, a *region* or branch (Kota Semarang, KC Sampit). :class:`DispositionModel`

1. predicts the kind from the text (word + char TF-IDF, LinearSVC, temperature-calibrated:
   :class:`~lapor_triage.models.features.CalibratedLinear`);
2. finds regions from the places the report names (:class:`~lapor_triage.models.regions.
   RegionFinder`: kelurahan, kecamatan, kabupaten/kota and province names against the Kemendagri
   region data, and the reporter's location fields);
3. composes them: ``P(kind + region) = P(kind) * P(level | kind) * share of region at that level``,
   with ``P(level | kind)`` (none / kabkota / provinsi / kecamatan / branch) counted in training
   and smoothed towards the overall shares. An instansi never seen in training (Dinas Perhubungan
   Kota Bandung, when only Kota Semarang's was seen) is suggested when its kind is likely and its
   region is named. Where the report names no place at the level a kind needs, that kind's mass
   goes to the region-free suggestion (``Dinas Perhubungan``), never to a guessed region;
4. mixes in (weight ``flat_weight``) a flat calibrated classifier over the instansi seen in
   training, whose regional labels keep their mass only where the finder found their region too
   (``flat_regions="found"``; ``"any"`` lets it suggest a seen region on the text alone); the
   mass of the others goes to the regions the report does name at that level, as in 3.

``region_text_weight > 0`` (off by default) adds regions learned from the wording (a classifier
over the training regions: ``#LaporHendi``, ``BRT``, ``smg`` point to Kota Semarang) as candidates
of that weight times their probability. It raises top-1 on the 2017 posts, most of which come
from a few regions, but it is a guess for a report that names no place, which the issue rules out
by default; ``python -m lapor_triage.evaluation.disposition_quality`` scores both.

``abstain`` is true when the best suggestion's probability is under ``abstain_threshold``, as for
the agency router. ``predict_proba`` covers ``classes_`` (seen instansi and every kind alone);
``predict_records`` / ``top_k`` / ``predict`` rank the composed suggestions, unseen ones included.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.models.base import Predictor, Record, register
from lapor_triage.models.features import CalibratedLinear
from lapor_triage.models.instansi_names import compose, region_level, split_instansi
from lapor_triage.models.regions import Candidate, RegionFinder

NAME_MAP_FILE = "name_map.json"
LEVELS_ALL = ("none", "kabkota", "provinsi", "kecamatan", "branch")


class _Tally:
    """Probability mass per composed instansi for one report, with its kind, region, evidence."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = defaultdict(float)
        self.where: dict[str, tuple[str, str | None]] = {}
        self.evidence: dict[str, list[str]] = {}

    def put(self, kind: str, region: str | None, p: float, ev: list[str] | None = None) -> None:
        name = compose(kind, region)
        self.scores[name] += p
        self.where[name] = (kind, region)
        if ev:
            self.evidence.setdefault(name, ev)


@register
class DispositionModel(Predictor):
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
        flat_weight: float = 0.5,
        flat_regions: str = "found",
        region_prior: float = 1.0,
        region_slack: float = 1.0,
        region_text_weight: float = 0.0,
        region_text_min: float = 0.05,
        top_kinds: int = 10,
        abstain_threshold: float = 0.3,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.max_chars = max_chars
        self.flat_weight = flat_weight
        self.flat_regions = flat_regions
        self.region_prior = region_prior
        self.region_slack = region_slack
        self.region_text_weight = region_text_weight
        self.region_text_min = region_text_min
        self.top_kinds = top_kinds
        self.abstain_threshold = abstain_threshold
        self.random_state = random_state

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
        """Word (1-2) and character (2-5, within words) TF-IDF of the first ``max_chars``.

        scikit-learn's vectorizers, not :class:`~lapor_triage.models.features.TextFeatures`,
        whose character n-grams made the three one-vs-rest LinearSVCs (250+ kinds, 400+
        instansi, regions) take minutes; these take about 20 s of CPU on the 1,331 posts.
        Character n-grams added 0.025 top-1 over words alone (5-fold, same folds)."""
        texts = [str(r.get("text") or "")[: self.max_chars] for r in X]
        if fit:
            from sklearn.feature_extraction.text import TfidfVectorizer

            min_df = self.min_df if len(texts) >= 50 else 1
            self.word_ = TfidfVectorizer(
                ngram_range=tuple(self.word_ngram_range),
                min_df=min_df,
                sublinear_tf=True,
                max_features=self.max_features,
                token_pattern=r"(?u)\b\w+\b",
                dtype=np.float32,
            ).fit(texts)
            self.char_ = None
            if self.char_ngram_range:
                self.char_ = TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(self.char_ngram_range),
                    min_df=min_df,
                    sublinear_tf=True,
                    max_features=self.max_features,
                    dtype=np.float32,
                ).fit(texts)
        word = self.word_.transform(texts)
        if self.char_ is None:
            return word
        import scipy.sparse as sp

        return sp.hstack([word, self.char_.transform(texts)], format="csr")

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
        if self.flat_weight > 0 and len(set(y)) > 1:
            self.flat_clf_ = self._linear(feats, y, sw)

        self.region_clf_ = None
        regions = [r or "" for _, r in parts]
        if self.region_text_weight > 0 and len(set(regions)) > 1:
            self.region_clf_ = self._linear(feats, regions, sw)
        w = np.ones(len(y)) if sw is None else sw
        levels: dict[str, Counter[str]] = defaultdict(Counter)
        overall: Counter[str] = Counter()
        known: dict[str, str] = {}
        for (kind, region), weight in zip(parts, w, strict=True):
            level = region_level(region)
            levels[kind][level] += float(weight)
            overall[level] += float(weight)
            if region:
                known[region] = level
        total = sum(overall.values())
        self.level_prior_ = {lv: overall[lv] / total for lv in LEVELS_ALL}
        self.kind_levels_ = {k: dict(c) for k, c in levels.items()}
        self.finder_ = RegionFinder(known)
        self.seen_ = sorted(set(y))
        self.classes_ = np.array(sorted(set(y) | {compose(k, None) for k in kinds}))
        self.name_map_ = {}
        for rec, label in zip(X, y, strict=True):
            raw = rec.get("label_raw") if isinstance(rec, Mapping) else None
            if raw:
                self.name_map_[str(raw)] = label
        self._prepare()
        return self

    def _prepare(self) -> None:
        self._index_ = {c: i for i, c in enumerate(self.classes_)}
        self._seen_set_ = set(self.seen_)
        self._flat_parts_ = (
            [split_instansi(str(c)) for c in self.flat_clf_.classes_] if self.flat_clf_ else []
        )

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self._prepare()

    def level_probs(self, kind: str) -> dict[str, float]:
        """``P(level | kind)``: training counts smoothed towards the overall shares."""
        counts = self.kind_levels_.get(kind, {})
        n = sum(counts.values())
        a = self.region_prior
        return {
            lv: (counts.get(lv, 0.0) + a * self.level_prior_[lv]) / (n + a) for lv in LEVELS_ALL
        }

    # --- prediction --------------------------------------------------------------------------
    def _suggestions(self, X: Sequence[Record]) -> list[list[dict[str, Any]]]:
        """Per record: suggestions ``{"instansi", "kind", "region", "probability", "evidence",
        "seen_in_training"}`` best first (all with probability > 0)."""
        self._check_fitted()
        X = [({"text": r} if isinstance(r, str) else r) for r in X]
        if not X:
            return []
        feats = self._featurize(X)
        p_kind = self.kind_clf_.predict_proba(feats)
        kind_names = [str(c) for c in self.kind_clf_.classes_]
        p_flat = self.flat_clf_.predict_proba(feats) if self.flat_clf_ is not None else None
        wf = self.flat_weight if p_flat is not None else 0.0
        out = []
        p_region = self.region_clf_.predict_proba(feats) if self.region_clf_ is not None else None
        region_names = [str(c) for c in self.region_clf_.classes_] if self.region_clf_ else []
        for i, rec in enumerate(X):
            found = self.finder_.find(rec)
            if p_region is not None:
                found = self._with_text_regions(found, p_region[i], region_names)
            tally = _Tally()
            put = tally.put
            row = p_kind[i]
            order = np.argsort(-row)[: self.top_kinds]
            rest = 1.0 - float(row[order].sum())
            for j in order:
                kind, pk = kind_names[j], float(row[j]) * (1.0 - wf)
                for level, pl in self.level_probs(kind).items():
                    mass = pk * pl
                    cands = found.get(level, []) if level != "none" else []
                    self._spread(put, kind, cands, mass)
            if rest > 0:  # the kinds past top_kinds keep their mass, region-free
                for j in np.argsort(-row)[self.top_kinds :]:
                    if row[j] > 1e-4:
                        put(kind_names[j], None, float(row[j]) * (1.0 - wf))
            if p_flat is not None:
                regions_found = {c.region: c.evidence for cs in found.values() for c in cs}
                for j, pf in enumerate(p_flat[i]):
                    if pf < 1e-5:
                        continue
                    kind, region = self._flat_parts_[j]
                    if region and self.flat_regions == "found" and region not in regions_found:
                        # a seen instansi whose region the report does not name: its mass goes
                        # to the regions named at that level (as the kind's own mass does), or
                        # to the kind alone when none is named
                        self._spread(put, kind, found.get(region_level(region), []), wf * float(pf))
                    else:
                        put(kind, region, wf * float(pf), regions_found.get(region or ""))
            scores, where, evidence = tally.scores, tally.where, tally.evidence
            total = sum(scores.values()) or 1.0
            ranked = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
            out.append(
                [
                    {
                        "instansi": name,
                        "kind": where[name][0],
                        "region": where[name][1],
                        "probability": float(p / total),
                        "evidence": list(evidence.get(name, [])),
                        "seen_in_training": name in self._seen_set_,
                    }
                    for name, p in ranked
                    if p > 0
                ]
            )
        return out

    def _spread(self, put: Any, kind: str, cands: Sequence[Candidate], mass: float) -> None:
        """``mass`` of ``kind`` over the region candidates by score, ``region_slack`` of it to
        the kind alone (all of it when there is no candidate)."""
        if not cands:
            put(kind, None, mass)
            return
        z = sum(c.score for c in cands) + self.region_slack
        for c in cands:
            put(kind, c.region, mass * c.score / z, c.evidence)
        put(kind, None, mass * self.region_slack / z)

    def _with_text_regions(
        self, found: dict[str, list[Candidate]], row: np.ndarray, names: list[str]
    ) -> dict[str, list[Candidate]]:
        """Add the regions the text's wording points to (learned: ``#LaporHendi``, ``BRT``,
        ``smg`` for Kota Semarang) with ``region_text_weight * P(region | text)``; only regions
        at least ``region_text_min`` probable, so a report without such cues adds none."""
        out = {lv: {c.region: c for c in cands} for lv, cands in found.items()}
        for j in np.flatnonzero(row >= self.region_text_min):
            region = names[j]
            if not region:
                continue
            level = region_level(region)
            table = out.setdefault(level, {})
            cand = table.get(region)
            if cand is None:
                cand = table[region] = Candidate(region, level)
            cand.score += self.region_text_weight * float(row[j])
            if not cand.evidence:
                cand.evidence.append("kata-kata laporan (dipelajari)")
        return {lv: sorted(t.values(), key=lambda c: (-c.score, c.region)) for lv, t in out.items()}

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
        return [row[0]["instansi"] for row in self._suggestions(X)]

    def top_k(self, X: Sequence[Record], k: int = 3) -> list[list[tuple[str, float]]]:
        return [
            [(s["instansi"], s["probability"]) for s in row[:k]] for row in self._suggestions(X)
        ]

    def predict_records(self, X: Sequence[Record], top: int = 10) -> list[dict[str, Any]]:
        """``{"label", "probabilities", "top_k": [{"instansi", "kind", "region", "probability",
        "evidence", "seen_in_training"}], "kind", "region", "evidence", "abstain"}`` per record."""
        out = []
        for row in self._suggestions(X):
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
                    "abstain": bool(best["probability"] < self.abstain_threshold),
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
