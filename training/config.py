"""One typed training configuration, loadable from YAML and logged with every run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lapor_triage.training.records import DataError

Task = Literal["report-type", "agency", "reply-quality", "disposition"]
SplitKind = Literal["auto", "time", "random", "group", "none"]
TASKS: tuple[str, ...] = ("report-type", "agency", "reply-quality", "disposition")


class TrainConfig(BaseModel):
    """Everything that decides a training run. Same data + same config gives the same metrics."""

    model_config = ConfigDict(extra="forbid")

    task: Task
    data: list[Path] = Field(
        min_length=1, description="training files (several formats may be mixed)"
    )
    output: Path = Field(description="folder the trained model is saved to")
    text_column: str | None = None
    label_column: str | None = None
    date_column: str | None = None
    strict: bool = Field(False, description="fail on the first bad row instead of skipping it")
    feedback_weight: float = Field(1.0, ge=0, description="sample weight of admin feedback rows")
    seed: int = 42
    split: SplitKind = Field(
        "auto",
        description="auto: time split where rows are dated, grouped by report for replies, else random",
    )
    test_size: float = Field(0.15, gt=0, lt=1)
    dedupe: bool = True
    refit_full: bool = Field(
        False,
        description=(
            "after evaluation, refit on all rows but the gate part (the logged metrics then come "
            "from the gate part, which the refit model never saw)"
        ),
    )
    gate_fraction: float = Field(
        0.10,
        ge=0,
        lt=0.5,
        description=(
            "share of rows (stable hash of the report id) kept out of every training run, "
            "refit_full included: champion and candidate are compared on it (0: no gate)"
        ),
    )
    model: dict[str, Any] = Field(default_factory=dict, description="predictor hyperparameters")
    report_dir: Path | None = Field(
        None, description="evaluation report folder (default OUTPUT/report)"
    )
    track: bool = Field(True, description="log the run to MLflow and register a model version")
    experiment: str | None = Field(
        None, description="MLflow experiment (default lapor-triage-<task>)"
    )

    @field_validator("data")
    @classmethod
    def _files_exist(cls, paths: list[Path]) -> list[Path]:
        for p in paths:
            if not Path(p).is_file():
                raise ValueError(f"data file {p} does not exist")
        return paths

    @property
    def resolved_report_dir(self) -> Path:
        return self.report_dir or self.output / "report"

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read a YAML config; ``overrides`` (e.g. from the command line) win over the file."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"cannot read config: {exc}", file=str(path)) from exc
        if not isinstance(raw, dict):
            raise DataError("config must be a mapping of settings", file=str(path))
        raw.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(raw)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
