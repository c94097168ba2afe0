from pathlib import Path

import pytest
from pydantic import ValidationError

from lapor_triage.training.config import TrainConfig
from lapor_triage.training.records import DataError


@pytest.fixture()
def data_file(tmp_path: Path) -> Path:
    f = tmp_path / "d.csv"
    f.write_text("text,label\nhalo,a\n")
    return f


def test_yaml_round_trip(tmp_path: Path, data_file: Path) -> None:
    cfg = TrainConfig(
        task="agency", data=[data_file], output=tmp_path / "m", model={"C": 0.5}, seed=7
    )
    path = tmp_path / "c.yaml"
    path.write_text(cfg.to_yaml())
    again = TrainConfig.from_yaml(path)
    assert again == cfg


def test_yaml_overrides_win(tmp_path: Path, data_file: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"task: agency\ndata: [{data_file}]\noutput: {tmp_path / 'm'}\nseed: 1\n")
    cfg = TrainConfig.from_yaml(path, seed=5, strict=None)
    assert cfg.seed == 5 and cfg.strict is False


def test_unknown_setting_is_refused(tmp_path: Path, data_file: Path) -> None:
    with pytest.raises(ValidationError, match="lerning_rate"):
        TrainConfig(task="agency", data=[data_file], output=tmp_path, lerning_rate=1)


def test_missing_data_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="nope.csv"):
        TrainConfig(task="agency", data=[tmp_path / "nope.csv"], output=tmp_path)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("task: [unclosed\n")
    with pytest.raises(DataError, match="bad.yaml"):
        TrainConfig.from_yaml(path)
