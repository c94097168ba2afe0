"""The place fields of the contract (``kabkota``, ``provinsi``; issue 12) reach the disposition
model alike through ``lapor-triage predict`` (a subprocess), the HTTP API (a live server) and the
logged MLflow pyfunc (loaded back by MLflow, signature enforced), and a pyfunc logged before the
fields existed (its signature without them) still loads and predicts."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from lapor_triage.fields import model_fields, warn_missing_fields
from lapor_triage.models.regions import RegionFinder
from tests.conftest import ROOT
from tests.service.conftest import launch, make_settings
from tests.service.tiny_models import train_tiny_disposition
from tests.test_field_contract import contract_models  # noqa: F401  (a fixture)
from tests.training.test_tracking import store  # noqa: F401  (a fixture)

OLD_FIELDS = ("penerima", "kecamatan", "kelurahan", "kategori")  # the contract before kabkota
LAMPU = "Lampu jalan mati"
REPORTS = [
    {"id": "kabkota", "isi": LAMPU, "kabkota": "Kota Semarang"},
    {"id": "messy", "isi": LAMPU, "kabkota": "  Kota\n  Semarang "},
    {"id": "bandung", "isi": LAMPU, "kabkota": "Kabupaten Bandung"},
    {"id": "both", "isi": LAMPU, "kabkota": "Kota Semarang", "provinsi": "Jawa Tengah"},
    {"id": "none", "isi": LAMPU},
    {"id": "blank", "isi": LAMPU, "kabkota": " ", "provinsi": ""},
]
TOP = 3


@pytest.fixture(scope="module")
def disposition_dir(tmp_path_factory) -> Path:
    return train_tiny_disposition(tmp_path_factory.mktemp("places-disposition"))


def _view(d: dict, top: list[dict] | None = None) -> dict:
    """What the paths must agree on: the suggestion, its region and evidence, the first TOP."""
    top = d["top_k"] if top is None else top
    return {
        "label": d["label"],
        "region": d["region"],
        "evidence": list(d["evidence"]),
        "abstain": bool(d["abstain"]),
        "top": [(s["instansi"], round(float(s["probability"]), 6)) for s in top[:TOP]],
    }


def through_http(models: dict, disposition: Path, tmp: Path) -> dict[str, dict]:
    settings = make_settings(
        models, f"sqlite:///{tmp / 'places.db'}", disposition_model_dir=disposition
    )
    live = launch(settings, tmp / "service.log")
    try:
        with live.client() as c:
            r = c.post(
                "/v1/reports/triage",
                json={"reports": REPORTS, "top_k": TOP},
                headers=live.headers("admin"),
            )
    finally:
        live.stop()
    assert r.status_code == 200, r.text
    return {res["id"]: _view(res["disposition"]) for res in r.json()["results"]}


def through_cli(disposition: Path, tmp: Path) -> dict[str, dict]:
    src, dst = tmp / "places-in.jsonl", tmp / "places-out.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in REPORTS), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "predict", "--model", str(disposition),
         "--input", str(src), "--output", str(dst), "--top", str(TOP)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "trained with the field" not in result.stderr  # the model learned no field one-hots
    rows = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    return {str(r["id"]): _view(r) for r in rows}


def log_and_load(disposition: Path, fields: tuple[str, ...] | None = None):
    """The model logged as training logs it and loaded back by MLflow; ``fields`` replaces the
    contract's fields while logging (a model logged by an older release)."""
    import mlflow

    import lapor_triage.training.logged_model as logged_model
    from lapor_triage.models.base import load_model
    from lapor_triage.training.tracking import ensure_experiment, ensure_local_store

    ensure_local_store()
    result = SimpleNamespace(predictor=load_model(disposition), model_dir=disposition)
    with pytest.MonkeyPatch.context() as mp:
        if fields is not None:
            mp.setattr(logged_model, "REPORT_FIELDS", fields)
        with mlflow.start_run(experiment_id=ensure_experiment("field-contract-places")):
            info = logged_model.log_pyfunc_model(result, "disposition")
    return mlflow.pyfunc.load_model(info.model_uri)


def through_pyfunc(model, reports: list[dict]) -> dict[str, dict]:
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "id"} for r in reports])
    out = model.predict(frame)
    views = {}
    for report, (_, row) in zip(reports, out.iterrows(), strict=True):
        d = {k: row[k] for k in ("label", "region", "abstain")}
        d["region"] = None if pd.isna(d["region"]) else d["region"]
        d["evidence"] = json.loads(row["evidence"])
        views[report["id"]] = _view(d, json.loads(row["top_k"]))
    return views


def test_kabkota_reaches_the_disposition_model_alike_on_every_path(
    contract_models,  # noqa: F811
    disposition_dir,
    store,  # noqa: F811
    tmp_path,
    caplog,
):
    http = through_http(contract_models, disposition_dir, tmp_path)
    # The kabkota field alone names the region, with that evidence, and makes the model sure.
    semarang = http["kabkota"]
    assert semarang["label"] == "Dinas Perhubungan Kota Semarang"
    assert semarang["region"] == "Kota Semarang"
    assert semarang["evidence"] == ["kabkota: Kota Semarang"]
    assert semarang["abstain"] is False
    # A region the tiny model never saw for this kind is composed from the field (ranked below
    # the region its few training posts taught it for street lights).
    assert "Dinas Perhubungan Kabupaten Bandung" in [i for i, _ in http["bandung"]["top"]]
    # Without the field the answer differs (so the comparisons below could fail) ...
    assert not any(e.startswith("kabkota") for e in http["none"]["evidence"])
    assert http["none"]["abstain"] is True
    # ... and spacing and blanks are read alike on every path.
    assert http["messy"] == http["kabkota"] and http["blank"] == http["none"]
    assert http["both"]["region"] == "Kota Semarang"

    assert through_cli(disposition_dir, tmp_path) == http
    model = log_and_load(disposition_dir)
    caplog.clear()  # the service's warnings about the other models' fields
    with caplog.at_level(logging.WARNING, logger="lapor_triage.fields"):
        assert through_pyfunc(model, REPORTS) == http
    assert not [r for r in caplog.records if "trained with the field" in r.getMessage()]


def test_a_pyfunc_logged_before_the_place_fields_still_loads_and_predicts(
    disposition_dir,
    store,  # noqa: F811
):
    model = log_and_load(disposition_dir, OLD_FIELDS)
    inputs = set(model.metadata.get_input_schema().input_names())
    assert "kabkota" not in inputs and "provinsi" not in inputs and "penerima" in inputs
    new = through_pyfunc(log_and_load(disposition_dir), REPORTS)
    # Frames without the new columns, as its callers send them, score as before.
    without = [{k: v for k, v in r.items() if k not in ("kabkota", "provinsi")} for r in REPORTS]
    old = through_pyfunc(model, without)
    assert all(old[rid] == new["none"] for rid in old)
    # Frames with them are accepted too: its signature drops the columns it does not declare.
    assert through_pyfunc(model, REPORTS) == old


def test_the_place_fields_warn_no_model_that_never_learned_them(
    contract_models,  # noqa: F811
    disposition_dir,
):
    from lapor_triage.models.base import load_model

    disposition = load_model(disposition_dir)
    assert model_fields(disposition) == ()
    assert warn_missing_fields(disposition, [{"text": LAMPU}]) == []
    for task, learned in (("report-type", ("penerima",)), ("agency", ("kecamatan", "kelurahan"))):
        model = load_model(contract_models[task])
        assert model_fields(model) == learned
        assert set(warn_missing_fields(model, [{"text": LAMPU}])) == set(learned)


def test_the_provinsi_field_is_read_with_or_without_its_prefix():
    finder = RegionFinder()
    for value in ("Jawa Tengah", "Provinsi Jawa Tengah", "provinsi  jawa tengah"):
        found = finder.find({"text": LAMPU, "provinsi": value})["provinsi"]
        assert found[0].region == "Provinsi Jawa Tengah", value
        assert found[0].evidence == [f"provinsi: {value}"], value
