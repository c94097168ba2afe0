"""The prediction shortcuts of models.features give exactly what the scikit-learn path gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from models.features import (
    _CUE_RES,
    CalibratedLinear,
    TextFeatures,
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
