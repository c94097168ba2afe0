"""Prediction-time composition of the disposition model: kind x region options into ranked instansi.

:class:`DispositionComposition` is the half of
:class:`~lapor_triage.models.disposition.DispositionModel` that turns a batch of reports into
ranked suggestions once the model is fitted: the look-up tables made once per model
(:meth:`~DispositionComposition._prepare`, rebuilt after loading, never pickled), the three
classifiers' probabilities from one stacked product
(:class:`~lapor_triage.models.stacked_linear.StackedLinear`), and per report the region
candidates, the flat classifier's share, each likely kind's options and the tally of the mass per
composed instansi. The model's settings (``flat_weight``, ``flat_regions``, ``other_regions``,
``region_text_weight``, ``top_kinds``) are read at prediction time, so the evaluation can score
several settings on one fitted model.

The speed-ups here (stacked product, options of the region-free kinds made once, plans for the
kinds past ``top_kinds``, ``np.add.at`` for the flat share, only the first ranks sorted) keep the
numbers to the last bit: ``python -m lapor_triage.evaluation.disposition_speed --compare`` checks a
dump of every suggestion on the 1,320 posts and the 502 demo reports, and
``tests/models/test_disposition_fast_path.py`` checks them against the plain path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from lapor_triage.models.base import Record
from lapor_triage.models.instansi_names import compose, region_level, split_instansi
from lapor_triage.models.region_choice import option_rows
from lapor_triage.models.regions import Candidate
from lapor_triage.models.stacked_linear import StackedLinear

LEARNED_EVIDENCE = "kata-kata laporan (dipelajari)"


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


class DispositionComposition:
    """Mixin of :class:`~lapor_triage.models.disposition.DispositionModel`: ranked suggestions
    of a fitted model (``_suggestions``) and the tables they need (``_prepare``)."""

    def _prepare(self) -> None:
        """Look-up tables for prediction, rebuilt after loading (never pickled)."""
        self._index_ = {c: i for i, c in enumerate(self.classes_)}
        self._seen_set_ = set(self.seen_)
        self._flat_parts_ = (
            [split_instansi(str(c)) for c in self.flat_clf_.classes_] if self.flat_clf_ else []
        )
        self._kind_names_ = [str(c) for c in self.kind_clf_.classes_]
        self._kind_index_ = {k: j for j, k in enumerate(self._kind_names_)}
        region_clf = getattr(self, "region_clf_", None)
        self._region_names_ = [str(c) for c in region_clf.classes_] if region_clf else []
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
        region_names = self._region_names_
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


__all__ = ["LEARNED_EVIDENCE", "DispositionComposition"]
