"""The prediction shortcuts of models.features give exactly what the scikit-learn path gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lapor_triage.models.features import (
    _CUE_RES,
    CalibratedLinear,
    TextFeatures,
    count_matrix,
    cue_counts,
    linear_decision,
)

TEXTS = [
    "Jalan di depan pasar RUSAK parah dan berlubang, mohon segera diperbaiki",
    "Usul agar dibangun taman bermain anak di lahan kosong dekat balai desa",
    "Apakah pendaftaran sekolah negeri tahun ini sudah dibuka? Mohon informasinya",
    "Bagaimana cara mengurus akta kelahiran yang hilang?",
    "Sampah menumpuk di pinggir sungai, baunya menyengat. Terima kasih",
    "Saran saya sebaiknya ada halte bus di depan sekolah supaya siswa aman",
    "Kapan bantuan langsung tunai tahap dua dicairkan??",
    "Lampu jalan mati sejak sebulan lalu, warga resah",
    "Mohon informasi jadwal vaksinasi booster di puskesmas terdekat",
    "Kami mengusulkan pelatihan UMKM untuk ibu-ibu di kelurahan kami",
    "Pelayanan puskesmas sangat lambat, antrean berjam-jam tanpa kejelasan",
    "Harapan warga semoga ada perpustakaan keliling di kampung kami",
]
LABELS = ["a", "b", "c", "c", "a", "b", "c", "a", "c", "b", "a", "b"]


def _reference_cue_counts(texts: list[str]) -> np.ndarray:
    """cue_counts as first written: one case-insensitive findall per pattern per text."""
    out = np.zeros((len(texts), len(_CUE_RES)))
    for i, text in enumerate(texts):
        for j, rx in enumerate(_CUE_RES.values()):
            out[i, j] = len(rx.findall(text))
    return np.log1p(out)


def test_cue_counts_equal_the_case_insensitive_regexes() -> None:
    texts = TEXTS + [
        "",
        "APAKAH BISAKAH? MOHON   DIPERBAIKI! TERIMA KASIH, TerimaKasih",
        "Tidak  ada jawaban; TIDAK SESUAI; belum; mohon tolong dicek",
        # non-ASCII: Unicode case folding (KELVIN SIGN ~ k, long s ~ s, dotted capital I)
        "\u212aapan jadwalnya? terima\u212aasih, \u017ferapa, \u0130NFORMASI, caf\u00e9 rusak",
        "Jalan rusak \U0001f621 mohon diperbaiki, “kapan”?",
    ]
    np.testing.assert_array_equal(cue_counts(texts), _reference_cue_counts(texts))
    assert cue_counts([]).shape == (0, len(_CUE_RES))


@pytest.fixture(scope="module")
def features() -> TextFeatures:
    return TextFeatures(cues=True, fields=("kecamatan",)).fit(TEXTS)


@pytest.mark.parametrize("labels", [LABELS, ["x" if v == "a" else "y" for v in LABELS]])
def test_linear_decision_equals_decision_function(features: TextFeatures, labels) -> None:
    X = features.transform(TEXTS)
    clf = CalibratedLinear(cv=2).fit(X, labels)
    reference = clf.model_.decision_function(X)
    fast = linear_decision(clf.model_, X)
    assert fast.shape == reference.shape and fast.dtype == reference.dtype
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)
    dense = X.toarray()
    np.testing.assert_allclose(
        linear_decision(clf.model_, dense), clf.model_.decision_function(dense), atol=1e-12
    )
    # other sparse formats go through scikit-learn
    np.testing.assert_allclose(linear_decision(clf.model_, X.tocoo()), reference, atol=1e-12)
    # and the calibrated head uses the shortcut without changing a number
    margins = clf.decision_function(X)
    expected = reference if reference.ndim == 2 else np.column_stack([0 * reference, reference])
    np.testing.assert_allclose(margins, expected, rtol=0, atol=1e-12)


def test_linear_decision_one_row_and_empty(features: TextFeatures) -> None:
    X = features.transform(TEXTS)
    clf = CalibratedLinear(cv=2).fit(X, LABELS)
    one = features.transform(["Kapan jalan rusak ini diperbaiki?"])
    np.testing.assert_allclose(
        linear_decision(clf.model_, one), clf.model_.decision_function(one), atol=1e-12
    )
    empty = sp.csr_matrix((0, X.shape[1]), dtype=np.float32)
    assert linear_decision(clf.model_, empty).shape == (0, 3)
    with pytest.raises(ValueError):  # wrong width: scikit-learn's own error
        linear_decision(clf.model_, sp.csr_matrix((1, X.shape[1] + 1), dtype=np.float32))


def _same_csr(a: sp.spmatrix, b: sp.spmatrix) -> None:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # bit for bit


@pytest.mark.parametrize(
    "rows", [[], [[]], [[3, 1, 3, 0], [], [2, 2, 2], [4]], [[0]] * 3, [[5, 5], [1, 0, 1]]]
)
def test_count_matrix_equals_sum_duplicates(rows: list[list[int]]) -> None:
    indices = np.asarray([j for r in rows for j in r], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(int).tolist()
    reference = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), 6)
    )
    reference.sum_duplicates()
    fast = count_matrix(indices, indptr, 6, np.float32)
    _same_csr(fast, reference)
    assert fast.has_canonical_format


TRICKY = TEXTS + ["", "?", "A b ? c ?? ÉCOLE école Straße", "   ", "kah kah kah apakah?"]


def test_word_tfidf_equals_scikit_learn(features: TextFeatures) -> None:
    _same_csr(features._word_transform(TRICKY), features.word_.transform(TRICKY))
    _same_csr(features._word_transform(TRICKY[:1]), features.word_.transform(TRICKY[:1]))


def test_char_tfidf_equals_the_sum_duplicates_formulation(features: TextFeatures) -> None:
    char = features.char_
    indices: list[int] = []
    indptr = [0]
    vocab = char.vectorizer_.vocabulary_
    for text in TRICKY:
        for word in text.lower().split():
            indices.extend(j for g in char.ngrams_._word(word) if (j := vocab.get(g)) is not None)
        indptr.append(len(indices))
    X = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(TRICKY), len(char.idf_)),
    )
    X.sum_duplicates()
    X.data = (np.log(X.data) + 1.0) * char.idf_[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    X.data /= np.repeat(norms, np.diff(X.indptr)).astype(np.float32)
    _same_csr(char.transform(TRICKY), X)
    _same_csr(char.transform(TRICKY), X)  # second call: from the per-word cache


def test_caches_are_not_pickled_and_a_reloaded_model_transforms_the_same(
    features: TextFeatures,
) -> None:
    import pickle

    before = features.transform(TRICKY)
    assert "_word_analyzer" in vars(features) and features.char_._word_index
    clone = pickle.loads(pickle.dumps(features))
    assert "_word_analyzer" not in vars(clone) and not clone.char_._word_index
    _same_csr(clone.transform(TRICKY), before)


RECORDS = [
    {"text": t, "kecamatan": k, "kelurahan": kel}
    for t, k, kel in zip(
        TRICKY,
        ["Gubeng", "", None, "Kec. Wonokromo", "gubeng"] * 4,
        ["Kel. Ngagel", "ngagel", "", None] * 5,
        strict=False,
    )
] + ["a plain string record", {"text": "only text"}]


@pytest.mark.parametrize(
    "params",
    [
        {"cues": True, "fields": ("kecamatan", "kelurahan")},
        {"cues": False, "fields": ()},
        {"cues": True, "fields": ("kelurahan", "kecamatan"), "field_weight": 0.3},
        {"cues": True, "fields": ("kecamatan", "kecamatan")},  # repeated: the reference path
    ],
)
def test_transform_equals_the_block_by_block_construction(params) -> None:
    feats = TextFeatures(**params).fit(RECORDS)
    for batch in (RECORDS, RECORDS[:1], RECORDS[3:4], RECORDS[-2:]):
        _same_csr(feats.transform(batch), feats._transform_reference(batch))
    assert feats.transform([]).shape == feats._transform_reference([]).shape
