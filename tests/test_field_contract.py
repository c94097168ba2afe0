"""One field contract (issue 11, item 2): the same reports, with and without each report field
(``penerima``, ``kecamatan``, ``kelurahan``, ``kategori``, ``kabkota``, ``provinsi``), through
``lapor-triage predict`` (a subprocess), the HTTP API (the service tests' live server) and the
logged MLflow pyfunc (loaded back by MLflow, signature enforced) give identical labels and
probabilities. The disposition model's reading of ``kabkota`` and ``provinsi`` on the three paths:
``test_field_contract_places.py``."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from lapor_triage.fields import (
    FIELD_DESCRIPTIONS,
    REPORT_FIELDS,
    field_value,
    model_fields,
    report_fields,
    warn_missing_fields,
)
from tests.conftest import ROOT
from tests.service.conftest import launch, make_settings
from tests.service.tiny_models import reply_examples, report_examples
from tests.training.test_tracking import store  # noqa: F401  (a fixture)

SURABAYA = "Pemerintah Kota Surabaya"
SAMARINDA = "Pemerintah Kota Samarinda"
PLACE_OF = {  # agency -> (kecamatan, kelurahan) where its reports mostly come from
    "Dinas Pekerjaan Umum": ("Wonokromo", "Ngagel Rejo"),
    "Dinas Perhubungan": ("Tegalsari", "Darmo"),
    "Dinas Lingkungan Hidup": ("Gubeng", "Airlangga"),
    "Dinas Kesehatan": ("Wonokromo", "Darmo"),
}
OFFICE_TEXTS = [
    "Mohon bantuan pengurusan surat keterangan domisili yang belum selesai",
    "Pelayanan surat pengantar di kantor lambat sekali",
    "Petugas kantor tidak ada di tempat saat jam pelayanan",
]


def training_reports() -> tuple[list[dict], list[str], list[str]]:
    """The service tests' tiny reports with the report fields filled in so that each matters:
    penerima leans towards a report type, the place towards an agency, and some reports go to
    the kelurahan office of their own place (the location-office rule)."""
    X, types, agencies = [], [], []
    for i, (rec, kind, agency) in enumerate(report_examples()):
        kecamatan, kelurahan = PLACE_OF[agency]
        penerima = SAMARINDA if (kind == "aspirasi") != (i % 4 == 0) else SURABAYA
        X.append({**rec, "penerima": penerima, "kecamatan": kecamatan, "kelurahan": kelurahan})
        types.append(kind)
        agencies.append(agency)
    for j, text in enumerate(OFFICE_TEXTS * 4):
        kelurahan = ("Ngagel Rejo", "Darmo", "Airlangga")[j % 3]
        X.append({"text": text, "penerima": SURABAYA, "kecamatan": "Wonokromo",
                  "kelurahan": kelurahan})  # fmt: skip
        types.append("pengaduan")
        agencies.append(f"Kelurahan {kelurahan}")
    return X, types, agencies


BASE = [
    ("jalan", "Jalan berlubang di Jalan Kenanga", "Jalan berlubang besar, mohon ditambal."),
    ("usul", "Usulan taman", "Kami mengusulkan agar dibuat program penghijauan rutin."),
    ("tanya", "", "Bagaimana cara mengurus izin keramaian? Mohon informasinya."),
    ("kantor", "Surat domisili", "Pengurusan surat keterangan domisili belum selesai."),
    ("umum", "", "Mohon perhatian untuk lingkungan kami"),
    ("lampu", "Lampu PJU padam", "<p>Yth. Dinas Perhubungan, lampu PJU padam di Gang Mawar</p>"),
]
FULL = {"penerima": SAMARINDA, "kecamatan": "Tegalsari", "kelurahan": "Darmo",
        "kategori": "Infrastruktur", "kabkota": "Kota Surabaya",
        "provinsi": "Jawa Timur"}  # fmt: skip


def contract_reports() -> list[dict]:
    """Each base report with every field, without each one, with none, and with messy spacing."""
    out = []
    for key, judul, isi in BASE:
        variants = {"full": FULL, "none": {}}
        variants.update({f"no-{f}": {k: v for k, v in FULL.items() if k != f} for f in FULL})
        variants["messy"] = {"penerima": "  Pemerintah\n Kota   Samarinda ", "kelurahan": " Darmo"}
        variants["clean"] = {"penerima": SAMARINDA, "kelurahan": "Darmo"}
        variants["surabaya"] = {"penerima": SURABAYA}
        variants["blank"] = {"penerima": "   ", "kecamatan": ""}
        for name, fields in variants.items():
            out.append({"id": f"{key}-{name}", "judul": judul, "isi": isi, **fields})
    return out


@pytest.fixture(scope="module")
def contract_models(tmp_path_factory) -> dict[str, Path]:
    from lapor_triage.models.agency import AgencyRouter
    from lapor_triage.models.reply_quality import ReplyQualityScorer
    from lapor_triage.models.report_type import ReportTypeClassifier

    root = tmp_path_factory.mktemp("contract-models")
    X, types, agencies = training_reports()
    replies = reply_examples()
    return {
        "report-type": ReportTypeClassifier(min_df=1, max_features=5000, field_weight=2.0)
        .fit(X, types)
        .save(root / "report-type"),
        "agency": AgencyRouter(min_df=1, max_features=5000, abstain_threshold=0.3)
        .fit(X, agencies)
        .save(root / "agency"),
        "reply-quality": ReplyQualityScorer(cv_folds=3)
        .fit([r for r, _ in replies], [y for _, y in replies])
        .save(root / "reply-quality"),
    }


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {str(r["id"]): r for r in rows}


def through_cli(model: Path, reports: list[dict], tmp: Path) -> tuple[dict[str, dict], str]:
    src, dst = tmp / f"{model.name}-in.jsonl", tmp / f"{model.name}-out.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reports), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "predict", "--model", str(model),
         "--input", str(src), "--output", str(dst), "--top", "50"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    out = {str(r["id"]): {"label": r["label"], "probabilities": r["probabilities"]} for r in rows}
    for r in rows:
        if "abstain" in r:
            out[str(r["id"])]["abstain"] = r["abstain"]
    return out, result.stderr


def through_http(contract_models, reports, tmp: Path) -> dict[str, dict[str, dict]]:
    settings = make_settings(contract_models, f"sqlite:///{tmp / 'contract.db'}")
    live = launch(settings, tmp / "service.log")
    try:
        with live.client() as c:
            r = c.post(
                "/v1/reports/triage",
                json={"reports": reports, "top_k": 50},
                headers=live.headers("admin"),
            )
    finally:
        live.stop()
    assert r.status_code == 200, r.text
    types, agencies = {}, {}
    for res in r.json()["results"]:
        types[res["id"]] = dict(res["report_type"])
        a = res["agency"]
        agencies[res["id"]] = {
            "label": a["label"],
            "probabilities": {x["agency"]: x["probability"] for x in a["top_k"]},
            "abstain": a["abstain"],
        }
    return {"report-type": types, "agency": agencies}


def through_pyfunc(model_dir: Path, task: str, reports: list[dict], caplog) -> dict[str, dict]:
    """Logged as training logs it (``log_pyfunc_model``), loaded back by MLflow; ``caplog``
    holds what the loaded model logged while predicting."""
    import mlflow

    from lapor_triage.models.base import load_model
    from lapor_triage.training.logged_model import log_pyfunc_model
    from lapor_triage.training.tracking import ensure_experiment, ensure_local_store

    ensure_local_store()
    predictor = load_model(model_dir)
    with mlflow.start_run(experiment_id=ensure_experiment("field-contract")):
        info = log_pyfunc_model(SimpleNamespace(predictor=predictor, model_dir=model_dir), task)
    model = mlflow.pyfunc.load_model(info.model_uri)
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "id"} for r in reports])
    caplog.clear()
    out = model.predict(frame)
    classes = [c[len("proba_") :] for c in out.columns if c.startswith("proba_")]
    result = {}
    for report, (_, row) in zip(reports, out.iterrows(), strict=True):
        probs = {c: round(float(row[f"proba_{c}"]), 6) for c in classes}
        result[report["id"]] = {"label": row["label"], "probabilities": probs}
        if "abstain" in out.columns:
            result[report["id"]]["abstain"] = bool(row["abstain"])
    return result


def assert_same(a: dict[str, dict], b: dict[str, dict], what: str) -> None:
    assert a.keys() == b.keys(), what
    for rid in a:
        assert a[rid]["label"] == b[rid]["label"], (what, rid, a[rid], b[rid])
        assert a[rid].get("abstain") == b[rid].get("abstain"), (what, rid)
        pa, pb = a[rid]["probabilities"], b[rid]["probabilities"]
        common = pa.keys() & pb.keys()
        assert common and len(common) == min(len(pa), len(pb)), (what, rid)
        for label in common:
            assert pa[label] == pytest.approx(pb[label], abs=2e-6), (what, rid, label)


def test_the_three_paths_give_identical_outputs(
    contract_models,
    store,  # noqa: F811
    tmp_path,
    caplog,
):
    reports = contract_reports()
    assert model_fields(_loaded(contract_models["report-type"])) == ("penerima",)
    assert model_fields(_loaded(contract_models["agency"])) == ("kecamatan", "kelurahan")
    http = through_http(contract_models, reports, tmp_path)
    for task in ("report-type", "agency"):
        cli, stderr = through_cli(contract_models[task], reports, tmp_path)
        with caplog.at_level(logging.WARNING, logger="lapor_triage.fields"):
            pyfunc = through_pyfunc(contract_models[task], task, reports, caplog)
        assert_same(cli, http[task], f"{task}: CLI vs HTTP")
        assert_same(cli, pyfunc, f"{task}: CLI vs pyfunc")
        # A trained-with field that is missing is warned about once per model, on every path.
        for field in model_fields(_loaded(contract_models[task])):
            needle = f"trained with the field {field!r}"
            assert stderr.count(needle) == 1, (task, field, stderr)
            assert sum(needle in r.getMessage() for r in caplog.records) == 1, (task, field)
    # The fields matter, so the comparison above could fail: without them the outputs differ.
    types = http["report-type"]
    assert types["umum-surabaya"]["label"] == "pengaduan" != types["umum-none"]["label"]
    assert types["umum-full"]["probabilities"] != types["umum-no-penerima"]["probabilities"]
    agency = http["agency"]
    assert agency["kantor-full"]["probabilities"] != agency["kantor-none"]["probabilities"]
    assert agency["kantor-full"]["label"] == "Kelurahan Darmo"  # the location-office rule
    # Spacing and blanks are read alike: messy values as clean ones, blank ones as none; the
    # place fields only the disposition model reads change nothing here.
    for task in ("report-type", "agency"):
        for key, *_ in BASE:
            for unread in ("kategori", "kabkota", "provinsi"):
                assert http[task][f"{key}-no-{unread}"] == http[task][f"{key}-full"], (task, key)
            assert http[task][f"{key}-messy"] == http[task][f"{key}-clean"], (task, key)
            assert http[task][f"{key}-blank"] == http[task][f"{key}-none"], (task, key)


def _loaded(path: Path):
    from lapor_triage.models.base import load_model

    return load_model(path)


def test_report_fields_are_read_alike():
    assert report_fields(
        {"penerima": "  Pemerintah\n Kota  Samarinda ", "kecamatan": "", "kelurahan": None,
         "kategori": 12, "text": "x", "kota": "y", "kabkota": " Kota\tSemarang",
         "provinsi": "  "}
    ) == {"penerima": "Pemerintah Kota Samarinda", "kategori": "12",
          "kabkota": "Kota Semarang"}  # fmt: skip
    assert field_value("kecamatan", float("nan")) is None  # an empty pandas/Spark cell
    assert field_value("kategori", 3.0) == "3"
    for bad in (["Gubeng"], {"a": 1}, True):
        with pytest.raises(ValueError, match="'kecamatan' must be a string"):
            field_value("kecamatan", bad)


def test_missing_field_is_warned_once_per_model(contract_models, caplog):
    first, second = _loaded(contract_models["agency"]), _loaded(contract_models["agency"])
    with caplog.at_level(logging.WARNING, logger="lapor_triage.fields"):
        assert warn_missing_fields(first, [{"text": "a", "kecamatan": "Gubeng"}]) == ["kelurahan"]
        assert warn_missing_fields(first, [{"text": "a"}]) == ["kecamatan"]
        assert warn_missing_fields(first, [{"text": "b"}, "c"]) == []
        assert warn_missing_fields(second, ["c"]) == ["kecamatan", "kelurahan"]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4
    assert "1 of 1 records lack it" in messages[0] and "all zero" in messages[0]
    assert warn_missing_fields(_loaded(contract_models["reply-quality"]), ["x"]) == []


def test_predict_cli_names_the_row_and_field_of_a_bad_value(contract_models, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": 1, "text": "Jalan rusak"}) + "\n"
        + json.dumps({"id": 2, "text": "Jalan rusak", "penerima": ["Dinas"]}) + "\n",
        "utf-8",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "predict", "--model",
         str(contract_models["report-type"]), "--input", str(src), "--output",
         str(tmp_path / "out.jsonl")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert "row 2" in result.stderr and "penerima" in result.stderr, result.stderr


def test_every_interface_declares_the_fields():
    from lapor_triage.service.schemas.reports import ReportIn
    from lapor_triage.training.logged_model import model_signature

    assert set(REPORT_FIELDS) <= set(ReportIn.model_fields)
    for name in REPORT_FIELDS:
        assert FIELD_DESCRIPTIONS[name] in ReportIn.model_fields[name].description
    schema = json.loads(
        (ROOT / "datasets" / "schemas" / "report_prediction_input.schema.json").read_text("utf-8")
    )
    assert set(REPORT_FIELDS) <= set(schema["properties"])
    signature = model_signature("report-type", [{"text": "x"}], pd.DataFrame({"label": ["a"]}))
    assert set(REPORT_FIELDS) <= set(signature.inputs.input_names())
