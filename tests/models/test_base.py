"""The model folder format shared by the triage predictors."""

from __future__ import annotations

import json

import pytest

from lapor_triage.models.base import FORMAT_VERSION, ModelFormatError, load_model
from lapor_triage.models.report_type import ReportTypeClassifier

TEXTS = [
    "jalan rusak",
    "apakah ada info?",
    "usul taman",
    "sampah bau",
    "bagaimana caranya?",
    "saran halte",
]
LABELS = ["pengaduan", "permintaan_informasi", "aspirasi"] * 2


@pytest.fixture()
def saved(tmp_path):
    path = tmp_path / "model"
    ReportTypeClassifier().fit(TEXTS, LABELS).save(path)
    return path


def test_saved_folder_holds_config_labels_and_state(saved) -> None:
    config = json.loads((saved / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION
    assert config["task"] == "report-type"
    assert config["class"] == "ReportTypeClassifier"
    assert json.loads((saved / "labels.json").read_text()) == sorted(set(LABELS))
    assert (saved / "model.pkl").stat().st_size > 0
    assert not (saved / "model.joblib").exists()


def test_a_folder_saved_with_joblib_before_model_pkl_still_loads(saved, tmp_path) -> None:
    """Folders written before ``model.pkl`` hold a compressed ``model.joblib``: same predictions."""
    import pickle
    import shutil

    import joblib

    old = tmp_path / "old-format"
    shutil.copytree(saved, old)
    with (old / "model.pkl").open("rb") as fh:
        joblib.dump(pickle.load(fh), old / "model.joblib", compress=3)
    (old / "model.pkl").unlink()
    before, after = load_model(saved), load_model(old)
    assert after.predict(TEXTS) == before.predict(TEXTS)


def test_wrong_format_version_gives_a_clear_error(saved) -> None:
    config = json.loads((saved / "config.json").read_text())
    config["format_version"] = FORMAT_VERSION + 1
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="format version") as info:
        load_model(saved)
    assert "Retrain" in str(info.value)


def test_loading_as_the_wrong_class_is_refused(saved) -> None:
    from lapor_triage.models.agency import AgencyRouter

    with pytest.raises(ModelFormatError, match="ReportTypeClassifier"):
        AgencyRouter.load(saved)


def test_missing_state_file(saved) -> None:
    (saved / "model.pkl").unlink()
    with pytest.raises(ModelFormatError, match="model.pkl"):
        load_model(saved)


def test_labels_that_do_not_match_are_detected(saved) -> None:
    (saved / "labels.json").write_text(json.dumps(["a", "b", "c"]))
    with pytest.raises(ModelFormatError, match="labels.json"):
        load_model(saved)


def test_every_predictor_clones_with_scikit_learn_and_refuses_unknown_params() -> None:
    """The style rule: get_params / set_params so ``sklearn.base.clone`` works."""
    from sklearn.base import clone

    from lapor_triage.models.base import _REGISTRY, _import_known_predictors

    _import_known_predictors()
    assert len(_REGISTRY) >= 4
    for cls in _REGISTRY.values():
        model = cls()
        copy = clone(model)
        assert type(copy) is cls and copy is not model
        assert copy.get_params() == model.get_params()
        name, value = next(iter(model.get_params().items()))
        assert model.set_params(**{name: value}) is model
        with pytest.raises(ValueError, match="no hyperparameter 'nonsense'"):
            model.set_params(nonsense=1)
