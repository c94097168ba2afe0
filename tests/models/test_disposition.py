"""National disposition: kind + region composition, evidence, abstain, save/load, CLI, real data."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from lapor_triage.cli import main
from lapor_triage.models.base import load_model
from lapor_triage.models.disposition import NAME_MAP_FILE, DispositionModel
from lapor_triage.models.regions import RegionFinder
from tests.conftest import shared_file

LAMPU = "Lampu PJU di Jl. Pemuda Semarang mati sejak seminggu"
SAMPIT = "Klaim BPJS saya di rumah sakit Sampit ditolak, kartu JKN sudah aktif"

_TOPICS = {
    "Dinas Perhubungan": [
        "lampu penerangan jalan umum mati",
        "lampu PJU padam sudah lama",
        "traffic light lampu lalu lintas rusak",
        "parkir liar di trotoar mengganggu",
        "rambu lalu lintas roboh",
    ],
    "Dinas Pekerjaan Umum": [
        "jalan berlubang dan rusak parah",
        "saluran drainase tersumbat banjir",
        "aspal jalan mengelupas",
        "gorong gorong ambles",
    ],
    "BPJS Kesehatan": [
        "klaim BPJS ditolak rumah sakit",
        "kartu JKN tidak aktif padahal iuran dibayar",
        "peserta BPJS kesehatan ditolak puskesmas",
        "iuran BPJS kesehatan naik",
    ],
    "Kementerian Sosial": [
        "bantuan PKH belum cair",
        "bansos tidak tepat sasaran",
        "kartu keluarga sejahtera tidak bisa dipakai",
    ],
    "Direktorat Jenderal Imigrasi": [
        "antrian paspor online penuh",
        "pembuatan paspor lama sekali",
    ],
}
_PLACES = {
    # region-free Dinas Perhubungan posts too: a kind (or its family) that never went without a
    # region in the labels is never suggested region-free
    "Dinas Perhubungan": [("Kota Semarang", ["Semarang", "kota Semarang"]), (None, [""])],
    "Dinas Pekerjaan Umum": [
        ("Kota Semarang", ["Semarang"]),
        ("Kota Bandung", ["Bandung", "kota Bandung"]),
    ],
    "BPJS Kesehatan": [
        ("KC Sampit", ["Sampit"]),
        ("KC Palangkaraya", ["Palangkaraya"]),
    ],
}


def _training_set(n_per: int = 8, seed: int = 0) -> tuple[list[dict], list[str]]:
    rng = random.Random(seed)
    X, y = [], []
    for kind, phrases in _TOPICS.items():
        places = _PLACES.get(kind, [(None, [""])])
        for region, words in places:
            for i in range(n_per):
                where = rng.choice(words)
                text = f"{rng.choice(phrases)} di {where} mohon ditindaklanjuti {i}".replace(
                    " di  ", " "
                )
                X.append({"text": text, "label_raw": f"{kind} {region or ''}".strip()})
                y.append(f"{kind} {region}" if region else kind)
    return X, y


@pytest.fixture(scope="module")
def model() -> DispositionModel:
    X, y = _training_set()
    return DispositionModel(min_df=1).fit(X, y)


def test_street_light_in_semarang_goes_to_dishub_kota_semarang(model: DispositionModel) -> None:
    out = model.predict_records([LAMPU])[0]
    assert out["label"] == "Dinas Perhubungan Kota Semarang"
    assert out["kind"] == "Dinas Perhubungan"
    assert out["region"] == "Kota Semarang"
    assert "semarang" in " ".join(out["evidence"]).lower()
    assert out["top_k"][0]["seen_in_training"] is True


def test_bpjs_claim_in_sampit_goes_to_the_sampit_branch(model: DispositionModel) -> None:
    out = model.predict_records([SAMPIT])[0]
    assert out["label"] == "BPJS Kesehatan KC Sampit"
    assert out["top_k"][0]["region"] == "KC Sampit"
    assert "sampit" in " ".join(out["evidence"]).lower()


def test_unseen_instansi_is_composed_from_kind_and_named_region(model: DispositionModel) -> None:
    # Dinas Perhubungan was seen for Kota Semarang only; Bandung only for Dinas PU.
    out = model.predict_records(["Lampu lalu lintas di Kota Bandung mati, traffic light rusak"])[0]
    names = [s["instansi"] for s in out["top_k"][:3]]
    assert "Dinas Perhubungan Kota Bandung" in names
    row = next(s for s in out["top_k"] if s["instansi"] == "Dinas Perhubungan Kota Bandung")
    assert row["seen_in_training"] is False
    assert row["kind"] == "Dinas Perhubungan" and row["region"] == "Kota Bandung"
    assert "kota bandung" in row["evidence"]
    # and a gazetteer-only city (never in any training label) works the same way
    out = model.predict_records(["Lampu PJU mati di Kota Pekalongan sejak kemarin"])[0]
    assert "Dinas Perhubungan Kota Pekalongan" in [s["instansi"] for s in out["top_k"][:3]]


def test_a_report_naming_no_place_gets_a_region_free_suggestion(model: DispositionModel) -> None:
    # with regions learned from the wording (the default, chosen by inner-fold CV) a region may be
    # suggested, and it says so in its evidence; without them, never
    text = "lampu penerangan jalan mati sudah seminggu"
    # (a kind that never went without a region in the labels gets its seen regions, no evidence)
    for s in model.predict_records([text], top=20)[0]["top_k"]:
        learned = s["evidence"] == ["kata-kata laporan (dipelajari)"]
        never_alone = "none" not in model.level_probs(s["kind"])
        assert s["region"] is None or learned or never_alone, s
    # a region guessed from the wording alone is never offered as sure: the answer abstains
    guessed, named = model.predict_records([text, "smg lampu jalan mati"])
    assert guessed["region"] and guessed["evidence"] == ["kata-kata laporan (dipelajari)"]
    assert guessed["abstain"] is True
    assert named["evidence"] == ["smg"] and named["abstain"] is False
    X, y = _training_set()
    model = DispositionModel(min_df=1, region_text_weight=0.0).fit(X, y)
    out = model.predict_records([text])[0]
    assert out["kind"] == "Dinas Perhubungan"
    assert out["region"] is None
    assert out["label"] == "Dinas Perhubungan"
    assert out["evidence"] == []


def test_national_kind_stays_national(model: DispositionModel) -> None:
    out = model.predict_records(["bantuan PKH belum cair di Semarang"])[0]
    assert out["label"] == "Kementerian Sosial"


def test_regions_only_in_forms_the_labels_show(model: DispositionModel) -> None:
    # the labels show BPJS with branches only, Dinas with kota/kabupaten or none, Kementerian none
    assert set(model.level_probs("BPJS Kesehatan")) == {"branch"}
    assert set(model.level_probs("Dinas Perhubungan")) == {"kabkota", "none"}
    assert set(model.level_probs("Kementerian Sosial")) == {"none"}
    texts = [
        "klaim BPJS ditolak rumah sakit di Kota Bandung",
        "Lampu PJU mati di Semarang",
        "bantuan PKH belum cair di kota Semarang",
    ]
    for out in model.predict_records(texts, top=20):
        for s in out["top_k"]:
            kind, region = s["kind"], s["region"]
            if kind.startswith("BPJS"):
                assert region is not None and region.startswith("KC "), s
            if kind.startswith("Dinas"):
                assert region is None or region.startswith(("Kota ", "Kabupaten ")), s
            if kind.startswith("Kementerian"):
                assert region is None, s
    bandung = model.predict_records([texts[0]])[0]
    assert bandung["label"] == "BPJS Kesehatan KC Bandung"  # a branch named after its city


def test_outputs_are_probabilities_with_abstain(model: DispositionModel) -> None:
    outs = model.predict_records([LAMPU, SAMPIT, "halo"], top=5)
    for out in outs:
        assert set(out) >= {"label", "probabilities", "top_k", "abstain", "kind", "region"}
        assert isinstance(out["abstain"], bool)
        probs = [s["probability"] for s in out["top_k"]]
        assert probs == sorted(probs, reverse=True) and len(probs) <= 5
        assert 0 < sum(probs) <= 1.0 + 1e-6
        assert out["abstain"] is (out["top_k"][0]["probability"] < model.abstain_threshold)
    proba = model.predict_proba([LAMPU, SAMPIT])
    assert proba.shape == (2, len(model.classes_))
    assert np.all(proba.sum(axis=1) <= 1.0 + 1e-6)
    assert model.predict([LAMPU]) == ["Dinas Perhubungan Kota Semarang"]
    assert model.top_k([LAMPU], k=2)[0][0][0] == "Dinas Perhubungan Kota Semarang"


def test_calibration_is_not_flat(model: DispositionModel) -> None:
    # CalibratedLinear's own temperature ran to its bound on long tails (every kind about
    # 1/number of kinds); the model fits its temperature on classes seen in both halves.
    assert model.kind_clf_.temperature_ < 50
    out = model.predict_records([LAMPU])[0]
    assert out["top_k"][0]["probability"] > 0.3


def test_save_load_round_trip(model: DispositionModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "m")
    labels = json.loads((path / "labels.json").read_text())
    assert labels == [str(c) for c in model.classes_]
    name_map = json.loads((path / NAME_MAP_FILE).read_text())
    assert name_map["BPJS Kesehatan KC Sampit"] == "BPJS Kesehatan KC Sampit"
    loaded = load_model(path)
    assert isinstance(loaded, DispositionModel)
    texts = [LAMPU, SAMPIT, "Lampu lalu lintas di Kota Bandung mati"]
    assert loaded.predict_records(texts) == model.predict_records(texts)
    as_json = json.loads(json.dumps(model.get_params()))  # tuples come back as lists
    assert loaded.get_params() == as_json


def test_hyperparameters_only_in_init() -> None:
    m = DispositionModel(flat_weight=0.2, abstain_threshold=0.4)
    assert m.get_params()["flat_weight"] == 0.2
    assert not m.is_fitted
    with pytest.raises(ValueError, match="flat_regions"):
        DispositionModel(flat_regions="nope").fit(*_training_set(2))


def test_region_finder_levels_and_evidence() -> None:
    finder = RegionFinder({"KC Sampit": "branch"})
    found = finder.find("jalan rusak di kec. Pedurungan")
    assert found["kabkota"][0].region == "Kota Semarang"
    assert found["kecamatan"][0].region == "Pedurungan Kota Semarang"
    assert found["kecamatan"][0].evidence == ["kec. pedurungan"]
    assert finder.find(SAMPIT)["branch"][0].region == "KC Sampit"
    assert finder.find({"text": "jalan rusak", "kota": "Kota Bandung"})["kabkota"][0].region == (
        "Kota Bandung"
    )
    assert all(not v for v in finder.find("jalan berlubang dan banjir").values())
    # a common word that is also a city name does not count on its own
    assert finder.find("batu besar di tengah jalan")["kabkota"] == []
    assert finder.find("wisata di Kota Batu")["kabkota"][0].region == "Kota Batu"


def _posts_csv(path: Path) -> Path:
    X, y = _training_set(n_per=6, seed=1)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "judul", "isi"])
        for i, (rec, label) in enumerate(zip(X, y, strict=True)):
            w.writerow([str(i), "Laporan", f"Yth. {label}, <br><br>{rec['text']}"])
    return path


def test_cli_train_and_predict(tmp_path: Path) -> None:
    data = _posts_csv(tmp_path / "posts.csv")
    out = tmp_path / "model"
    code = main(
        ["train", "--task", "disposition", "--data", str(data), "--output", str(out),
         "--no-track", "--param", "min_df=1"]
    )  # fmt: skip
    assert code == 0
    assert (out / NAME_MAP_FILE).is_file()
    info = json.loads((out / "training.json").read_text())
    assert info["task"] == "disposition" and "top1_accuracy" in info["metrics"]
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        json.dumps({"id": "a", "text": LAMPU})
        + "\n"
        + json.dumps({"id": "b", "text": SAMPIT})
        + "\n"
    )
    pred = tmp_path / "pred.jsonl"
    assert main(["predict", "--model", str(out), "--input", str(inp), "--output", str(pred)]) == 0
    rows = [json.loads(line) for line in pred.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["label"] == "Dinas Perhubungan Kota Semarang"
    assert rows[1]["label"] == "BPJS Kesehatan KC Sampit"
    assert {"probabilities", "top_k", "abstain", "kind", "region", "evidence"} <= set(rows[0])


@pytest.mark.slow
def test_issue_examples_on_the_real_national_posts() -> None:
    from lapor_triage.training.disposition_data import load_disposition

    examples, _ = load_disposition([shared_file("lapor_national_posts_2017.csv")])
    m = DispositionModel().fit([e.as_record() for e in examples], [str(e.label) for e in examples])
    sampit_text = "Klaim BPJS Kesehatan saya ditolak rumah sakit di Sampit, kartu JKN aktif"
    lampu, sampit = m.predict_records([LAMPU, sampit_text])
    # In Kota Semarang street lights (PJU) are run by Disperkim: 10 of the 2017 posts about
    # lampu/PJU in Semarang went there, 5 to Dinas Perhubungan.
    assert lampu["kind"] in {"Dinas Perhubungan", "Dinas Perumahan dan Kawasan Permukiman"}
    assert lampu["region"] == "Kota Semarang"
    assert "semarang" in " ".join(lampu["evidence"]).lower()
    assert sampit["label"] == "BPJS Kesehatan KC Sampit"
    assert m.predict_records(["xyz qwerty"])[0]["abstain"] is True  # nothing to go on


def test_pyfunc_frame_has_the_suggestions(model: DispositionModel) -> None:
    import pandas as pd

    from lapor_triage.models.pyfunc import predict_frame

    texts = [LAMPU, "Lampu lalu lintas di Kota Bandung mati, traffic light rusak"]
    frame = predict_frame(model, pd.DataFrame({"text": texts}))
    assert list(frame["label"]) == model.predict(texts)
    assert frame["probability"].between(0, 1).all()
    top = json.loads(frame["top_k"][0])
    assert top[0]["instansi"] == "Dinas Perhubungan Kota Semarang"
    assert frame["region"][0] == "Kota Semarang"
