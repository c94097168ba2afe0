"""The embedded default: models trained from the shipped demo data, for a first ``lapor-triage serve``.

``lapor-triage serve`` calls :func:`ensure_default_models` BEFORE it starts the server, for the
tasks that have no model configured; the service itself only loads models. Each default model is
saved under ``<home>/var/models/<task>``, logged to the MLflow store as a version of
``lapor-triage-<task>`` and, when that model has no champion yet, given the ``champion`` alias, so
the service (``LAPOR_MODEL_SOURCE=auto``) loads it from the registry and ``lapor-triage models``
lists it. Never used with ``LAPOR_ENV=production``: the demo data is synthetic.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from lapor_triage.paths import datasets_dir, default_model_dir
from lapor_triage.registry_client import read_training_info

log = logging.getLogger(__name__)

DEMO_SOURCES = {
    "report-type": "demo/reports.csv",
    "agency": "demo/reports.csv",
    "reply-quality": "demo/replies.jsonl",
}
PROMOTED_BY = "lapor-triage serve"

__all__ = ["DEMO_SOURCES", "default_model_dir", "ensure_default_models"]


def ensure_default_models(
    force: bool = False,
    tasks: tuple[str, ...] | None = None,
    track: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Train each default model from ``datasets/demo`` unless a trained one is already there.

    Returns the model folder of each task. With ``track``, each model trained is logged to the
    MLflow store like any other training run, registered, and made ``champion`` when its
    registered model has no champion yet. ``progress`` receives one line before each model is
    trained ("training default agency model from the demo data (2/3)...") and one when it is done.
    """
    from lapor_triage.training.config import TrainConfig
    from lapor_triage.training.loop import run_training
    from lapor_triage.training.tracking import TrackingError

    say = progress or (lambda line: log.info("%s", line))
    wanted = tasks or tuple(DEMO_SOURCES)
    out: dict[str, Path] = {}
    to_train = []
    for task in wanted:
        target = default_model_dir(task)
        if not force and read_training_info(target).get("task") == task:
            out[task] = target
        else:
            to_train.append(task)
    for i, task in enumerate(to_train, 1):
        data = datasets_dir() / DEMO_SOURCES[task]
        if not data.is_file():
            raise FileNotFoundError(
                f"demo data {data} is missing: cannot train the default {task} model"
            )
        say(f"training default {task} model from the demo data ({i}/{len(to_train)})...")
        started = time.perf_counter()
        config = TrainConfig(
            task=task,
            data=[data],
            output=default_model_dir(task),
            split="auto",
            refit_full=True,
            track=track,
        )
        try:
            result = run_training(config, console=Console(stderr=True, quiet=True))
        except TrackingError as exc:  # the model is saved; only the MLflow store failed
            say(f"  {task} model trained, but not registered: {exc}")
            out[task] = default_model_dir(task)
            continue
        out[task] = result.model_dir
        done = f"  {task} model trained in {time.perf_counter() - started:.1f} s"
        version = getattr(result.tracking, "model_version", None)
        if version is not None:
            done += f"; {_make_champion_if_none(task, version)}"
        say(done)
    return out


def _make_champion_if_none(task: str, version: int) -> str:
    """Give ``version`` the ``champion`` alias when ``task`` has no champion; say what happened."""
    from lapor_triage.training import promotion, registry

    name = registry.registered_model_name(task)
    champion = registry.get_champion(task)
    if champion is not None:
        return f"registered {name} version {version} (version {champion.version} stays champion)"
    promotion.promote(
        task,
        version,
        user=PROMOTED_BY,
        reason="default model trained from the synthetic demo data on the first run",
    )
    return f"registered {name} version {version} as champion"
