"""Features and the calibrated linear head shared by the triage predictors.

* :class:`TextFeatures` turns records into a sparse matrix: word and character n-gram TF-IDF,
  optional cue counts (questions, proposals, demands: see :data:`CUE_PATTERNS`) and optional
  one-hot tokens of record fields (``kecamatan`` / ``kelurahan``, ``kota`` / ``sumber``).
* :class:`CalibratedLinear` is a linear model (LinearSVC or logistic regression) whose margins are
  turned into probabilities by a softmax with a temperature fitted on out-of-fold margins
  (``calibration="temperature"``), or by scikit-learn's ``CalibratedClassifierCV``
  (``"sigmoid"`` / ``"isotonic"``). Both degrade gracefully on tiny data and tiny classes.
"""

from __future__ import annotations

import re
import warnings
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from lapor_triage.models.base import Record, record_text

# --- cues for the report type ---------------------------------------------------------------------
# Each cue is a regular expression over the lower-cased text; its count (log-scaled) is a feature.
CUE_PATTERNS: dict[str, str] = {
    "question_mark": r"\?",
    "question_word": r"\b(?:apakah|apa|bagaimana|gimana|bgmn|berapa|kapan|kenapa|mengapa|dimana|di mana|kemana|siapa|bisakah|bolehkah|adakah|kah)\b",
    "ask_info": r"\b(?:mohon|minta|butuh|meminta|memohon|ingin|mau)\s+(?:\w+\s+){0,2}(?:informasi|info|penjelasan|kejelasan|keterangan|konfirmasi|klarifikasi|jawaban|arahan|petunjuk)\b",
    "info_word": r"\b(?:informasi|info|penjelasan|syarat|persyaratan|prosedur|cara|jadwal|tanya|bertanya|menanyakan|pertanyaan|ditanyakan)\b",
    "proposal": r"\b(?:usul|usulan|mengusulkan|diusulkan|saran|menyarankan|sarankan|aspirasi|harapan|berharap|semoga|sebaiknya|seharusnya|alangkah|hendaknya|perlu|agar|supaya)\b",
    "build_request": r"\b(?:mohon|harap|tolong|minta|agar)\s+(?:\w+\s+){0,2}(?:dibangun|dibuat|dibuatkan|diadakan|ditambah|ditambahkan|dipasang|dipasangkan|disediakan|dibangunkan|diprogramkan|direalisasikan)\b",
    "complaint": r"\b(?:rusak|keluh|mengeluh|keluhan|kecewa|tidak\s+(?:ada|bisa|pernah|sesuai)|belum|lambat|pungli|macet|banjir|bau|sampah|parah|resah|meresahkan|terganggu|mengganggu)\b",
    "request_action": r"\b(?:mohon|tolong|harap|segera)\s+(?:\w+\s+){0,1}(?:di\w+kan|di\w+i|ditindak\w*|ditertibkan|diperbaiki|dicek|ditinjau)\b",
    "thanks": r"\b(?:terima\s*kasih|terimakasih|makasih|trims)\b",
}
_CUE_RES = {name: re.compile(pat, re.IGNORECASE) for name, pat in CUE_PATTERNS.items()}
# The same patterns without IGNORECASE, for lower-cased ASCII texts: on ASCII text, case-insensitive
# matching of these ASCII patterns equals case-sensitive matching on ``text.lower()`` (same
# positions and lengths), and it is about twice as fast. Non-ASCII texts keep the patterns above
# (Unicode case folding, e.g. U+212A KELVIN SIGN ~ "k", is not what ``str.lower`` does).
_CUE_FINDALL_ASCII = tuple(re.compile(pat).findall for pat in CUE_PATTERNS.values())
_CUE_FINDALL = tuple(rx.findall for rx in _CUE_RES.values())
_LOC_PREFIX_RE = re.compile(r"^(?:kel(?:urahan)?|kec(?:amatan)?|desa|ds)\.?\s+", re.IGNORECASE)
_NON_WORD_RE = re.compile(r"\W+")

LOCATION_FIELDS = ("kecamatan", "kelurahan")


def normalise_place(value: Any) -> str:
    """``"Kel. Ngagel Rejo "`` -> ``"ngagel rejo"``; empty string for missing values."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = _LOC_PREFIX_RE.sub("", str(value).strip())
    return _NON_WORD_RE.sub(" ", text.lower()).strip()


def record_location(record: Record, field: str) -> str:
    """The normalised value of a record field such as ``kecamatan`` ('' where unknown)."""
    if isinstance(record, Mapping):
        return normalise_place(record.get(field))
    return ""


def cue_counts(texts: Sequence[str]) -> np.ndarray:
    """``log1p`` of how often each cue of :data:`CUE_PATTERNS` occurs, shape ``(n, n_cues)``."""
    counts = []
    for text in texts:
        if text.isascii():
            low = text.lower()
            counts.append([len(findall(low)) for findall in _CUE_FINDALL_ASCII])
        else:
            counts.append([len(findall(text)) for findall in _CUE_FINDALL])
    out = np.asarray(counts, dtype=np.float64).reshape(len(texts), len(_CUE_RES))
    return np.log1p(out)


def field_tokens(record: Record, fields: Sequence[str]) -> list[str]:
    """``["kecamatan=gubeng", "kota=kota samarinda", ...]`` for the fields a record has."""
    tokens = []
    for field in fields:
        value = record_location(record, field)
        if value:
            tokens.append(f"{field}={value}")
    return tokens


class CsrParts(NamedTuple):
    """The arrays of a CSR matrix, before (or instead of) building the scipy object: building one
    costs tens of microseconds of validation, a good part of predicting a single report."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    def tocsr(self) -> sp.csr_matrix:
        X = sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
        X.has_sorted_indices = True
        X.has_canonical_format = True
        return X


def count_parts(
    indices: np.ndarray, indptr: Sequence[int], n_features: int, dtype: Any = np.float32
) -> CsrParts:
    """:func:`count_matrix` as :class:`CsrParts`."""
    n_rows = len(indptr) - 1
    lengths = np.diff(np.asarray(indptr, dtype=np.int64))
    keys = np.repeat(np.arange(n_rows, dtype=np.int64) * n_features, lengths)
    keys += indices
    keys.sort()
    if keys.size:
        first = np.empty(keys.size, dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, keys.size))
        keys = keys[starts]
    else:
        counts = np.zeros(0, dtype=np.int64)
    rows = keys // n_features
    row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=row_ptr[1:])
    return CsrParts(counts.astype(dtype), keys - rows * n_features, row_ptr, (n_rows, n_features))


def count_matrix(
    indices: np.ndarray, indptr: Sequence[int], n_features: int, dtype: Any = np.float32
) -> sp.csr_matrix:
    """The count matrix of rows given as runs of (repeated) column indices: row ``i`` holds
    ``indices[indptr[i]:indptr[i + 1]]``. Equal to building the CSR matrix with ones and calling
    ``sum_duplicates()`` (sorted, unique column indices; counts as ``dtype``), with one numpy sort
    instead of scipy's per-row sort."""
    return count_parts(indices, indptr, n_features, dtype).tocsr()


def hstack_parts(blocks: Sequence[CsrParts]) -> sp.csr_matrix:
    """``sp.hstack([b.tocsr() for b in blocks], format="csr")`` with one matrix built: each row
    holds the entries of every block in block order, each block's in its own order."""
    n_rows = blocks[0].shape[0]
    lengths = [np.diff(b.indptr) for b in blocks]
    row_len = np.sum(lengths, axis=0) if n_rows else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(row_len, out=indptr[1:])
    nnz = int(indptr[-1])
    data = np.empty(nnz, dtype=np.float32)
    indices = np.empty(nnz, dtype=np.int64)
    before = indptr[:-1].copy()  # where the current block starts in each row
    offset = 0
    for b, length in zip(blocks, lengths, strict=True):
        k = len(b.data)
        if k:
            row_of = np.repeat(np.arange(n_rows), length)
            pos = before[row_of] + (np.arange(k) - b.indptr[row_of])
            data[pos] = b.data
            indices[pos] = b.indices + offset
        before += length
        offset += b.shape[1]
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, offset))


class CharNgrams:
    """Character n-grams inside word boundaries, as scikit-learn's ``analyzer="char_wb"``
    (lower-cased, each word padded with one space), with the n-grams of each distinct word cached:
    words repeat, so this is several times faster than recomputing them for every text."""

    max_cache = 300_000

    def __init__(self, ngram_range: tuple[int, int] = (3, 5)) -> None:
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self._cache: dict[str, list[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"ngram_range": self.ngram_range}  # the cache is rebuilt, never pickled

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.ngram_range = tuple(state["ngram_range"])
        self._cache = {}

    def _word(self, word: str) -> list[str]:
        w = f" {word} "
        grams = []
        lo, hi = self.ngram_range
        for n in range(lo, hi + 1):
            offset = 0
            grams.append(w[0:n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
        return grams

    def __call__(self, text: str) -> list[str]:
        cache = self._cache
        out: list[str] = []
        for word in text.lower().split():
            grams = cache.get(word)
            if grams is None:
                grams = self._word(word)
                if len(cache) < self.max_cache:
                    cache[word] = grams
            out.extend(grams)
        return out


def sublinear_l2(X: CsrParts, idf: np.ndarray) -> CsrParts:
    """``log(count) + 1`` times idf, each row scaled to unit length, as ``TfidfVectorizer``
    (``sublinear_tf=True``, ``norm="l2"``) computes it: row sums of squares as
    ``X.multiply(X).sum(axis=1)`` does (float32 ``np.add.reduceat`` over the non-empty rows),
    without building two more matrices."""
    X = X._replace(data=(np.log(X.data) + 1.0) * idf[X.indices])
    sums = np.zeros(X.shape[0], dtype=X.data.dtype)
    nonempty = np.flatnonzero(np.diff(X.indptr))
    if nonempty.size:
        sums[nonempty] = np.add.reduceat(X.data * X.data, X.indptr[nonempty])
    norms = np.sqrt(sums)
    norms[norms == 0] = 1.0
    np.divide(X.data, np.repeat(norms, np.diff(X.indptr)).astype(np.float32), out=X.data)
    return X


class CharTfidf:
    """Sublinear TF-IDF over :class:`CharNgrams`, equal to ``TfidfVectorizer(analyzer=...)``.

    ``transform`` caches, per distinct word, the vocabulary indices of its n-grams and counts them
    with numpy: scikit-learn's per-n-gram dictionary loop is the bottleneck of batch prediction.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (3, 5),
        max_features: int | None = None,
        min_df: int = 1,
    ) -> None:
        self.ngram_range = tuple(ngram_range)
        self.max_features = max_features
        self.min_df = min_df
        self._word_index: dict[str, list[int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_word_index"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._word_index = {}

    def fit(self, texts: Sequence[str]) -> CharTfidf:
        self.ngrams_ = CharNgrams(self.ngram_range)
        self.vectorizer_ = TfidfVectorizer(
            analyzer=self.ngrams_,
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        ).fit(texts)
        self.idf_ = self.vectorizer_.idf_.astype(np.float32)
        self._word_index = {}
        return self

    @property
    def vocabulary_(self) -> dict[str, int]:
        return self.vectorizer_.vocabulary_

    def _indices(self, word: str) -> array:
        idx = self._word_index.get(word)
        if idx is None:
            vocab = self.vectorizer_.vocabulary_
            idx = array(
                "q", [j for g in self.ngrams_._word(word) if (j := vocab.get(g)) is not None]
            )
            if len(self._word_index) < CharNgrams.max_cache:
                self._word_index[word] = idx
        return idx

    def transform_parts(self, texts: Sequence[str]) -> CsrParts:
        """:meth:`transform` as :class:`CsrParts` (no scipy matrix built)."""
        # per-word index arrays are appended with a memcpy and read by numpy without a copy
        indices = array("q")
        indptr = [0]
        for text in texts:
            for word in text.lower().split():
                indices.extend(self._indices(word))
            indptr.append(len(indices))
        return self._tfidf(
            count_parts(np.frombuffer(indices, dtype=np.int64), indptr, len(self.idf_))
        )

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.transform_parts(texts).tocsr()

    def _tfidf(self, X: CsrParts) -> CsrParts:
        return sublinear_l2(X, self.idf_)


class TextFeatures:
    """Records -> sparse features: word + char TF-IDF, optional cue counts, and one-hot tokens of
    record fields such as ``kecamatan`` / ``kelurahan`` (agency) or ``kota`` / ``sumber`` (type)."""

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        max_features: int | None = 200_000,
        min_df: int = 1,
        cues: bool = False,
        cue_weight: float = 0.5,
        fields: Sequence[str] = (),
        field_weight: float = 1.0,
    ) -> None:
        self.word_ngram_range = tuple(word_ngram_range)
        self.char_ngram_range = tuple(char_ngram_range)
        self.max_features = max_features
        self.min_df = min_df
        self.cues = cues
        self.cue_weight = cue_weight
        self.fields = tuple(fields)
        self.field_weight = field_weight

    def fit(self, X: Sequence[Record]) -> TextFeatures:
        texts = [record_text(r) for r in X]
        min_df = self.min_df if len(texts) >= 50 else 1
        half = None if self.max_features is None else max(1, self.max_features // 2)
        self.word_ = TfidfVectorizer(
            analyzer="word",
            ngram_range=self.word_ngram_range,
            lowercase=True,
            sublinear_tf=True,
            min_df=min_df,
            max_features=half,
            token_pattern=r"(?u)\b\w+\b|\?",
            dtype=np.float32,
        ).fit(texts)
        self.char_ = CharTfidf(self.char_ngram_range, max_features=half, min_df=min_df).fit(texts)
        if self.fields:
            vocab = sorted({t for r in X for t in field_tokens(r, self.fields)})
            self.field_vocab_ = {t: i for i, t in enumerate(vocab)}
        return self

    def __getstate__(self) -> dict[str, Any]:
        # private caches (``_word_analyzer``) are rebuilt, never pickled
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def _word_parts(self, texts: Sequence[str]) -> CsrParts | None:
        """``self.word_.transform(texts)`` computed the way scikit-learn computes it (its own
        analyzer, counts, ``log(tf) + 1``, ``* idf_``, its in-place L2 normalisation) without its
        per-call validation and per-n-gram counting dictionaries: the same matrix, bit for bit.
        None for vectorizer settings this shortcut does not reproduce."""
        word = self.word_
        if not (word.sublinear_tf and word.use_idf and word.norm == "l2" and not word.binary):
            return None
        analyze = self.__dict__.get("_word_analyzer")
        if analyze is None:
            analyze = self._word_analyzer = word.build_analyzer()
        vocab = word.vocabulary_
        indices = array("q")
        indptr = [0]
        for text in texts:
            indices.extend([j for g in analyze(text) if (j := vocab.get(g)) is not None])
            indptr.append(len(indices))
        # counts per row, sorted column indices (as CountVectorizer)
        X = count_parts(np.frombuffer(indices, dtype=np.int64), indptr, len(vocab), word.dtype)
        np.log(X.data, X.data)
        np.add(X.data, 1.0, out=X.data)
        np.multiply(X.data, word.idf_[X.indices], out=X.data)
        inplace_csr_row_normalize_l2(X)  # reads data / indices / indptr / shape only
        return X

    def _word_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        parts = self._word_parts(texts)
        return self.word_.transform(texts) if parts is None else parts.tocsr()

    def _cue_parts(self, texts: Sequence[str]) -> CsrParts:
        """``sp.csr_matrix(cue_counts(texts) * cue_weight, dtype=np.float32)`` as parts."""
        dense = (cue_counts(texts) * self.cue_weight).astype(np.float32)
        rows, cols = np.nonzero(dense)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return CsrParts(dense[rows, cols], cols.astype(np.int64), indptr, dense.shape)

    def _field_parts(self, X: Sequence[Record]) -> CsrParts | None:
        """The one-hot field block as parts; None when a row's columns are not strictly
        increasing (repeated fields), where scipy's own construction decides the order."""
        cols: list[int] = []
        indptr = [0]
        for r in X:
            start = len(cols)
            for t in field_tokens(r, self.fields):
                j = self.field_vocab_.get(t)
                if j is not None:
                    if len(cols) > start and j <= cols[-1]:
                        return None
                    cols.append(j)
            indptr.append(len(cols))
        data = np.full(len(cols), self.field_weight, dtype=np.float32)
        shape = (len(X), max(1, len(self.field_vocab_)))
        return CsrParts(data, np.asarray(cols, dtype=np.int64), np.asarray(indptr), shape)

    def transform(self, X: Sequence[Record]) -> sp.csr_matrix:
        texts = [record_text(r) for r in X]
        word = self._word_parts(texts)
        parts = [word, self.char_.transform_parts(texts)]
        if self.cues:
            parts.append(self._cue_parts(texts))
        if self.fields:
            parts.append(self._field_parts(X))
        if all(p is not None for p in parts):  # one matrix built instead of one per block
            return hstack_parts(parts)
        return self._transform_reference(X)

    def _transform_reference(self, X: Sequence[Record]) -> sp.csr_matrix:
        """The block-by-block construction (scipy matrices stacked by ``sp.hstack``)."""
        texts = [record_text(r) for r in X]
        blocks = [self._word_transform(texts), self.char_.transform(texts)]
        if self.cues:
            blocks.append(sp.csr_matrix(cue_counts(texts) * self.cue_weight, dtype=np.float32))
        if self.fields:
            rows, cols = [], []
            for i, r in enumerate(X):
                for t in field_tokens(r, self.fields):
                    j = self.field_vocab_.get(t)
                    if j is not None:
                        rows.append(i)
                        cols.append(j)
            data = np.full(len(rows), self.field_weight, dtype=np.float32)
            shape = (len(X), max(1, len(self.field_vocab_)))
            blocks.append(sp.csr_matrix((data, (rows, cols)), shape=shape))
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def fit_transform(self, X: Sequence[Record]) -> sp.csr_matrix:
        return self.fit(X).transform(X)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def recency_weights(
    X: Sequence[Record],
    half_life_days: float | None,
    sample_weight: Sequence[float] | None = None,
) -> np.ndarray | None:
    """Sample weights that halve every ``half_life_days`` before the latest dated record.

    Labelling habits and agencies drift; recent examples say more about the next report. Records
    carry their date as ``record["date"]`` (ISO string or date); undated records get the mean
    weight of the dated ones. Returns ``sample_weight`` unchanged when there is nothing to do.
    """
    base = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if not half_life_days:
        return base
    dates = [_as_date(r.get("date")) if isinstance(r, Mapping) else None for r in X]
    known = [d for d in dates if d is not None]
    if len(set(known)) < 2:
        return base
    latest = max(known)
    w = np.array(
        [np.nan if d is None else 0.5 ** ((latest - d).days / half_life_days) for d in dates]
    )
    w[np.isnan(w)] = np.nanmean(w)
    w = w / w.mean()
    return w if base is None else w * base


# --- calibrated linear head -----------------------------------------------------------------------
def _margins_2d(decision: np.ndarray) -> np.ndarray:
    """LinearSVC's binary decision function is 1-D: make it (n, 2) so softmax works the same."""
    decision = np.asarray(decision, dtype=np.float64)
    if decision.ndim == 1:
        return np.column_stack([np.zeros_like(decision), decision])
    return decision


def linear_decision(model: Any, X: Any) -> np.ndarray:
    """``model.decision_function(X)`` of a fitted linear model, computed as scikit-learn does
    (``X @ coef_.T + intercept_``) but without its per-call input validation, which dominates the
    cost of predicting one or a few reports. Inputs the shortcut does not cover (other sparse
    formats, non-float or mis-shaped arrays, models without ``coef_``) go through scikit-learn."""
    coef = getattr(model, "coef_", None)
    intercept = getattr(model, "intercept_", None)
    if (
        ((sp.issparse(X) and X.format == "csr") or isinstance(X, np.ndarray))
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and isinstance(coef, np.ndarray)
        and coef.ndim == 2
        and X.shape[1] == coef.shape[1]
        and isinstance(intercept, np.ndarray | float)
    ):
        scores = X @ coef.T + intercept
        return scores.reshape(-1) if scores.shape[1] == 1 else scores
    return model.decision_function(X)


def fit_temperature(margins: np.ndarray, y_idx: np.ndarray) -> float:
    """Temperature ``T`` minimising the log loss of ``softmax(margins / T)``."""
    if len(y_idx) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        logp = log_softmax(margins / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(y_idx)), y_idx].mean())

    res = minimize_scalar(nll, bounds=(np.log(0.01), np.log(100.0)), method="bounded")
    return float(np.exp(res.x))


class CalibratedLinear:
    """A linear classifier with calibrated probabilities that copes with tiny classes.

    ``class_weight``: None, ``"balanced"`` (weight ∝ 1/count) or ``"sqrt"`` (∝ 1/sqrt(count), a
    middle way for long tails). ``calibration="temperature"`` (default) fits one temperature on out-of-fold margins, so every
    class, however rare, gets a probability; ``"sigmoid"``/``"isotonic"`` use
    ``CalibratedClassifierCV`` (one calibrator per class) when every class has at least two
    examples and fall back to the temperature otherwise. ``oof_margins_`` (out-of-fold margins of
    the training data, with ``oof_index_``) is kept for tuning decision rules without touching test
    data, then dropped by the owner before saving if not needed. ``calibration_folds=k`` fits only
    the first ``k`` of the ``cv`` folds (the temperature is one number; half the data is plenty on
    big sets), and then no full ``oof_margins_`` exist.
    """

    def __init__(
        self,
        C: float = 0.5,
        class_weight: str | None = "balanced",
        calibration: str = "temperature",
        cv: int = 3,
        random_state: int = 0,
        max_iter: int = 2000,
        calibration_folds: int | None = None,
    ) -> None:
        if class_weight not in {None, "balanced", "sqrt"}:
            raise ValueError(
                f"class_weight must be None, 'balanced' or 'sqrt', not {class_weight!r}"
            )
        if calibration not in {"temperature", "sigmoid", "isotonic"}:
            raise ValueError(
                f"calibration must be 'temperature', 'sigmoid' or 'isotonic', not {calibration!r}"
            )
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state
        self.max_iter = max_iter
        self.calibration_folds = calibration_folds

    def _base(self) -> LinearSVC:
        return LinearSVC(
            C=self.C,
            class_weight="balanced" if self.class_weight == "balanced" else None,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    def _fit_base(self, X: Any, y_idx: np.ndarray, sample_weight: np.ndarray | None) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning on tiny/odd folds
            return self._base().fit(X, y_idx, sample_weight=sample_weight)

    def _full_margins(self, model: Any, X: Any, n_classes: int, fast: bool = False) -> np.ndarray:
        """Margins for all ``n_classes`` even when ``model`` saw only some of them; ``fast``
        skips scikit-learn's input validation (:func:`linear_decision`, same numbers)."""
        m = _margins_2d(linear_decision(model, X) if fast else model.decision_function(X))
        seen = np.asarray(model.classes_)
        if len(seen) == n_classes:
            return m
        out = np.full((m.shape[0], n_classes), m.min() - 5.0 if m.size else -5.0)
        out[:, seen] = m if len(seen) > 1 else 0.0
        return out

    def fit(
        self,
        X: Any,
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
        auxiliary: Sequence[bool] | None = None,
    ) -> CalibratedLinear:
        """Fit the linear model and its calibration.

        ``auxiliary`` marks rows that only teach the model (e.g. catalogue documents written for
        rare agencies): they are in the training side of every calibration fold and never scored,
        so the temperature is fitted on real examples only.
        """
        y = np.asarray([str(v) for v in y])
        self.classes_ = np.unique(y)
        y_idx = np.searchsorted(self.classes_, y)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        n_classes = len(self.classes_)
        if self.class_weight == "sqrt":  # between none and balanced: weight ∝ 1/sqrt(count)
            counts_all = np.bincount(y_idx, minlength=n_classes).astype(np.float64)
            w = 1.0 / np.sqrt(counts_all[y_idx])
            w = w / w.mean()
            sw = w if sw is None else sw * w
        self.temperature_ = 1.0
        self.calibrated_ = None
        self.oof_margins_ = None
        self.oof_index_ = None
        if n_classes == 1:
            self.model_ = None
            return self
        counts = Counter(y_idx.tolist())
        n_splits = min(self.cv, max(counts.values()))
        if n_splits >= 2 and len(y) >= 2 * n_splits:
            # Out-of-fold margins. A class with fewer examples than folds is missing from some
            # training folds; stratification still spreads it as well as it can.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "least populated class has only 1 member"
                folds = list(
                    StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state).split(
                        np.zeros(len(y)), y_idx
                    )
                )
            if self.calibration_folds:  # fewer fits on big data: the temperature is one number
                folds = folds[: self.calibration_folds]
            aux = np.zeros(len(y), dtype=bool)
            if auxiliary is not None:
                aux = np.asarray(auxiliary, dtype=bool)
                if aux.shape != (len(y),):
                    raise ValueError(f"auxiliary has {aux.size} flags for {len(y)} rows")
                aux_idx = np.flatnonzero(aux)
                folds = [(np.union1d(tr, aux_idx), te[~aux[te]]) for tr, te in folds]
            oof = np.zeros((len(y), n_classes))
            done = np.zeros(len(y), dtype=bool)
            for tr, te in folds:
                if len(np.unique(y_idx[tr])) < 2 or len(te) == 0:
                    continue
                part = self._fit_base(X[tr], y_idx[tr], None if sw is None else sw[tr])
                oof[te] = self._full_margins(part, X[te], n_classes)
                done[te] = True
            if done.all():  # never with auxiliary rows: they are not scored
                self.oof_margins_ = oof
            if done.any():
                self.temperature_ = fit_temperature(oof[done], y_idx[done])
        self.model_ = self._fit_base(X, y_idx, sw)
        # float32 weights: half the memory and model size, same ranking (features are float32)
        self.model_.coef_ = self.model_.coef_.astype(np.float32)
        self.model_.intercept_ = self.model_.intercept_.astype(np.float32)
        if self.calibration != "temperature" and min(counts.values()) >= 2:
            from sklearn.calibration import CalibratedClassifierCV

            cv = min(self.cv, min(counts.values()))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.calibrated_ = CalibratedClassifierCV(
                    self._base(), method=self.calibration, cv=cv, ensemble=False
                ).fit(X, y_idx, sample_weight=sw)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        if self.model_ is None:
            return np.zeros((X.shape[0], len(self.classes_)))
        return self._full_margins(self.model_, X, len(self.classes_), fast=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        if self.model_ is None:
            return np.zeros((X.shape[0], 1))
        if self.calibrated_ is not None:
            p = self.calibrated_.predict_proba(X)
            return np.log(np.clip(p, 1e-12, 1.0))
        return log_softmax(self.decision_function(X) / self.temperature_, axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))


def proba_from_log(logp: np.ndarray) -> np.ndarray:
    """Row-normalised probabilities from (possibly shifted) log-probabilities."""
    return softmax(logp, axis=1)
