"""The read-only registry client: where the MLflow store lives, which version holds an alias, and
the lapor-triage model folder of a registered version.

This is all the service needs of MLflow, so it lives below training (README, "Layers"): it
imports MLflow and the core, nothing of ``lapor_triage.training`` or ``lapor_triage.models``.
Writing to the store (logging runs, registering versions, moving the ``champion`` alias) stays in
``training.tracking`` and ``training.registry``, which take the store location from here, so
there is one notion of "the configured store" in the process.

By default the store is embedded in the project home (``lapor_triage.paths.home``)::

    mlflow/mlflow.db      SQLite tracking + model registry database
    mlflow/artifacts/     artifact root (one folder per experiment)

``MLFLOW_TRACKING_URI`` (or an explicit ``uri``) points at a server or another database instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Must be set before mlflow is imported anywhere: mlflow decides at import time whether to start
# its telemetry client (which would try the network). Users may still opt in explicitly.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

HOME_ENV = "LAPOR_TRIAGE_HOME"
TRACKING_ENV = "MLFLOW_TRACKING_URI"
PYFUNC_MODEL_DIR_KEY = "model_dir"  # key of the lapor-triage model folder in the pyfunc artifacts
TAG_PRIMARY = "lapor_triage.primary_metric"
CHAMPION = "champion"
DEFAULT_PRIMARY = {
    "report-type": "macro_f1",
    "agency": "top1_accuracy",
    "reply-quality": "macro_f1",
    "disposition": "top1_accuracy",
}
TRAINING_INFO_FILE = "training.json"  # written beside a model by training.loop.run_training


class RegistryError(LookupError):
    """A registered model, version or alias that does not exist, or holds no lapor-triage model."""


# --- where the store lives ----------------------------------------------------------------------
def project_root() -> Path:
    """The folder holding ``mlflow/``: ``lapor_triage.paths.home()`` (``$LAPOR_TRIAGE_HOME``, else
    the source checkout, else ``$XDG_DATA_HOME/lapor-triage``)."""
    from lapor_triage.paths import home

    return home()


def mlflow_dir() -> Path:
    return project_root() / "mlflow"


def local_store_uri() -> str:
    return f"sqlite:///{mlflow_dir() / 'mlflow.db'}"


def artifact_root() -> Path:
    return mlflow_dir() / "artifacts"


# mlflow.set_tracking_uri() also exports MLFLOW_TRACKING_URI (for subprocesses): remember the
# value we exported so it is not mistaken for the user's choice later on.
_exported_uri: str | None = None


def tracking_uri(uri: str | None = None) -> str:
    """The tracking URI in use: ``uri`` if given, else ``$MLFLOW_TRACKING_URI``, else the local store."""
    env = os.environ.get(TRACKING_ENV)
    if env and env == _exported_uri:
        env = None
    return uri or env or local_store_uri()


def is_local_store(uri: str) -> bool:
    return uri == local_store_uri()


def is_database_uri(uri: str) -> bool:
    """A SQLAlchemy database URI (sqlite, postgresql, mysql, mssql), not a tracking server."""
    return uri.split(":", 1)[0].split("+", 1)[0] in ("sqlite", "postgresql", "mysql", "mssql")


def redact_uri(uri: str) -> str:
    """The URI without a password (postgresql://user:secret@host → postgresql://user:***@host)."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", uri)


def quiet_mlflow() -> None:
    """Keep MLflow offline and quiet: no telemetry, no migration/INFO chatter."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:  # drop a telemetry client started before our environment variable was set
        from mlflow.telemetry.client import set_telemetry_client

        set_telemetry_client()
    except Exception:  # pragma: no cover - telemetry API changed: the env var still applies
        pass
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


def ensure_local_store(uri: str | None = None) -> str:
    """Point MLflow at the tracking store (creating the embedded one on first use); return its URI."""
    import mlflow

    quiet_mlflow()
    global _exported_uri
    user_env = os.environ.get(TRACKING_ENV)
    uri = tracking_uri(uri)
    if is_local_store(uri):
        artifact_root().mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if os.environ.get(TRACKING_ENV) != user_env or user_env == _exported_uri:
        _exported_uri = os.environ.get(TRACKING_ENV)
    return uri


def get_client(uri: str | None = None) -> Any:
    """An ``MlflowClient`` on the configured store."""
    from mlflow import MlflowClient

    uri = ensure_local_store(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def registered_model_name(task: str) -> str:
    return f"lapor-triage-{task}"


# --- reading the registry -----------------------------------------------------------------------
@dataclass
class VersionInfo:
    """One registered model version with its run's key metrics."""

    task: str
    version: int
    run_id: str | None
    created: datetime
    aliases: list[str]
    primary_metric: str
    metrics: dict[str, float]
    tags: dict[str, str]
    description: str = ""

    @property
    def is_champion(self) -> bool:
        return CHAMPION in self.aliases

    @property
    def primary_value(self) -> float | None:
        return self.metrics.get(self.primary_metric)

    @property
    def forced(self) -> bool:
        return self.tags.get("promotion.forced") == "true"


def get_version(task: str, version: int | str, uri: str | None = None) -> VersionInfo:
    """One version of ``lapor-triage-<task>``; :class:`RegistryError` when there is no such version."""
    from mlflow.exceptions import MlflowException

    client = get_client(uri)
    name = registered_model_name(task)
    try:
        mv = client.get_model_version(name, str(version))
    except MlflowException as exc:
        first_line = str(exc).splitlines()[0][:200]
        raise RegistryError(f"{name} has no version {version} ({first_line})") from exc
    return version_info(client, task, mv)


def get_by_alias(task: str, alias: str, uri: str | None = None) -> VersionInfo | None:
    """The version of ``lapor-triage-<task>`` carrying ``alias``, or ``None``."""
    from mlflow.exceptions import MlflowException

    client = get_client(uri)
    try:
        mv = client.get_model_version_by_alias(registered_model_name(task), alias)
    except MlflowException:
        return None
    return version_info(client, task, mv)


def get_champion(task: str, uri: str | None = None) -> VersionInfo | None:
    """The version holding the ``champion`` alias, or ``None``."""
    return get_by_alias(task, CHAMPION, uri)


def model_folder(
    task: str, version: int | str, uri: str | None = None, cache_dir: Path | None = None
) -> Path:
    """Download (once) the lapor-triage model folder of a registered version; return its path.

    The folder is what ``lapor_triage.models.load_model`` reads. Downloads go to a temporary folder
    renamed into the cache, so processes that fetch the same version at once do not clash.
    """
    import mlflow.artifacts
    from mlflow.models import Model

    name = registered_model_name(task)
    info = get_version(task, version, uri)
    key = hashlib.sha1(f"{tracking_uri(uri)}|{info.run_id}".encode()).hexdigest()[:12]
    cache = Path(cache_dir or default_cache_dir()) / name / f"v{info.version}-{key}"
    folder = _pyfunc_model_dir(cache)
    if folder is not None:
        return folder
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{info.version}", dst_path=str(tmp)
        )
        Model.load(str(tmp))  # validates MLmodel
        if not cache.exists():
            try:
                os.replace(tmp, cache)
            except OSError:  # another process cached it first
                if _pyfunc_model_dir(cache) is None:
                    raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    folder = _pyfunc_model_dir(cache)
    if folder is None:
        raise RegistryError(f"{name} version {info.version} holds no lapor-triage model folder")
    return folder


def default_cache_dir() -> Path:
    """``var/model-cache`` under the project home (gitignored)."""
    return project_root() / "var" / "model-cache"


def read_training_info(model_dir: str | Path) -> dict[str, Any]:
    """The ``training.json`` saved beside a model (empty when the model was saved elsewhere)."""
    path = Path(model_dir) / TRAINING_INFO_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def version_info(client: Any, task: str, mv: Any) -> VersionInfo:
    """A :class:`VersionInfo` from an MLflow ``ModelVersion`` and its run (when the run exists)."""
    metrics: dict[str, float] = {}
    tags = dict(mv.tags or {})
    primary = tags.get(TAG_PRIMARY) or ""
    if mv.run_id:
        try:
            run = client.get_run(mv.run_id)
            metrics = dict(run.data.metrics)
            primary = primary or run.data.tags.get(TAG_PRIMARY, "")
        except Exception:  # run deleted: the version stays usable
            pass
    return VersionInfo(
        task=task,
        version=int(mv.version),
        run_id=mv.run_id,
        created=datetime.fromtimestamp((mv.creation_timestamp or 0) / 1000, tz=timezone.utc),
        aliases=list(getattr(mv, "aliases", []) or []),
        primary_metric=primary or DEFAULT_PRIMARY.get(task, "macro_f1"),
        metrics=metrics,
        tags=tags,
        description=mv.description or "",
    )


def _pyfunc_model_dir(local: Path) -> Path | None:
    mlmodel = local / "MLmodel"
    if not mlmodel.is_file():
        return None
    from mlflow.models import Model

    conf = Model.load(str(local)).flavors.get("python_function", {})
    rel = (conf.get("artifacts") or {}).get(PYFUNC_MODEL_DIR_KEY, {}).get("path")
    if not rel:
        return None
    folder = local / rel
    return folder if (folder / "config.json").is_file() else None
