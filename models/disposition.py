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
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.models.base import Predictor, Record, register
from lapor_triage.models.features import CalibratedLinear
from lapor_triage.models.instansi_names import compose, region_level, split_instansi
from lapor_triage.models.region_choice import LevelPrior, OptionModel, option_rows
from lapor_triage.models.regions import Candidate, RegionFinder
from lapor_triage.models.stacked_linear import StackedLinear

NAME_MAP_FILE = "name_map.json"


LEARNED_EVIDENCE = "kata-kata laporan (dipelajari)"


def _region_guessed(suggestion: Mapping[str, Any]) -> bool:
    """A regional suggestion whose only evidence is the learned wording, no named place."""
    return bool(suggestion.get("region")) and list(suggestion.get("evidence") or []) == [
        LEARNED_EVIDENCE
    ]


def _rank_key(item: tuple[str, float]) -> tuple[float, str]:
    """Best first, ties by name."""
    return -item[1], item[0]


@lru_cache(maxsize=65536)
def _name(kind: str, region: str | None) -> str:
    """:func:`compose`, remembered: the same names are composed in every batch."""
    return compose(kind, region)


class _Tally:
    """Probability mass per composed instansi for one report, with its kind, region, evidence."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = defaultdict(float)
        self.where: dict[str, tuple[str, str | None]] = {}
        self.evidence: dict[str, list[str]] = {}

    def put(self, kind: str, region: str | None, p: float, ev: list[str] | None = None) -> None:
        name = _name(kind, region)
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
        self.option_l2 = option_l2
        self.other_regions = other_regions
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

    def _prepare(self) -> None:
        """Look-up tables for prediction, rebuilt after loading (never pickled)."""
        self._index_ = {c: i for i, c in enumerate(self.classes_)}
        self._seen_set_ = set(self.seen_)
        self._flat_parts_ = (
            [split_instansi(str(c)) for c in self.flat_clf_.classes_] if self.flat_clf_ else []
        )
        self._kind_names_ = [str(c) for c in self.kind_clf_.classes_]
        self._kind_index_ = {k: j for j, k in enumerate(self._kind_names_)}
        self._level_p_ = {k: self.level_prior_.probs(k) for k in self._kind_names_}
        # the seen regional instansi of each kind (flat classifier columns), for "other" mass
        self._kind_flat_: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for j, (kind, region) in enumerate(self._flat_parts_):
            if region:
                self._kind_flat_[kind].append((j, region))
        self._seen_pairs_ = {split_instansi(n) for n in self.seen_}
        # the flat columns of each kind's seen regional instansi, as one index array
        self._kind_flat_idx_ = {
            k: (
                np.array([j for j, _ in v], dtype=np.intp),
                [r for _, r in v],
                [_name(k, r) for _, r in v],
            )
            for k, v in self._kind_flat_.items()
        }
        # per flat column: its kind's index (-1: none), whether it is region-free; the columns
        # of each region (for :meth:`_spread_flat`)
        self._flat_kind_ = np.array(
            [self._kind_index_.get(k, -1) for k, _ in self._flat_parts_], dtype=np.intp
        )
        self._flat_no_region_ = np.array([r is None for _, r in self._flat_parts_], dtype=bool)
        cols_of_region: dict[str, list[int]] = defaultdict(list)
        for j, (_, region) in enumerate(self._flat_parts_):
            if region:
                cols_of_region[region].append(j)
        self._flat_cols_of_region_ = {
            r: np.array(v, dtype=np.intp) for r, v in cols_of_region.items()
        }
        # the three classifiers' weights side by side: one product per batch (same numbers)
        self._stacked_ = StackedLinear([self.kind_clf_, self.flat_clf_, self.region_clf_])
        # what happens to each kind past ``top_kinds`` (:meth:`_put_kinds_alone`), decided once:
        # (kind, region-free name, flat columns, regions, names) or the name alone
        self._alone_plan_: list[tuple[str, str, Any, list[str], list[str]] | tuple[str, str]] = []
        for kind in self._kind_names_:
            seen = self._kind_flat_idx_.get(kind)
            if "none" in (self._level_p_.get(kind) or {}) or seen is None:
                self._alone_plan_.append((kind, _name(kind, None)))
            else:
                self._alone_plan_.append((kind, _name(kind, None), *seen))
        if hasattr(self, "options_"):
            self._prepare_options()

    def _prepare_options(self) -> None:
        """Each kind's options and their probabilities when the report names no region at a
        level the kind takes (about half the kinds composed): they depend on the kind alone."""
        self._alone_ = {}
        for k in self._kind_names_:
            opts, F = option_rows(k, self._level_p_[k], {}, self._seen_pair)
            self._alone_[k] = (opts, self.options_.probs(F).tolist())

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self._prepare()

    def level_probs(self, kind: str) -> dict[str, float]:
        """``P(level | kind)`` (levels the kind and its family never took are left out)."""
        return self.level_prior_.probs(kind)

    # --- prediction --------------------------------------------------------------------------
    def _suggestions(
        self, X: Sequence[Record], limit: int | None = None
    ) -> list[list[dict[str, Any]]]:
        """Per record: suggestions ``{"instansi", "kind", "region", "probability", "evidence",
        "seen_in_training"}`` best first (all with probability > 0, or the first ``limit``)."""
        self._check_fitted()
        X = [({"text": r} if isinstance(r, str) else r) for r in X]
        if not X:
            return []
        feats = self._featurize(X)
        p_kind, p_flat, p_region = self._stacked_.predict_proba(feats)
        wf = self.flat_weight if p_flat is not None else 0.0
        region_names = [str(c) for c in self.region_clf_.classes_] if self.region_clf_ else []
        out = []
        for i, rec in enumerate(X):
            found = self.finder_.find(rec)
            if p_region is not None and self.region_text_weight > 0:
                found = self._with_text_regions(found, p_region[i], region_names)
            tally = _Tally()
            flat_row = p_flat[i] if p_flat is not None else None
            mass = p_kind[i] * (1.0 - wf)
            if flat_row is not None and wf > 0:
                self._spread_flat(tally, mass, wf, flat_row, found)
            order = np.argsort(-mass).tolist()
            mass_l = mass.tolist()  # the same numbers as float(mass[j]), without numpy scalars
            for j in order[: self.top_kinds]:
                self._compose(tally, self._kind_names_[j], mass_l[j], found, flat_row)
            # the kinds past top_kinds keep their mass as is
            self._put_kinds_alone(tally, order[self.top_kinds :], mass_l, flat_row)
            out.append(self._ranked(tally, limit))
        return out

    def _spread_flat(
        self,
        tally: _Tally,
        mass: np.ndarray,
        wf: float,
        flat_row: np.ndarray,
        found: Mapping[str, Sequence[Candidate]],
    ) -> None:
        """The flat classifier's share (``wf`` times its probability, where at least 1e-5): a
        seen instansi whose region the report names (or any, with ``flat_regions="any"``) goes to
        the tally; a region-free one, or one whose region the report does not name, adds to its
        kind's ``mass`` (in place) and goes to the kind's options as the kind's own mass does.
        Vectorised over the columns: ``np.add.at`` adds in column order, as a loop would, so the
        sums are the same to the last bit (a flat loop per column was a third of a short,
        off-topic report's prediction, measured)."""
        regions_found = {c.region: c.evidence for cs in found.values() for c in cs}
        js = np.flatnonzero(flat_row >= 1e-5)
        if not js.size:
            return
        pf = wf * flat_row[js]
        to_kind = self._flat_no_region_[js]
        if self.flat_regions == "found":
            named = np.zeros(len(flat_row), dtype=bool)
            for region in regions_found:
                cols = self._flat_cols_of_region_.get(region)
                if cols is not None:
                    named[cols] = True
            to_kind = to_kind | ~named[js]
        k = self._flat_kind_[js]
        to_kind &= k >= 0  # a kind the kind classifier does not know: to the tally as it is
        np.add.at(mass, k[to_kind], pf[to_kind])
        rest = ~to_kind
        for j, p in zip(js[rest].tolist(), pf[rest].tolist(), strict=True):
            kind, region = self._flat_parts_[j]
            tally.put(kind, region, p, regions_found.get(region or ""))

    def _ranked(self, tally: _Tally, limit: int | None = None) -> list[dict[str, Any]]:
        scores, where, evidence = tally.scores, tally.where, tally.evidence
        total = sum(scores.values()) or 1.0
        items = scores.items()
        if limit is not None and len(scores) > limit:
            # only what can be in the first ``limit``: at least as probable as the limit-th
            # (ties are then ordered by name as in the full sort); probabilities stay over all
            values = np.fromiter(scores.values(), dtype=float, count=len(scores))
            kth = float(np.partition(values, len(values) - limit)[len(values) - limit])
            items = [t for t in items if t[1] >= kth]
        ranked = sorted(items, key=_rank_key)
        if limit is not None:
            ranked = [t for t in ranked if t[1] > 0][:limit]
        return [
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

    def _seen_pair(self, kind: str, region: str | None) -> bool:
        return (kind, region) in self._seen_pairs_

    def _compose(
        self,
        tally: _Tally,
        kind: str,
        mass: float,
        found: Mapping[str, Sequence[Candidate]],
        flat_row: np.ndarray | None,
    ) -> None:
        """``mass`` of ``kind`` over its options: region-free, the named regions at the levels it
        takes, a region not named (:meth:`_other`), by the fitted option model."""
        level_p = self._level_p_.get(kind) or self.level_prior_.probs(kind)
        alone = self._alone_.get(kind)
        if alone is not None and not any(found.get(lv) for lv in level_p if lv != "none"):
            opts, probs = alone  # what option_rows and the option model give without regions
        else:
            opts, F = option_rows(kind, level_p, found, self._seen_pair)
            probs = self.options_.probs(F).tolist()
        for (what, region, ev), p in zip(opts, probs, strict=True):
            if what == "region":
                tally.put(kind, region, mass * p, list(ev))
            elif what == "none":
                tally.put(kind, None, mass * p)
            else:
                self._other(tally, kind, mass * p, flat_row, "none" in level_p)

    def _put_kinds_alone(
        self, tally: _Tally, order: list[int], mass: list[float], flat_row: np.ndarray | None
    ) -> None:
        """The kinds in ``order`` keep their mass as a whole until one has under 1e-4: to the
        region-free name where the kind takes one, else spread over its seen regional instansi
        by the flat classifier (as :meth:`_other`), else to the region-free name. The plan of
        each kind is made once (:meth:`_prepare`) and the tally written inline (a short,
        off-topic report gives a share to 200-odd kinds: this loop, one call per kind, was
        most of its prediction, measured)."""
        scores, where = tally.scores, tally.where
        plans = self._alone_plan_
        for j in order:
            m = mass[j]
            if m < 1e-4:
                break
            plan = plans[j]
            if len(plan) == 5:  # a kind that always names a region: its seen regional ones
                kind, none_name, idx, regions, names = plan
                p = flat_row[idx] if flat_row is not None else np.ones(len(idx))
                z = float(p.sum())
                if z > 0:
                    for region, name, pj in zip(regions, names, p.tolist(), strict=True):
                        if pj > 0:
                            scores[name] += m * pj / z
                            where[name] = (kind, region)
                    continue
            kind, none_name = plan[0], plan[1]
            scores[none_name] += m
            where[none_name] = (kind, None)

    def _other(
        self,
        tally: _Tally,
        kind: str,
        mass: float,
        flat_row: np.ndarray | None,
        region_free_ok: bool,
    ) -> None:
        """The mass of "a region of ``kind`` the report does not name": to the kind's seen
        regional instansi by the flat classifier (``other_regions="seen"``, or always when the
        kind never goes without a region), else to the region-free name."""
        seen = self._kind_flat_idx_.get(kind)
        if seen is not None and (self.other_regions == "seen" or not region_free_ok):
            idx, regions, names = seen
            p = flat_row[idx] if flat_row is not None else np.ones(len(idx))
            z = float(p.sum())
            if z > 0:
                scores, where = tally.scores, tally.where  # tally.put, inline
                for region, name, pj in zip(regions, names, p.tolist(), strict=True):
                    if pj > 0:
                        scores[name] += mass * pj / z
                        where[name] = (kind, region)
                return
        tally.put(kind, None, mass)

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
                cand.evidence.append(LEARNED_EVIDENCE)
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
