"""The disposition model's faster batch path gives the same numbers as the plain one.

The stacked product (:class:`~lapor_triage.models.stacked_linear.StackedLinear`), the region-free
options computed once per kind, and the suggestion dicts built only for the ranks asked are
checked against each classifier's own ``predict_proba``, ``option_rows`` per report, and the full
ranked list, with exact equality (not a tolerance)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from lapor_triage.models.disposition import DispositionModel
from lapor_triage.models.features import CalibratedLinear
from lapor_triage.models.stacked_linear import CSC_MIN_ROWS, StackedLinear
from tests.models.test_disposition import LAMPU, SAMPIT, _training_set

REPORTS = [
    LAMPU,
    SAMPIT,
    "jalan berlubang di Bandung sudah sebulan",
    "bantuan PKH belum cair mohon dibantu",
    "antrian paspor online penuh terus",
    "xyz qwerty",
    {"text": "lampu lalu lintas rusak", "kota": "Kota Semarang"},
    "parkir liar di trotoar kota Semarang dan Bandung",
    "klaim BPJS ditolak di Palangkaraya",
    "gorong gorong ambles dekat pasar",
]


def _sparse_rows(rng: np.random.Generator, n: int, d: int) -> sp.csr_matrix:
    X = sp.random(n, d, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    X.sort_indices()
    return X


def test_stacked_product_equals_each_classifier_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    X = _sparse_rows(rng, 120, 300)
    clfs = [
        CalibratedLinear(cv=2).fit(X, [f"k{i % 5}" for i in range(120)]),
        CalibratedLinear(cv=2).fit(X, [f"f{i % 11}" for i in range(120)]),
        CalibratedLinear(cv=2).fit(X, [f"b{i % 2}" for i in range(120)]),  # binary: one row
    ]
    test = _sparse_rows(rng, 3 * CSC_MIN_ROWS, 300)
    before = [c.predict_proba(test) for c in clfs]
    singles = [[c.predict_proba(test[i]) for i in range(3)] for c in clfs]
    stacked = StackedLinear([clfs[0], None, clfs[1], clfs[2]])
    assert set(stacked.slices) == {0, 2}  # the binary one is left to itself
    after = stacked.predict_proba(test)  # CSC order
    assert after[1] is None
    for want, got in zip(before, [after[0], after[2], after[3]], strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    for c, rows, idx in zip(clfs, singles, (0, 2, 3), strict=True):
        for i in range(3):  # one row: CSR order
            assert np.array_equal(stacked.predict_proba(test[i])[idx], rows[i])
        assert np.array_equal(c.predict_proba(test), before[clfs.index(c)])  # views still work


@pytest.fixture(scope="module")
def model() -> DispositionModel:
    X, y = _training_set()
    return DispositionModel(min_df=1).fit(X, y)


def _plain(model: DispositionModel) -> DispositionModel:
    """The same fitted model without the fast path: each classifier's own product and the
    options of every kind computed per report."""
    plain = copy.copy(model)
    plain._stacked_ = copy.copy(model._stacked_)
    plain._stacked_.slices = {}
    plain._alone_ = {}
    return plain


def test_fast_suggestions_equal_the_plain_path(model: DispositionModel) -> None:
    plain = _plain(model)
    batch = REPORTS * 2  # 20 rows: the CSC product
    assert len(batch) >= CSC_MIN_ROWS
    fast = model._suggestions(batch)
    assert fast == plain._suggestions(batch)
    assert any(s["region"] for row in fast for s in row)  # places named: both branches ran
    for rec, row in zip(REPORTS, fast, strict=False):
        assert model._suggestions([rec]) == [row]  # one at a time: the CSR product


@pytest.mark.parametrize("top", [1, 3, 10])
def test_records_with_a_limit_equal_the_full_ranking(model: DispositionModel, top: int) -> None:
    full = model._suggestions(REPORTS)
    records = model.predict_records(REPORTS, top=top)
    for row, rec in zip(full, records, strict=True):
        assert [s["instansi"] for s in rec["top_k"]] == [s["instansi"] for s in row[:top]]
        assert [s["probability"] for s in rec["top_k"]] == [
            round(s["probability"], 6) for s in row[:top]
        ]
        assert rec["label"] == row[0]["instansi"]
    assert model.predict(REPORTS) == [row[0]["instansi"] for row in full]
    assert model.top_k(REPORTS, k=top) == [
        [(s["instansi"], s["probability"]) for s in row[:top]] for row in full
    ]
