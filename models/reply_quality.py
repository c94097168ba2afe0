"""Reply quality: is a follow-up (tindak lanjut) substantif or normatif *for the report it answers*?

``ReplyQualityScorer`` combines two judgements, following ../shared/data/replies/GUIDELINE.md:

1. **content** — does the reply carry concrete content (an action, a date, a finding, the requested
   information, a reasoned decision, a request for a specific detail)? A logistic regression over
   TF-IDF of the reply (words and character n-grams) plus hand-made signals
   (:mod:`models.reply_signals`: boilerplate lexicon hits and coverage, completed-action verbs,
   dates, quantities, named units and places, whether the report's question is answered) and,
   opt-in (``novelty``, ``echo_mask``), what the reply *adds* to its report (:mod:`models.reply_novelty`: new vs echoed
   numbers, places, names and content words; the n-grams read the reply with what it repeats from
   the report masked, so echoing the report's place and object is not substance).
2. **relevance** — is that content about *this* report? A logistic regression over report↔reply
   signals (TF-IDF cosines, overlap of content words, of the report's title and of the reply's
   specific tokens with the report, topic consistency, the weighted content words both share,
   opt-in (``place_relevance``) whether the reply names the report's places and takes up its object, optionally a
   multilingual sentence encoder). It learns from the pairs the guideline labels
   ``tidak_relevan`` and from *relevance swaps* made from the training data: each substantive
   reply placed under other reports of the same agency (``swap_mode="agency"``), or under the
   most similar other report (``"similar"``), or one of each (``"mixed"``).

A small logistic combiner, fitted on out-of-fold outputs of both, gives calibrated
``P(substantif)``. Reasons come from one-vs-rest models on the labelled reason codes, merged with
lexicon evidence and kept consistent with the label. Evidence is a list of character spans of the
reply text as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from lapor_triage.models.base import Predictor, Record, record_text, register
from lapor_triage.models.reply_lexicon import (
    COMPILED_SUBSTANTIF,
    NORMATIF_REASONS,
    REASONS,
    SUBSTANTIF_REASONS,
    find_phrases,
)
from lapor_triage.models.reply_novelty import (
    PLACE_SIGNAL_NAMES,
    mask_echo,
    novelty_signals,
    place_signals,
)
from lapor_triage.models.reply_signals import (
    PAIR_SIGNAL_NAMES,
    content_signals,
    content_words,
    encode_texts,
    pair_signals,
    truncate,
)

LABELS = ["normatif", "substantif"]
_DETAIL_RES = COMPILED_SUBSTANTIF["permintaan_data_spesifik"]


class EmptyReplyError(ValueError):
    """The reply text is empty or whitespace: there is nothing to judge."""

    def __init__(self, message: str = "nothing to judge: reply_text is empty") -> None:
        super().__init__(message)


def _relevance_analyzer(text: str) -> list[str]:
    """Content words (stemmed, stopwords and boilerplate removed) for report↔reply similarity."""
    return sorted(content_words(text)) if text else []


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _reply_of(record: Record) -> str:
    text = record_text(record, "reply_text")
    if not text and not isinstance(record, str):
        text = record_text(record, "text")
    return text


def _report_of(record: Record) -> str:
    return "" if isinstance(record, str) else record_text(record, "report_text")


@register
class ReplyQualityScorer(Predictor):
    """normatif | substantif for a (report, reply) pair, with reasons, evidence and relevance."""

    task = "reply-quality"

    def __init__(
        self,
        C: float = 32.0,
        signal_weight: float = 0.05,
        relevance_C: float = 1.0,
        relevance_C_grid: Sequence[float] | None = (0.3, 1.0, 3.0),
        swaps_per_reply: int = 2,
        swap_weight: float = 0.2,
        swap_weight_grid: Sequence[float] | None = (0.1, 0.2, 0.4, 0.8),
        irrelevant_weight: float = 1.0,
        shared_weight: float = 1.0,
        swap_mode: str = "agency",
        detail_relevance_floor: float = 0.6,
        max_chars: int = 4000,
        template_threshold: float = 0.85,
        reason_threshold: float = 0.35,
        lexicon_weight: float = 0.3,
        encoder: str | None = None,
        novelty: bool = False,
        echo_mask: bool = False,
        place_relevance: bool = False,
        cv_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ inputs
    def _texts(self, X: Sequence[Record], check: bool = True) -> tuple[list[str], list[str]]:
        reports, replies = [], []
        for rec in X:
            reply = _reply_of(rec)
            if check and not reply.strip():
                raise EmptyReplyError()
            reports.append(truncate(_report_of(rec), self.max_chars))
            replies.append(truncate(reply, self.max_chars))
        return reports, replies

    # ------------------------------------------------------------------ features
    def _content_dense(self, reports: list[str], replies: list[str]) -> np.ndarray:
        rows = [content_signals(a, b) for a, b in zip(reports, replies, strict=True)]
        if getattr(self, "novelty", False):
            rows = [
                np.concatenate([r, novelty_signals(a, b)])
                for r, a, b in zip(rows, reports, replies, strict=True)
            ]
        return np.vstack(rows)

    def _content_texts(self, reports: list[str], replies: list[str]) -> list[str]:
        """The reply text the content n-grams read: with ``echo_mask``, what it repeats from
        the report is one placeholder word (repeating the report is not substance)."""
        if not getattr(self, "echo_mask", False):
            return replies
        return [mask_echo(a, b) for a, b in zip(reports, replies, strict=True)]

    def _report_dependent_content(self) -> bool:
        return bool(getattr(self, "novelty", False) or getattr(self, "echo_mask", False))

    def _content_matrix(self, reports: list[str], replies: list[str]) -> sparse.csr_matrix:
        dense = self.content_scaler_.transform(self._content_dense(reports, replies))
        texts = self._content_texts(reports, replies)
        return sparse.hstack(
            [
                self.word_vec_.transform(texts),
                self.char_vec_.transform(texts),
                sparse.csr_matrix(dense * self.signal_weight),
            ]
        ).tocsr()

    def _embed_cos(self, reports: list[str], replies: list[str]) -> np.ndarray:
        if not self.encoder:
            return np.zeros(len(reports))
        a = encode_texts(reports, self.encoder)
        b = encode_texts(replies, self.encoder)
        return np.sum(a * b, axis=1)

    def _pair_matrix(self, reports: list[str], replies: list[str]) -> np.ndarray:
        if not reports:
            n_extra = len(PLACE_SIGNAL_NAMES) if getattr(self, "place_relevance", False) else 0
            return np.zeros((0, len(PAIR_SIGNAL_NAMES) + n_extra))
        wa, wb = self.rel_word_vec_.transform(reports), self.rel_word_vec_.transform(replies)
        ca, cb = self.rel_char_vec_.transform(reports), self.rel_char_vec_.transform(replies)
        cos_w = np.asarray(wa.multiply(wb).sum(axis=1)).ravel()
        cos_c = np.asarray(ca.multiply(cb).sum(axis=1)).ravel()
        cos_e = self._embed_cos(reports, replies)
        rows = [
            pair_signals(a, b, cw, cc, ce)
            for a, b, cw, cc, ce in zip(reports, replies, cos_w, cos_c, cos_e, strict=True)
        ]
        if getattr(self, "place_relevance", False):
            rows = [
                np.concatenate([r, place_signals(a, b)])
                for r, a, b in zip(rows, reports, replies, strict=True)
            ]
        return np.vstack(rows)

    def _floor(self, pr: np.ndarray, replies: list[str]) -> np.ndarray:
        """A reply that asks for a specific missing detail fits the report it asks about: its
        relevance is not allowed below ``detail_relevance_floor``."""
        if not self.detail_relevance_floor:
            return pr
        asks = np.array([any(p.search(r) for p in _DETAIL_RES) for r in replies], dtype=bool)
        return np.where(asks, np.maximum(pr, self.detail_relevance_floor), pr)

    def _rel_X(self, P: np.ndarray, reports: list[str], replies: list[str]) -> sparse.csr_matrix:
        """Relevance input: scaled pair signals and the content words report and reply share."""
        dense = sparse.csr_matrix(self.pair_scaler_.transform(P))
        if not self.shared_weight:
            return dense
        shared = self.rel_word_vec_.transform(reports).multiply(
            self.rel_word_vec_.transform(replies)
        )
        return sparse.hstack([dense, shared * (self.shared_weight * 10.0)]).tocsr()

    def _swaps(
        self, idx: np.ndarray, reports: list[str], content: np.ndarray, pool: np.ndarray
    ) -> list[tuple[int, int]]:
        """(reply row, report row) pairs: a content reply placed under another report.

        ``swap_mode="similar"`` takes the most similar other report (plus one random when
        ``swaps_per_reply`` > 1); ``"agency"`` takes other reports of the same agency (random).
        """
        if self.swaps_per_reply <= 0 or len(pool) < 2:
            return []
        if self.swap_mode == "mixed":  # one same-agency report and one most similar report
            a = self._swaps_mode("agency", idx, reports, content, pool, 1)
            b = self._swaps_mode("similar", idx, reports, content, pool, 1)
            return sorted(set(a) | set(b))
        return self._swaps_mode(self.swap_mode, idx, reports, content, pool, self.swaps_per_reply)

    def _swaps_mode(
        self,
        mode: str,
        idx: np.ndarray,
        reports: list[str],
        content: np.ndarray,
        pool: np.ndarray,
        per_reply: int,
    ) -> list[tuple[int, int]]:
        pool = np.asarray(pool)
        pos = {int(r): k for k, r in enumerate(pool)}
        rng = np.random.default_rng(self.random_state)
        out: list[tuple[int, int]] = []
        if mode == "agency":
            agencies = getattr(self, "_fit_agencies", None) or [None] * len(reports)
            by_agency: dict[Any, list[int]] = {}
            for r in pool:
                by_agency.setdefault(agencies[int(r)], []).append(int(r))
            for i in idx:
                if not content[i] or int(i) not in pos:
                    continue
                same = [j for j in by_agency.get(agencies[int(i)], []) if j != int(i)]
                cands = same if len(same) >= 1 else [int(j) for j in pool if int(j) != int(i)]
                k = min(per_reply, len(cands))
                out.extend((int(i), int(j)) for j in rng.choice(cands, size=k, replace=False))
            return out
        mat = self.rel_word_vec_.transform([reports[i] for i in pool])
        sims = (mat @ mat.T).toarray()
        for i in idx:
            if not content[i] or int(i) not in pos:
                continue
            row = sims[pos[int(i)]].copy()
            row[pos[int(i)]] = -1.0
            order = np.argsort(-row)
            picks = list(order[: max(per_reply - 1, 1)])
            if per_reply > 1:  # and one random other report
                other = [k for k in range(len(pool)) if k != pos[int(i)] and k not in picks]
                if other:
                    picks.append(int(rng.choice(other)))
            out.extend((int(i), int(pool[k])) for k in picks)
        return out

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: Sequence[Record],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
        reasons: Sequence[Sequence[str]] | None = None,
    ) -> ReplyQualityScorer:
        y = [str(v) for v in y]
        bad = sorted(set(y) - set(LABELS))
        if bad:
            raise ValueError(f"unknown reply labels {bad}; expected {LABELS}")
        if len(set(y)) < 2:
            raise ValueError("reply-quality training needs both normatif and substantif examples")
        if reasons is None:
            reasons = [
                list(rec.get("reasons") or []) if isinstance(rec, Mapping) else [] for rec in X
            ]
        reasons = [list(r or []) for r in reasons]
        reports, replies = self._texts(X)
        n = len(replies)
        self._fit_agencies = [rec.get("agency") if isinstance(rec, Mapping) else None for rec in X]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        ybin = np.array([v == "substantif" for v in y])
        irrelevant = np.array(["tidak_relevan" in r for r in reasons])
        content = ybin | irrelevant
        # Requests for a missing detail fit (almost) any report: no swaps made from them.
        swappable = (
            content & ~irrelevant & np.array(["permintaan_data_spesifik" not in r for r in reasons])
        )
        self.classes_ = list(LABELS)

        texts = self._content_texts(reports, replies)
        self.word_vec_ = TfidfVectorizer(
            ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=40000
        ).fit(texts)
        self.char_vec_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=30000
        ).fit(texts)
        self.rel_word_vec_ = TfidfVectorizer(analyzer=_relevance_analyzer, sublinear_tf=True).fit(
            reports + replies
        )
        self.rel_char_vec_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=1, sublinear_tf=True, max_features=80000
        ).fit(reports + replies)
        self.content_scaler_ = StandardScaler().fit(self._content_dense(reports, replies))
        Xc = self._content_matrix(reports, replies)
        P = self._pair_matrix(reports, replies)
        self.pair_scaler_ = StandardScaler().fit(P)

        # Out-of-fold content and relevance scores feed the combiner (calibration).
        rel_cs = list(dict.fromkeys([*(self.relevance_C_grid or []), self.relevance_C]))
        rows_z: dict[float, list[np.ndarray]] = {c: [] for c in rel_cs}
        rows_y, rows_w, rows_f, rows_s = [], [], [], []
        folds = min(self.cv_folds, int(min(ybin.sum(), (~ybin).sum())))
        if folds >= 2:
            kf = KFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            for f, (tr, te) in enumerate(kf.split(np.arange(n))):
                cm, rms = self._fit_parts(
                    Xc, P, reports, replies, content, swappable, ybin, irrelevant, w, tr, rel_cs
                )
                pc = cm.predict_proba(Xc[te])[:, 1]
                te_rep, te_rpl = [reports[i] for i in te], [replies[i] for i in te]
                swaps = self._swaps(te, reports, swappable, te)
                a = [reports[j] for _, j in swaps]
                b = [replies[i] for i, _ in swaps]
                Ps = self._pair_matrix(a, b) if swaps else None
                pcs = None
                if swaps and self._report_dependent_content():
                    # what the reply adds is judged against the report it now sits under
                    pcs = cm.predict_proba(self._content_matrix(a, b))[:, 1]
                elif swaps:
                    pcs = cm.predict_proba(Xc[[i for i, _ in swaps]])[:, 1]
                for c, rm in rms.items():
                    pr = self._floor(
                        rm.predict_proba(self._rel_X(P[te], te_rep, te_rpl))[:, 1], te_rpl
                    )
                    rows_z[c].append(self._combine_features(pc, pr))
                    if swaps:
                        ps = self._floor(rm.predict_proba(self._rel_X(Ps, a, b))[:, 1], b)
                        rows_z[c].append(self._combine_features(pcs, ps))
                rows_y.append(ybin[te])
                rows_w.append(w[te])
                rows_f.append(np.full(len(te), f))
                rows_s.append(np.zeros(len(te), dtype=bool))
                if swaps:
                    rows_y.append(np.zeros(len(swaps), dtype=bool))
                    rows_w.append(np.ones(len(swaps)))
                    rows_f.append(np.full(len(swaps), f))
                    rows_s.append(np.ones(len(swaps), dtype=bool))
        self.swap_weight_ = float(self.swap_weight)
        self.relevance_C_ = float(self.relevance_C)
        if rows_y:
            Y, W = np.concatenate(rows_y), np.concatenate(rows_w)
            F, S = np.concatenate(rows_f), np.concatenate(rows_s)
            best = (-1.0, self.relevance_C, self.swap_weight)
            for c in rel_cs:
                sw, f1 = self._pick_swap_weight(np.vstack(rows_z[c]), Y, W, F, S)
                if f1 > best[0] + 1e-9:
                    best = (f1, c, sw)
            _, self.relevance_C_, self.swap_weight_ = best
            Z = np.vstack(rows_z[self.relevance_C_])
            W = np.where(S, self.swap_weight_, W)
        self.content_model_, rms = self._fit_parts(
            Xc, P, reports, replies, content, swappable, ybin, irrelevant, w, np.arange(n),
            [self.relevance_C_],
        )  # fmt: skip
        self.relevance_model_ = rms[self.relevance_C_]
        if not rows_y:  # too little data for cross-fitting: combine in-sample
            pc = self.content_model_.predict_proba(Xc)[:, 1]
            pr = self._floor(
                self.relevance_model_.predict_proba(self._rel_X(P, reports, replies))[:, 1], replies
            )
            Z, Y, W = self._combine_features(pc, pr), ybin, w
        self.combiner_ = LogisticRegression(C=1.0, max_iter=1000).fit(Z, Y, sample_weight=W)

        # Reasons: one-vs-rest on the labelled codes (codes with too few examples rely on the lexicon).
        self.reason_models_: dict[str, LogisticRegression] = {}
        for code in REASONS:
            t = np.array([code in r for r in reasons])
            if 3 <= t.sum() <= n - 3:
                self.reason_models_[code] = LogisticRegression(
                    C=self.C,
                    max_iter=2000,
                    class_weight="balanced",
                    solver="liblinear",
                    random_state=self.random_state,
                ).fit(Xc, t)
        self.n_train_ = n
        return self

    def _pick_swap_weight(
        self, Z: np.ndarray, Y: np.ndarray, W: np.ndarray, F: np.ndarray, S: np.ndarray
    ) -> tuple[float, float]:
        """Weight of the made-up swaps in the combiner, chosen by macro-F1 on the real
        out-of-fold rows (each fold judged by a combiner fitted on the other folds)."""
        grid = list(self.swap_weight_grid or [self.swap_weight])
        if len(set(F.tolist())) < 2:
            return float(self.swap_weight), 0.0
        from sklearn.metrics import f1_score

        best, best_f1 = float(self.swap_weight), -1.0
        for sw in grid:
            Wg = np.where(S, sw, W)
            pred = np.zeros(len(Y), dtype=bool)
            for f in np.unique(F):
                tr = F != f
                m = LogisticRegression(C=1.0, max_iter=1000).fit(Z[tr], Y[tr], sample_weight=Wg[tr])
                te = (F == f) & ~S
                pred[te] = m.predict(Z[te])
            real = ~S
            f1 = f1_score(Y[real], pred[real], average="macro")
            if f1 > best_f1 + 1e-9:
                best, best_f1 = float(sw), float(f1)
        return best, best_f1

    def _fit_parts(
        self, Xc, P, reports, replies, content, swappable, ybin, irrelevant, w, idx, rel_cs
    ):  # noqa: ANN001
        idx = np.asarray(idx)
        cm = LogisticRegression(
            C=self.C,
            max_iter=3000,
            class_weight="balanced",
            solver="liblinear",
            random_state=self.random_state,
        )
        cm.fit(Xc[idx], content[idx], sample_weight=w[idx])
        # Relevance: real relevant pairs (substantif) vs tidak_relevan rows and swaps.
        rel_rows = [i for i in idx if ybin[i] or irrelevant[i]]
        Pr = [P[i] for i in rel_rows]
        ta = [reports[i] for i in rel_rows]
        tb = [replies[i] for i in rel_rows]
        yr = [bool(ybin[i]) for i in rel_rows]
        # labelled tidak_relevan pairs count more than the swaps made up from other reports
        wr = [1.0 if ybin[i] else self.irrelevant_weight for i in rel_rows]
        swaps = self._swaps(idx, reports, swappable, idx)
        if swaps:
            sa = [reports[j] for _, j in swaps]
            sb = [replies[i] for i, _ in swaps]
            Pr.extend(self._pair_matrix(sa, sb))
            ta.extend(sa)
            tb.extend(sb)
            yr.extend([False] * len(swaps))
            wr.extend([0.5] * len(swaps))
        yr_arr = np.array(yr)
        wr_arr = np.array(wr)
        if len(set(yr)) < 2:  # degenerate tiny data: everything relevant
            Pr.append(np.zeros(P.shape[1]))
            ta.append("")
            tb.append("")
            yr_arr = np.append(yr_arr, False)
            wr_arr = np.append(wr_arr, 1.0)
        Xr = self._rel_X(np.vstack(Pr), ta, tb)
        rms = {
            c: LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(
                Xr, yr_arr, sample_weight=wr_arr
            )
            for c in rel_cs
        }
        return cm, rms

    @staticmethod
    def _combine_features(pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        lc, lr = _logit(pc), _logit(pr)
        return np.column_stack([lc, lr, np.minimum(lc, lr)])

    # ------------------------------------------------------------------ prediction
    def _parts(self, X: Sequence[Record]) -> dict[str, Any]:
        self._check_fitted()
        reports, replies = self._texts(X)
        Xc = self._content_matrix(reports, replies)
        pc = self.content_model_.predict_proba(Xc)[:, 1]
        pr = self._floor(
            self.relevance_model_.predict_proba(
                self._rel_X(self._pair_matrix(reports, replies), reports, replies)
            )[:, 1],
            replies,
        )
        has_report = np.array([bool(r.strip()) for r in reports])
        pr = np.where(has_report, pr, 1.0)  # without a report, relevance cannot be judged
        ps = self.combiner_.predict_proba(self._combine_features(pc, pr))[:, 1]
        return {"Xc": Xc, "content": pc, "relevance": pr, "p": ps}

    def predict_proba(self, X: Sequence[Record]) -> np.ndarray:
        p = self._parts(X)["p"]
        return np.column_stack([1 - p, p])

    def _reason_scores(self, Xc: sparse.csr_matrix) -> dict[str, np.ndarray]:
        return {code: m.predict_proba(Xc)[:, 1] for code, m in self.reason_models_.items()}

    def predict_records(
        self,
        X: Sequence[Record],
        top: int = 10,
        reply_bank: Mapping[str, Sequence[Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """One JSON-ready row per input: label, probabilities, reasons, evidence, relevance
        (and ``template_reuse`` when ``reply_bank`` maps agency → earlier replies)."""
        X = list(X)
        parts = self._parts(X)
        scores = self._reason_scores(parts["Xc"])
        out = []
        for k, rec in enumerate(X):
            p = float(parts["p"][k])
            label = "substantif" if p >= 0.5 else "normatif"
            reply = _reply_of(rec)
            phrases = find_phrases(reply[: max(self.max_chars * 4, 20000)])
            hits = {ph.reason for ph in phrases}
            reasons = self._pick_reasons(
                label, {c: float(s[k]) for c, s in scores.items()}, hits, parts, k
            )
            out.append(
                {
                    "label": label,
                    "probabilities": {"normatif": round(1 - p, 6), "substantif": round(p, 6)},
                    "reasons": reasons,
                    "evidence": self._evidence(phrases, reasons, label),
                    "relevance": round(float(parts["relevance"][k]), 6),
                }
            )
        if reply_bank is not None:
            for row, reuse in zip(out, self.template_reuse(X, reply_bank), strict=True):
                row["template_reuse"] = reuse
        return out

    def assess(
        self, X: Sequence[Record], reply_bank: Mapping[str, Sequence[Any]] | None = None
    ) -> list[dict[str, Any]]:
        """``predict_records`` with template reuse against ``reply_bank`` (agency → replies)."""
        return self.predict_records(X, reply_bank=reply_bank)

    def _pick_reasons(
        self, label: str, scores: dict[str, float], hits: set[str], parts: dict[str, Any], k: int
    ) -> list[str]:
        def score(code: str) -> float:
            s = scores.get(code, 0.0)
            lw = self.lexicon_weight
            return (1 - lw) * s + lw * (code in hits) if code in scores else 0.5 * (code in hits)

        if label == "substantif":
            pool = list(SUBSTANTIF_REASONS)
        else:
            if parts["content"][k] >= 0.5 and parts["relevance"][k] < 0.5:
                return ["tidak_relevan"]
            pool = [c for c in NORMATIF_REASONS if c != "tidak_relevan"]
        ranked = sorted(pool, key=score, reverse=True)
        chosen = [c for c in ranked if score(c) >= self.reason_threshold]
        if not chosen:
            chosen = ranked[:1]
        order = {c: i for i, c in enumerate(REASONS)}
        return sorted(chosen[:3], key=order.__getitem__)

    @staticmethod
    def _evidence(phrases: list[Any], reasons: list[str], label: str) -> list[dict[str, Any]]:
        if reasons == ["tidak_relevan"]:
            spans = [
                {**p.as_dict(), "reason": "tidak_relevan"}
                for p in phrases
                if p.reason in SUBSTANTIF_REASONS
            ]
            return spans[:20]
        wanted = set(reasons)
        spans = [p.as_dict() for p in phrases if p.reason in wanted]
        if not spans:
            polarity = SUBSTANTIF_REASONS if label == "substantif" else NORMATIF_REASONS
            spans = [p.as_dict() for p in phrases if p.reason in polarity]
        return spans[:20]

    # ------------------------------------------------------------------ template reuse
    def template_reuse(
        self, X: Sequence[Record], reply_bank: Mapping[str, Sequence[Any]]
    ) -> list[dict[str, Any] | None]:
        """Closest earlier reply of the same agency (char n-gram TF-IDF cosine) per input.

        ``reply_bank`` maps agency → list of earlier replies (strings, or mappings with
        ``reply_text`` and optionally ``id``/``reply_id``). Inputs without an agency are compared
        with the whole bank.
        """
        out: list[dict[str, Any] | None] = []
        cache: dict[str, tuple[TfidfVectorizer, Any, list[tuple[str | None, str]]]] = {}
        for rec in X:
            agency = None if isinstance(rec, str) else rec.get("agency")
            key = str(agency) if agency in reply_bank else "*"
            if key not in cache:
                items = (
                    reply_bank[agency]
                    if key != "*"
                    else [r for rs in reply_bank.values() for r in rs]
                )
                bank = []
                for item in items:
                    if isinstance(item, Mapping):
                        rid = item.get("reply_id", item.get("id"))
                        bank.append((None if rid is None else str(rid), _reply_of(item)))
                    else:
                        bank.append((None, str(item)))
                bank = [(i, t) for i, t in bank if t.strip()]
                if not bank:
                    cache[key] = (None, None, [])  # type: ignore[assignment]
                else:
                    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
                    mat = vec.fit_transform([truncate(t, self.max_chars) for _, t in bank])
                    cache[key] = (vec, mat, bank)
            vec, mat, bank = cache[key]
            if not bank:
                out.append(None)
                continue
            q = vec.transform([truncate(_reply_of(rec), self.max_chars)])
            sims = (mat @ q.T).toarray().ravel()
            j = int(np.argmax(sims))
            sim = float(sims[j])
            rid, text = bank[j]
            match = {"text": text, "similarity": round(sim, 6)}
            if rid is not None:
                match["reply_id"] = rid
            match["reused"] = bool(sim >= self.template_threshold)
            out.append(match)
        return out

    # ------------------------------------------------------------------ extras
    def extra_config(self) -> dict[str, Any]:
        return {
            "n_train": getattr(self, "n_train_", None),
            "reason_models": sorted(getattr(self, "reason_models_", {})),
        }
