"""Where lapor-triage keeps its state: the MLflow store, the database, default models.

``LAPOR_TRIAGE_HOME`` overrides everything (tests point it at a temporary folder). Otherwise, in a
source checkout the project root is home; an installed package uses ``~/.lapor-triage``.
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]


def in_source_checkout() -> bool:
    return (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "datasets").is_dir()


def home() -> Path:
    """The folder holding ``mlflow/``, ``var/`` (database, default models, reports)."""
    env = os.environ.get("LAPOR_TRIAGE_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if in_source_checkout():
        return SOURCE_ROOT
    return Path.home() / ".lapor-triage"


def var_dir() -> Path:
    """Run-time state that is never committed: database, default models, reports."""
    path = home() / "var"
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    """The data the repository ships (demo data, challenge sets, schemas).

    The folder ``datasets/`` of a source checkout, which an installed wheel carries as the package
    data of ``lapor_triage.datasets``: the same files in both.
    """
    from importlib.util import find_spec

    spec = find_spec("lapor_triage.datasets")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return SOURCE_ROOT / "datasets"


def default_model_dir(task: str) -> Path:
    """Where ``lapor-triage serve`` keeps the default ``task`` model it trains from the demo data
    (``training.defaults``), and where the service looks for it when nothing else is configured."""
    return var_dir() / "models" / task
