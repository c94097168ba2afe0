"""Where lapor-triage keeps its state: the MLflow store, the database, default models.

``LAPOR_TRIAGE_HOME`` overrides everything (tests point it at a temporary folder). Otherwise, in a
source checkout the project root is home; an installed package (a wheel, no source tree) uses the
XDG data folder ``$XDG_DATA_HOME/lapor-triage``, by default ``~/.local/share/lapor-triage``.
Nothing is ever written beside the installed code (site-packages).
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]
"""The folder above the ``lapor_triage`` package: the project root in a source checkout (or an
editable install); site-packages in a wheel install, where it is never used as a home."""

APP_NAME = "lapor-triage"


def in_source_checkout() -> bool:
    """True when this code runs from the repository (its ``pyproject.toml`` beside ``datasets/``)."""
    return (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "datasets").is_dir()


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path (as the XDG Base Directory spec asks),
    else ``~/.local/share``."""
    env = os.environ.get("XDG_DATA_HOME")
    if env and Path(env).is_absolute():
        return Path(env)
    return Path.home() / ".local" / "share"


def home() -> Path:
    """The folder holding ``mlflow/``, ``var/`` (database, default models, reports)."""
    env = os.environ.get("LAPOR_TRIAGE_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if in_source_checkout():
        return SOURCE_ROOT
    return xdg_data_home() / APP_NAME


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


def shared_data_dir() -> Path:
    """The real, PII-masked data the evaluation scripts read by default: ``../shared/data`` beside
    the project root of a source checkout (never shipped; pass ``--data-dir`` elsewhere)."""
    return SOURCE_ROOT.parent / "shared" / "data"
