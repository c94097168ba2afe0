"""Which region a kind of instansi takes, learned from the training labels.

Two parts, both fitted on the training labels only:

:class:`LevelPrior`
    ``P(level | kind)`` over ``none / kabkota / provinsi / kecamatan / branch``: the kind's own
    label counts, smoothed towards its *family* (the first word of the kind: ``Dinas``, ``BPJS``,
    ``Kementerian``, ``PT``, ...). A level that neither the kind nor its family ever took has
    probability 0, so the model never composes a name of that form: no ``Dinas Perumahan ... KC
    Semarang`` (no Dinas has branches in the labels), no ``Kementerian Sosial Kota Semarang``, no
    region-free ``Pemerintah-Program BPNT Rastra`` (that kind always names its region). Smoothing
    towards the overall shares, as before, gave every kind every level; measured on the 2017 posts
    it put branch composites of regional offices in the top 3.

:class:`OptionModel`
    For a kind and a report, a conditional logit over the options ``none`` (the region-free
    name), each region candidate the report names at a level the kind takes, and ``other`` (a
    region of the kind the report does not name). Features: the option type, ``log P(level |
    kind)``, the candidate's place-name score, its share at that level, whether the composite was
    seen in training, whether it is the best candidate at its level. Fitted on the training posts
    (true kind, leave-one-out level counts and seen flags), it replaces the fixed
    ``region_slack`` split: with a place found at the kind's level, the 2017 posts choose the
    regional composite far more often than the old split (``slack / (score + slack)``) gave it, which
    ranked region-free ``BPJS Ketenagakerjaan`` above ``BPJS ... KC Sampit``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

LEVELS_ALL = ("none", "kabkota", "provinsi", "kecamatan", "branch")
N_FEATURES = 8
MAX_PER_LEVEL = 3


def family(kind: str) -> str:
    """The first word of a kind (``Dinas``, ``BPJS``, ``Kementerian``): kinds that share it take
    the same forms of region."""
    return kind.split(" ", 1)[0].lower() if kind else ""


class LevelPrior:
    """``P(level | kind)`` from weighted label counts, smoothed towards the kind's family."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, kinds: Sequence[str], levels: Sequence[str], weights: Sequence[float]) -> Any:
        self.kind_counts_: dict[str, Counter[str]] = defaultdict(Counter)
        self.family_counts_: dict[str, Counter[str]] = defaultdict(Counter)
        for k, lv, w in zip(kinds, levels, weights, strict=True):
            self.kind_counts_[k][lv] += float(w)
            self.family_counts_[family(k)][lv] += float(w)
        self.kind_counts_ = dict(self.kind_counts_)
        self.family_counts_ = dict(self.family_counts_)
        return self

    def probs(self, kind: str, minus: tuple[str, float] | None = None) -> dict[str, float]:
        """``{level: P(level | kind)}``; ``minus=(level, weight)`` leaves one example out."""
        own = Counter(self.kind_counts_.get(kind, {}))
        fam = Counter(self.family_counts_.get(family(kind), {}))
        if minus is not None:
            own[minus[0]] -= minus[1]
            fam[minus[0]] -= minus[1]
        n_fam = sum(max(v, 0.0) for v in fam.values())
        n_own = sum(max(v, 0.0) for v in own.values())
        if n_fam <= 0:
            return {"none": 1.0}
        a = self.alpha
        out = {}
        for lv in LEVELS_ALL:
            p = (max(own.get(lv, 0.0), 0.0) + a * max(fam.get(lv, 0.0), 0.0) / n_fam) / (n_own + a)
            if p > 0:
                out[lv] = p
        return out


@lru_cache(maxsize=8192)
def _log(x: float) -> float:
    """``np.log(x)``, remembered: the same few level shares recur in every report (a numpy call
    on one number costs about a microsecond; the option rows took a third of a batch's
    composition, measured)."""
    return np.log(x)


@lru_cache(maxsize=8192)
def _log1p(x: float) -> float:
    """``np.log1p(x)``, remembered (place-name scores are sums of a few fixed weights)."""
    return np.log1p(x)


def option_rows(
    kind: str,
    level_p: Mapping[str, float],
    found: Mapping[str, Sequence[Any]],
    seen: Any,
) -> tuple[list[tuple[str, str | None, list[str]]], np.ndarray]:
    """The options of ``kind`` for one report and their feature rows.

    ``found``: ``{level: [Candidate]}`` best first; ``seen(kind, region) -> bool``. Options are
    ``("none", None, [])``, ``("region", region, evidence)``, ``("other", None, [])``."""
    opts: list[tuple[str, str | None, list[str]]] = []
    rows: list[list[float]] = []
    if "none" in level_p:
        opts.append(("none", None, []))
        rows.append([1, 0, 0, _log(level_p["none"]), 0, 0, 0, 0])
    for lv, p in level_p.items():
        if lv == "none":
            continue
        cands = found.get(lv) or []
        if not cands:
            continue
        cands = cands[:MAX_PER_LEVEL]
        total = sum(c.score for c in cands) or 1.0
        for r, c in enumerate(cands):
            opts.append(("region", c.region, c.evidence))
            rows.append(
                [
                    0,
                    1,
                    0,
                    _log(p),
                    _log1p(c.score),
                    c.score / total,
                    float(seen(kind, c.region)),
                    float(r == 0),
                ]
            )
    p_regional = 1.0 - level_p.get("none", 0.0)
    if p_regional > 1e-9:
        opts.append(("other", None, []))
        rows.append([0, 0, 1, _log(p_regional), 0, 0, 0, 0])
    return opts, np.asarray(rows, dtype=float).reshape(-1, N_FEATURES)


def grouped_softmax(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Softmax of ``scores`` within consecutive groups beginning at ``starts``."""
    sizes = np.diff(np.append(starts, len(scores)))
    group = np.repeat(np.arange(len(starts)), sizes)
    m = np.maximum.reduceat(scores, starts)
    e = np.exp(scores - m[group])
    return e / np.add.reduceat(e, starts)[group]


class OptionModel:
    """Conditional logit over a kind's region options (see the module docstring)."""

    def __init__(self, l2: float = 1.0) -> None:
        self.l2 = l2
        # a prior that works before fitting (and where too few posts name a region to fit):
        # region candidates scored by their place-name score, none and other by their level share
        self.theta_ = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0])

    def fit(
        self, groups: Sequence[tuple[np.ndarray, int]], weights: Sequence[float]
    ) -> OptionModel:
        """``groups``: ``(feature rows, index of the true option)`` per training post."""
        from scipy.optimize import minimize

        groups = [(F, t) for F, t in groups if len(F) > 1 and t >= 0]
        if len(groups) < 20:
            return self
        w = np.array([weights[i] for i in range(len(groups))], dtype=float)
        F = np.vstack([g[0] for g in groups])
        sizes = np.array([len(g[0]) for g in groups])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        true_rows = starts + np.array([g[1] for g in groups])
        group = np.repeat(np.arange(len(groups)), sizes)
        ft = (F[true_rows] * w[:, None]).sum(axis=0)
        lam = self.l2

        def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            s = F @ theta
            m = np.maximum.reduceat(s, starts)
            e = np.exp(s - m[group])
            z = np.add.reduceat(e, starts)
            lse = m + np.log(z)
            p = e / z[group]
            val = -(w * (s[true_rows] - lse)).sum() + 0.5 * lam * theta @ theta
            grad = -ft + (w[group] * p) @ F + lam * theta
            return float(val), grad

        res = minimize(nll, self.theta_.copy(), jac=True, method="L-BFGS-B")
        self.theta_ = np.asarray(res.x, dtype=float)
        return self

    def probs(self, F: np.ndarray) -> np.ndarray:
        s = F @ self.theta_
        e = np.exp(s - s.max())
        return e / e.sum()


__all__ = ["LEVELS_ALL", "LevelPrior", "OptionModel", "family", "grouped_softmax", "option_rows"]
