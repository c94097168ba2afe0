"""Word (1-2) + character (2-5, within words) TF-IDF for the disposition model, fast per report.

The same features as two scikit-learn ``TfidfVectorizer`` (words: ``token_pattern=\\b\\w+\\b``;
characters: ``analyzer="char_wb"``; both sublinear, l2-normalised, then stacked), computed without
scikit-learn's per-call input validation and, for characters, with the n-gram indices of each
distinct word cached (:class:`~lapor_triage.models.features.CharTfidf`). Measured (cProfile, 100
single-report predictions on the 2017 posts): the two ``transform`` calls were 0.67 of 1.12 s,
the largest part of a single prediction.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from lapor_triage.models.features import CharTfidf, count_parts, hstack_parts, sublinear_l2


class DispositionFeatures:
    """``fit(texts)`` / ``transform(texts) -> csr_matrix`` (float32)."""

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        min_df: int = 2,
        max_features: int | None = 100_000,
    ) -> None:
        self.word_ngram_range = tuple(word_ngram_range)
        self.char_ngram_range = tuple(char_ngram_range) if char_ngram_range else None
        self.min_df = min_df
        self.max_features = max_features

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_analyze"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)

    def fit(self, texts: Sequence[str]) -> DispositionFeatures:
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = self.min_df if len(texts) >= 50 else 1
        self.word_ = TfidfVectorizer(
            ngram_range=self.word_ngram_range,
            min_df=min_df,
            sublinear_tf=True,
            max_features=self.max_features,
            token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        ).fit(texts)
        self.word_idf_ = self.word_.idf_.astype(np.float32)
        self.char_ = None
        if self.char_ngram_range:
            self.char_ = CharTfidf(self.char_ngram_range, self.max_features, min_df).fit(texts)
        return self

    def _word_parts(self, texts: Sequence[str]) -> Any:
        analyze = getattr(self, "_analyze", None)
        if analyze is None:
            analyze = self._analyze = self.word_.build_analyzer()
        vocab = self.word_.vocabulary_
        indices = array("q")
        indptr = [0]
        for text in texts:
            indices.extend(j for g in analyze(text) if (j := vocab.get(g)) is not None)
            indptr.append(len(indices))
        counts = count_parts(np.frombuffer(indices, dtype=np.int64), indptr, len(self.word_idf_))
        return sublinear_l2(counts, self.word_idf_)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        word = self._word_parts(texts)
        if self.char_ is None:
            return word.tocsr()
        return hstack_parts([word, self.char_.transform_parts(texts)])


__all__ = ["DispositionFeatures"]
