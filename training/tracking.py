"""MLflow tracking for training runs: what one run logs.

Where the store lives is decided in ``lapor_triage.registry_client`` (the read-only client the
service uses too) and re-exported here. By default runs go to an embedded store inside the
project, created on first use::

    mlflow/mlflow.db      SQLite tracking + model registry database
    mlflow/artifacts/     artifact root (one folder per experiment)

``MLFLOW_TRACKING_URI`` (or an explicit ``uri``) points at a server or another database instead.
``LAPOR_TRIAGE_HOME`` overrides the project root (the folder holding ``mlflow/``).

The logged model is packed by :mod:`~training.logged_model`, the params by
:mod:`~training.run_params`, the evaluation split by :mod:`~training.eval_split`.

Everything here works offline: telemetry is switched off, pip requirements are given explicitly
(no inference), and no git/network lookups are made except a local ``git rev-parse``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Must be set before mlflow is imported anywhere: mlflow decides at import time whether to start
# its telemetry client (which would try the network). Users may still opt in explicitly.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from lapor_triage import __version__  # noqa: E402
from lapor_triage.registry_client import (  # noqa: E402, F401  (the store: one place, re-exported)
    HOME_ENV,
    PYFUNC_MODEL_DIR_KEY,
    TAG_PRIMARY,
    TRACKING_ENV,
    artifact_root,
    ensure_local_store,
    get_client,
    is_database_uri,
    is_local_store,
    local_store_uri,
    mlflow_dir,
    project_root,
    quiet_mlflow,
    redact_uri,
    registered_model_name,
    tracking_uri,
)
from lapor_triage.text import mask_pii  # noqa: E402
from lapor_triage.training.eval_split import EVAL_SPLIT_ARTIFACT, eval_split_jsonl  # noqa: E402
from lapor_triage.training.logged_model import log_pyfunc_model  # noqa: E402
from lapor_triage.training.run_params import (  # noqa: E402
    config_dict,
    config_yaml,
    fingerprint_params,
    flatten_params,
    git_commit,
    log_params,
    metric_key,
    numeric_metrics,
)

log = logging.getLogger(__name__)

FINGERPRINT_ARTIFACT = "data/fingerprint.json"
CONFIG_ARTIFACT = "config/train_config.yaml"

# Tag names (shared with training.registry).
TAG_TASK = "lapor_triage.task"
TAG_VERSION = "lapor_triage.version"
TAG_DATA_SHA = "lapor_triage.data_sha256"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_GIT_DIRTY = "lapor_triage.git_dirty"
TAG_NOTE = "mlflow.note.content"


class TrackingError(RuntimeError):
    """Logging to MLflow failed (the trained model itself is already saved)."""


@dataclass
class TrackedRun:
    """What ``log_training_run`` logged: the run and the registered model version."""

    run_id: str
    experiment_id: str
    experiment_name: str
    tracking_uri: str
    model_name: str
    model_version: int | None
    model_uri: str  # models:/<name>/<version>, or the logged model's URI when not registered
    seconds: float

    def render(self) -> str:
        version = f" version {self.model_version}" if self.model_version is not None else ""
        return (
            f"MLflow run {self.run_id} in experiment {self.experiment_name!r} "
            f"({self.tracking_uri}); registered {self.model_name}{version}"
        )


def experiment_name(task: str, config: Any = None) -> str:
    return getattr(config, "experiment", None) or f"lapor-triage-{task}"


def ensure_experiment(name: str, uri: str | None = None) -> str:
    """The experiment id for ``name``, created (with its artifacts under mlflow/artifacts) if new."""
    client = get_client(uri)
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = None
    if is_database_uri(tracking_uri(uri)):
        # Straight to a database (not through `mlflow server`): artifacts under mlflow/artifacts
        # rather than MLflow's default ./mlruns of whatever the working directory is.
        artifact_root().mkdir(parents=True, exist_ok=True)
        location = (artifact_root() / _safe_path_part(name)).as_uri()
    return client.create_experiment(name, artifact_location=location)


# --- what one run logs -------------------------------------------------------------------------
def log_training_run(config: Any, result: Any, uri: str | None = None) -> TrackedRun | None:
    """Log one training run to MLflow and register its model as a version of ``lapor-triage-<task>``.

    ``config`` is a ``training.config.TrainConfig``; ``result`` a ``training.loop.TrainResult``
    (``predictor``, ``model_dir``, ``metrics``, ``primary_metric``, ``report_files``,
    ``data_summary``, ``data_fingerprint``, ``eval_records``, ``eval_labels``). Returns ``None``
    when ``config.track`` is false. Raises ``TrackingError`` when the store cannot be written.
    """
    if not getattr(config, "track", True):
        return None
    started = time.perf_counter()
    uri = tracking_uri(uri)
    try:
        return _log_training_run(config, result, uri, started)
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            f"the model was saved to {getattr(result, 'model_dir', '?')}, but logging the run to "
            f"MLflow at {redact_uri(uri)} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _log_training_run(config: Any, result: Any, uri: str, started: float) -> TrackedRun:
    import mlflow

    from lapor_triage.training import registry

    task = str(config.task)
    ensure_local_store(uri)
    exp_name = experiment_name(task, config)
    exp_id = ensure_experiment(exp_name, uri)
    predictor = result.predictor
    primary = str(getattr(result, "primary_metric", "") or "")
    metrics = numeric_metrics(result.metrics or {})
    fingerprint = dict(getattr(result, "data_fingerprint", None) or {})
    commit, dirty = git_commit(Path(__file__).resolve().parents[1])  # the code, not the data home
    run_name = f"{task}-{type(predictor).__name__}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"

    tags = {
        TAG_TASK: task,
        TAG_VERSION: __version__,
        TAG_PRIMARY: primary,
        "lapor_triage.predictor": type(predictor).__name__,
    }
    if commit:
        tags[TAG_GIT_COMMIT] = commit
        tags[TAG_GIT_DIRTY] = str(dirty).lower()
    if fingerprint.get("combined_sha256"):
        tags[TAG_DATA_SHA] = str(fingerprint["combined_sha256"])
    tags[TAG_NOTE] = _run_note(task, predictor, primary, metrics, fingerprint, result)

    with _quiet_warnings(), mlflow.start_run(experiment_id=exp_id, run_name=run_name) as run:
        run_id = run.info.run_id
        mlflow.set_tags(tags)
        params = flatten_params(config_dict(config), prefix="config")
        params.update(fingerprint_params(fingerprint))
        params.update(
            {
                "primary_metric": primary,
                "split_kind": str(getattr(result, "split_kind", "") or ""),
                "predictor": type(predictor).__name__,
                "n_classes": str(len(getattr(predictor, "classes_", []))),
            }
        )
        log_params(params)
        if metrics:
            mlflow.log_metrics({metric_key(k): v for k, v in metrics.items()})
            if primary in metrics:
                mlflow.log_metric("primary", metrics[primary])

        mlflow.log_text(config_yaml(config), CONFIG_ARTIFACT)
        mlflow.log_dict(fingerprint, FINGERPRINT_ARTIFACT)
        summary = getattr(result, "data_summary", None)
        if summary is not None and hasattr(summary, "render"):
            mlflow.log_text(mask_pii(summary.render(max_examples=20)), "data/load_summary.txt")
        for path in _report_paths(result):
            mlflow.log_artifact(str(path), artifact_path="report")

        eval_records = list(getattr(result, "eval_records", None) or [])
        eval_labels = [str(y) for y in (getattr(result, "eval_labels", None) or [])]
        if eval_records:
            mlflow.log_text(eval_split_jsonl(eval_records, eval_labels), EVAL_SPLIT_ARTIFACT)
            mlflow.log_metric("n_eval", len(eval_records))

        model_info = log_pyfunc_model(result, task, eval_records)

    name = registered_model_name(task)
    version = registry.register(
        model_info.model_uri,
        task,
        run_id=run_id,
        tags={
            TAG_PRIMARY: primary,
            **({f"metric.{primary}": f"{metrics[primary]:.6f}"} if primary in metrics else {}),
            **({TAG_DATA_SHA: tags[TAG_DATA_SHA]} if TAG_DATA_SHA in tags else {}),
            **({TAG_GIT_COMMIT: commit} if commit else {}),
            TAG_VERSION: __version__,
        },
        description=tags[TAG_NOTE],
        uri=uri,
    )
    seconds = time.perf_counter() - started
    tracked = TrackedRun(
        run_id=run_id,
        experiment_id=exp_id,
        experiment_name=exp_name,
        tracking_uri=redact_uri(uri),
        model_name=name,
        model_version=version,
        model_uri=f"models:/{name}/{version}",
        seconds=seconds,
    )
    log.info("%s in %.1f s", tracked.render(), seconds)
    return tracked


def _report_paths(result: Any) -> list[Path]:
    files = getattr(result, "report_files", None) or {}
    paths = files.values() if isinstance(files, Mapping) else files
    return [Path(p) for p in paths if Path(p).is_file()]


def _run_note(
    task: str,
    predictor: Any,
    primary: str,
    metrics: Mapping[str, float],
    fp: Mapping[str, Any],
    result: Any,
) -> str:
    files = ", ".join(str(f.get("name")) for f in fp.get("files") or []) or "?"
    score = f"{primary} = {metrics[primary]:.4f}" if primary in metrics else "no evaluation split"
    return (
        f"lapor-triage {__version__} · {task} · {type(predictor).__name__}\n\n"
        f"Data: {files} (sha256 {str(fp.get('combined_sha256', ''))[:12]}); "
        f"{fp.get('n_train', '?')} train / {fp.get('n_eval', '?')} evaluation rows, "
        f"split {getattr(result, 'split_kind', '') or '?'}.\n\nEvaluation: {score}."
    )


def _safe_path_part(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name) or "experiment"


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"mlflow\..*")
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield
