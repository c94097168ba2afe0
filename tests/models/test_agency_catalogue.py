"""The catalogue of office remits and what it does for rare agencies."""

from __future__ import annotations

from collections import Counter

from lapor_triage.models.agency import AgencyRouter
from lapor_triage.models.agency_catalogue import CATALOGUE, catalogue_documents, kinds_of

RARE = "Dinas Pertanian Kabupaten Contoh"


def test_kinds_match_spellings_of_one_office() -> None:
    for name in (RARE, "DINAS PERTANIAN KAB. CONTOH", "Distan Kota Contoh"):
        assert "pertanian" in {k.name for k in kinds_of(name)}, name
    kb = "Dinas Pengendalian Penduduk Keluarga Berencana Pemberdayaan Perempuan dan Perlindungan Anak"
    assert {k.name for k in kinds_of(kb)} == {"keluarga berencana dan perlindungan anak"}
    assert kinds_of("Kelurahan Ploso") == []
    assert kinds_of("PT Kereta Api Indonesia") == []


def test_every_kind_has_patterns_and_remit() -> None:
    names = [k.name for k in CATALOGUE]
    assert len(names) == len(set(names))
    for kind in CATALOGUE:
        assert kind.patterns and len(kind.remit) >= 3, kind.name


def test_documents_only_for_matching_labels_and_each_phrase_twice() -> None:
    docs = catalogue_documents([RARE, "Kelurahan Ploso", "Unit Tanpa Nama"])
    assert docs and {agency for _, agency in docs} == {RARE}
    phrases = Counter(p for text, _ in docs for p in text.split(". "))
    assert set(phrases.values()) == {2}, "each phrase in the whole-remit document and one group"
    assert any("kartu tani" in text for text, _ in docs)


def _training_set() -> tuple[list[dict], list[str]]:
    common = {
        "Dinas Pekerjaan Umum dan Tata Ruang Kabupaten Contoh": [
            "jalan berlubang di depan pasar belum diperbaiki",
            "aspal jalan rusak parah setelah hujan deras",
            "jembatan retak membahayakan pengendara motor",
        ],
        "Dinas Lingkungan Hidup Kabupaten Contoh": [
            "sampah menumpuk di pinggir jalan tidak diangkut",
            "limbah pabrik mencemari sungai warga",
            "pembakaran sampah menimbulkan asap tebal",
        ],
        RARE: ["harga gabah anjlok saat musim panen raya"],
    }
    X = [{"text": t} for texts in common.values() for t in texts]
    y = [agency for agency, texts in common.items() for _ in texts]
    return X, y


def test_catalogue_lets_a_rare_office_be_found_by_its_remit() -> None:
    X, y = _training_set()
    query = [{"text": "bagaimana cara mendaftar kartu tani dan mendapat pupuk bersubsidi"}]
    with_catalogue = AgencyRouter(min_df=1).fit(X, y)
    without = AgencyRouter(min_df=1, catalogue=False).fit(X, y)
    assert with_catalogue.n_catalogue_documents_ > 0 and without.n_catalogue_documents_ == 0
    assert with_catalogue.predict(query)[0] == RARE
    assert without.predict(query)[0] != RARE
    # the catalogue adds documents, never classes
    assert list(with_catalogue.classes_) == sorted(set(y))


def test_auxiliary_rows_train_but_are_never_scored_for_calibration() -> None:
    import numpy as np
    import pytest
    import scipy.sparse as sp

    from lapor_triage.models.features import CalibratedLinear

    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.random((40, 6)))
    y = ["a"] * 20 + ["b"] * 20
    plain = CalibratedLinear(cv=2, calibration_folds=None).fit(X, y)
    unmarked = CalibratedLinear(cv=2, calibration_folds=None).fit(X, y, auxiliary=[False] * 40)
    assert unmarked.temperature_ == plain.temperature_
    assert unmarked.oof_margins_ is not None
    marked = CalibratedLinear(cv=2, calibration_folds=None).fit(
        X, y, auxiliary=[False] * 30 + [True] * 10
    )
    assert marked.oof_margins_ is None  # some rows were never scored
    assert marked.model_ is not None
    with pytest.raises(ValueError, match="auxiliary"):
        CalibratedLinear(cv=2).fit(X, y, auxiliary=[True] * 3)


def test_catalogue_documents_are_auxiliary_in_the_router() -> None:
    X, y = _training_set()
    router = AgencyRouter(min_df=1).fit(X, y)
    assert router.extra_config()["n_catalogue_documents"] == router.n_catalogue_documents_ > 0
