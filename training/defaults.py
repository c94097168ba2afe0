"""The embedded default: models trained from the repository's own demo data on first run."""

from __future__ import annotations

import logging
from pathlib import Path

from lapor_triage.paths import datasets_dir, var_dir
from lapor_triage.training.loop import read_training_info

log = logging.getLogger(__name__)

DEMO_SOURCES = {
    "report-type": "demo/reports.csv",
    "agency": "demo/reports.csv",
    "reply-quality": "demo/replies.jsonl",
}


def default_model_dir(task: str) -> Path:
    return var_dir() / "models" / task


def ensure_default_models(
    force: bool = False, tasks: tuple[str, ...] | None = None, track: bool = True
) -> dict[str, Path]:
    """Train each default model from ``datasets/demo`` unless a trained one is already there.

    Returns the model folder of each task. Runs are logged to the embedded MLflow store when
    ``track`` is true, like any other training run.
    """
    from lapor_triage.training.config import TrainConfig
    from lapor_triage.training.loop import run_training

    out: dict[str, Path] = {}
    for task in tasks or tuple(DEMO_SOURCES):
        target = default_model_dir(task)
        if not force and read_training_info(target).get("task") == task:
            out[task] = target
            continue
        data = datasets_dir() / DEMO_SOURCES[task]
        if not data.is_file():
            raise FileNotFoundError(
                f"demo data {data} is missing: cannot train the default {task} model"
            )
        log.info("training the default %s model from %s (first run)", task, data)
        config = TrainConfig(
            task=task, data=[data], output=target, split="auto", refit_full=True, track=track
        )
        out[task] = run_training(config).model_dir
    return out
