"""The embedded default: a model trained from the shipped demo data on first run, reused after."""

from pathlib import Path

import pytest

from lapor_triage.models.base import load_model
from lapor_triage.training.defaults import default_model_dir, ensure_default_models


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    return tmp_path


def test_first_run_trains_then_reuses(home: Path) -> None:
    first = ensure_default_models(tasks=("agency",), track=False)
    folder = first["agency"]
    assert folder == default_model_dir("agency") and folder.is_relative_to(home)
    stamp = (folder / "model.pkl").stat().st_mtime_ns
    again = ensure_default_models(tasks=("agency",), track=False)
    assert again["agency"] == folder
    assert (folder / "model.pkl").stat().st_mtime_ns == stamp  # not retrained
    router = load_model(folder)
    assert len(router.classes_) >= 15
    (row,) = router.predict_records(["Sampah menumpuk di pinggir jalan belum diangkut petugas"])
    assert row["label"] in router.classes_


def test_force_retrains(home: Path) -> None:
    folder = ensure_default_models(tasks=("report-type",), track=False)["report-type"]
    stamp = (folder / "model.pkl").stat().st_mtime_ns
    ensure_default_models(tasks=("report-type",), track=False, force=True)
    assert (folder / "model.pkl").stat().st_mtime_ns != stamp
    assert set(load_model(folder).classes_) == {"pengaduan", "aspirasi", "permintaan_informasi"}
