"""The model registry: versions of ``lapor-triage-<task>``, registered, listed and loaded.

Moving the ``champion`` alias, gated on quality, is :mod:`~training.promotion`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lapor_triage.models.base import Predictor, load_model
from lapor_triage.registry_client import (  # the read side: one copy, shared with the service
    CHAMPION,
    RegistryError,
    VersionInfo,
    get_by_alias,
    get_champion,
    get_version,
    model_folder,
)
from lapor_triage.registry_client import version_info as _version_info
from lapor_triage.training.tracking import get_client, registered_model_name, tracking_uri

KEY_METRICS = ("accuracy", "macro_f1", "top1_accuracy", "top3_accuracy")

__all__ = [
    "CHAMPION",
    "KEY_METRICS",
    "RegistryError",
    "get_champion",
    "get_version",
    "list_versions",
    "load_champion",
    "load_model_by_alias",
    "load_version",
    "model_folder",
    "register",
]


# --- registration and listing -----------------------------------------------------------------
def register(
    model_uri: str,
    task: str,
    *,
    run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    uri: str | None = None,
) -> int:
    """Register ``model_uri`` as a new version of ``lapor-triage-<task>``; return the version."""
    from mlflow.exceptions import MlflowException

    client = get_client(uri)
    name = registered_model_name(task)
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name,
                tags={"lapor_triage.task": task},
                description=f"lapor-triage {task} models. The `{CHAMPION}` alias is what serves.",
            )
        except MlflowException:  # created concurrently
            pass
    mv = client.create_model_version(
        name,
        model_uri,
        run_id=run_id,
        tags={k: str(v) for k, v in (tags or {}).items()},
        description=description,
    )
    _wait_ready(client, name, mv.version)
    return int(mv.version)


def list_versions(task: str, uri: str | None = None) -> list[VersionInfo]:
    """All versions of ``lapor-triage-<task>`` (newest first) with their run's key metrics."""
    client = get_client(uri)
    name = registered_model_name(task)
    from mlflow.exceptions import MlflowException

    try:
        aliases = dict(client.get_registered_model(name).aliases or {})
    except MlflowException:
        return []  # nothing registered yet
    by_version: dict[str, list[str]] = {}
    for alias, v in aliases.items():
        by_version.setdefault(str(v), []).append(alias)
    out = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        info = _version_info(client, task, mv)
        info.aliases = sorted(set(info.aliases) | set(by_version.get(str(mv.version), [])))
        out.append(info)
    return sorted(out, key=lambda v: v.version, reverse=True)


# --- loading ------------------------------------------------------------------------------------
def load_model_by_alias(
    task: str, alias: str = CHAMPION, uri: str | None = None, cache_dir: Path | None = None
) -> Predictor:
    """The lapor-triage predictor behind ``lapor-triage-<task>@<alias>``."""
    info = get_by_alias(task, alias, uri)
    if info is None:
        raise RegistryError(
            f"{registered_model_name(task)} has no version with alias {alias!r} "
            f"(tracking store {tracking_uri(uri)}); train one and `lapor-triage promote` it"
        )
    return load_version(task, info.version, uri=uri, cache_dir=cache_dir)


def load_champion(task: str, uri: str | None = None, cache_dir: Path | None = None) -> Predictor:
    return load_model_by_alias(task, CHAMPION, uri=uri, cache_dir=cache_dir)


def load_version(
    task: str, version: int | str, uri: str | None = None, cache_dir: Path | None = None
) -> Predictor:
    """The lapor-triage predictor of one registered version (artifacts cached locally)."""
    return load_model(model_folder(task, version, uri=uri, cache_dir=cache_dir))


# --- helpers -------------------------------------------------------------------------------------


def _wait_ready(client: Any, name: str, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_model_version(name, version).status
        if status == "READY":
            return
        if status == "FAILED_REGISTRATION":
            raise RegistryError(f"registering {name} version {version} failed")
        time.sleep(0.2)
