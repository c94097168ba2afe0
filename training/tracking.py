"""MLflow tracking for training runs: what one run logs.

Where the store lives is decided in ``lapor_triage.registry_client`` (the read-only client the
service uses too) and re-exported here. By default runs go to an embedded store inside the
project, created on first use::

    mlflow/mlflow.db      SQLite tracking + model registry database
    mlflow/artifacts/     artifact root (one folder per experiment)

``MLFLOW_TRACKING_URI`` (or an explicit ``uri``) points at a server or another database instead.
``LAPOR_TRIAGE_HOME`` overrides the project root (the folder holding ``mlflow/``).

Everything here works offline: telemetry is switched off, pip requirements are given explicitly
(no inference), and no git/network lookups are made except a local ``git rev-parse``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Must be set before mlflow is imported anywhere: mlflow decides at import time whether to start
# its telemetry client (which would try the network). Users may still opt in explicitly.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from lapor_triage import __version__  # noqa: E402
from lapor_triage.errors import DataError  # noqa: E402
from lapor_triage.fields import REPORT_FIELDS  # noqa: E402
from lapor_triage.jsonl import json_line, parse_jsonl  # noqa: E402
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

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"  # name of the logged pyfunc model inside a run
EVAL_SPLIT_ARTIFACT = "eval/eval_split.jsonl"
FINGERPRINT_ARTIFACT = "data/fingerprint.json"
CONFIG_ARTIFACT = "config/train_config.yaml"
# Top-level packages copied into the logged model, so it loads where lapor-triage is not installed
# (Spark workers, `mlflow models serve` with a virtualenv).
# What a logged pyfunc model carries as code: (package, sub-folder of the copied lapor_triage).
CODE_PACKAGES = (("lapor_triage", ""), ("lapor_triage.models", "models"))
BASE_REQUIREMENTS = ("numpy", "scipy", "pandas", "scikit-learn", "joblib")

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
    metrics = {k: float(v) for k, v in (result.metrics or {}).items() if _is_number(v)}
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
        params = flatten_params(_config_dict(config), prefix="config")
        params.update(_fingerprint_params(fingerprint))
        params.update(
            {
                "primary_metric": primary,
                "split_kind": str(getattr(result, "split_kind", "") or ""),
                "predictor": type(predictor).__name__,
                "n_classes": str(len(getattr(predictor, "classes_", []))),
            }
        )
        _log_params(params)
        if metrics:
            mlflow.log_metrics({metric_key(k): v for k, v in metrics.items()})
            if primary in metrics:
                mlflow.log_metric("primary", metrics[primary])

        mlflow.log_text(_config_yaml(config), CONFIG_ARTIFACT)
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


def log_pyfunc_model(result: Any, task: str, eval_records: Sequence[Any] = ()) -> Any:
    """Log the saved lapor-triage model folder as an MLflow pyfunc model in the active run."""
    import mlflow

    from lapor_triage.models.pyfunc import MODEL_CODE, predict_frame, records_frame

    predictor = result.predictor
    example = input_example(task, eval_records)
    signature = model_signature(task, example, predict_frame(predictor, example))
    with tempfile.TemporaryDirectory(prefix="lapor-triage-pyfunc-") as tmp:
        model_copy = _copy_model_folder(Path(result.model_dir), Path(tmp) / "model", result)
        code = _copy_code(Path(tmp) / "code")
        model_code = Path(tmp) / "lapor_triage_model.py"
        model_code.write_text(MODEL_CODE)
        return mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(model_code),
            artifacts={PYFUNC_MODEL_DIR_KEY: str(model_copy)},
            code_paths=[str(p) for p in code],
            signature=signature,
            input_example=records_frame(example, task),
            pip_requirements=pip_requirements(),
            metadata={"task": task, "lapor_triage_version": __version__},
        )


def input_example(task: str, eval_records: Sequence[Any] = (), n: int = 3) -> list[dict[str, Any]]:
    """A few PII-masked input rows for the logged model (from the evaluation split when present)."""
    cols = input_columns(task, eval_records)
    rows = []
    for rec in list(eval_records)[:n]:
        if isinstance(rec, str):
            rec = {"text": rec}
        rows.append({c: (mask_pii(str(rec[c])) if rec.get(c) is not None else None) for c in cols})
    if not rows:
        if task == "reply-quality":
            rows = [
                {
                    "report_text": "Jalan di depan SDN 3 rusak parah dan berlubang sejak Januari.",
                    "reply_text": "Terima kasih, laporan Anda akan kami tindak lanjuti.",
                }
            ]
        else:
            rows = [{"text": "Jalan di depan SDN 3 rusak parah, mohon segera diperbaiki."}]
    return rows


# Record metadata the predictors read (the report fields of lapor_triage.fields, older location
# fields, the reply's agency): optional model inputs.
META_COLUMNS = (*REPORT_FIELDS, "kota", "sumber", "agency")


def input_columns(task: str, eval_records: Sequence[Any] = ()) -> list[str]:
    """Model input columns: the text column(s) first, then the metadata the records carry."""
    required = ["report_text", "reply_text"] if task == "reply-quality" else ["text"]
    seen = {k for rec in eval_records if isinstance(rec, Mapping) for k in rec}
    return required + [c for c in META_COLUMNS if c in seen]


def model_signature(task: str, example: list[dict[str, Any]], output: pd.DataFrame) -> Any:
    """Input: the text column(s) + optional metadata strings; output as predicted.

    Reply quality requires ``report_text`` and ``reply_text``. The report tasks take ``text`` or
    ``judul`` + ``isi`` (all optional in the schema; the wrapper says which is missing).
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, DataType, Schema

    required = {"report_text", "reply_text"} if task == "reply-quality" else set()
    cols = list(example[0]) if example else []
    if task != "reply-quality":  # every report field, or MLflow drops the column unread
        head = ["text", "judul", "isi", *REPORT_FIELDS]
        cols = head + [c for c in cols if c not in head]
    inputs = Schema([ColSpec(DataType.string, c, required=c in required) for c in cols])
    outputs = infer_signature(model_output=output).outputs
    return ModelSignature(inputs=inputs, outputs=outputs)


def pip_requirements() -> list[str]:
    """Pinned requirements of the logged model, from the installed versions (no inference)."""
    reqs = []
    for dist in ("mlflow", *BASE_REQUIREMENTS):
        try:
            reqs.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            reqs.append(dist)
    return reqs


def eval_split_jsonl(records: Sequence[Any], labels: Sequence[str]) -> str:
    """The evaluation split as JSONL ({"record": ..., "label": ...}), texts PII-masked."""
    if len(records) != len(labels):
        raise ValueError(f"{len(records)} evaluation records but {len(labels)} labels")
    lines = []
    for rec, label in zip(records, labels, strict=True):
        if isinstance(rec, Mapping):
            rec = {k: (mask_pii(v) if isinstance(v, str) else v) for k, v in rec.items()}
        else:
            rec = mask_pii(str(rec))
        lines.append(json_line({"record": rec, "label": str(label)}))
    return "\n".join(lines) + "\n"


def read_eval_split(text: str, source: str = EVAL_SPLIT_ARTIFACT) -> tuple[list[Any], list[str]]:
    """Parse ``eval_split_jsonl`` output back to (records, labels).

    Read by :func:`lapor_triage.jsonl.parse_jsonl` (strict); ``source`` names the text in errors.
    """
    records, labels = [], []
    for n, row in parse_jsonl(text, source, allow_empty=True):
        if "record" not in row or "label" not in row:
            raise DataError(
                f"not an evaluation row: keys {sorted(row)}, expected 'record' and 'label'",
                file=source,
                line=n,
            )
        records.append(row["record"])
        labels.append(str(row["label"]))
    return records, labels


# --- helpers -------------------------------------------------------------------------------------
def git_commit(path: Path) -> tuple[str | None, bool]:
    """(HEAD commit, working tree has uncommitted changes) of the checkout at ``path``."""
    try:
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, False
    return (head or None), bool(status)


def flatten_params(obj: Any, prefix: str = "") -> dict[str, str]:
    """Flatten nested config into MLflow params (``a.b.c``); lists become JSON strings."""
    out: dict[str, str] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping) and v:
                out.update(flatten_params(v, key))
            else:
                out[_param_key(key)] = _param_value(v)
    else:
        out[_param_key(prefix or "value")] = _param_value(obj)
    return out


def metric_key(name: str) -> str:
    """A metric/param name MLflow accepts (per-label metrics may hold any character)."""
    key = re.sub(r"[^/\w.\- ]", "_", str(name))
    key = "/".join(part if part not in ("", ".", "..") else "_" for part in key.split("/"))
    return key if posixpath.normpath(key) == key else key.replace("/", "_")


_param_key = metric_key


def _param_value(v: Any) -> str:
    if isinstance(v, str):
        s = v
    elif isinstance(v, list | tuple | dict):
        s = json.dumps(v, ensure_ascii=False, default=str)
    else:
        s = str(v)
    return s if len(s) <= 6000 else s[:5990] + "…"


def _log_params(params: dict[str, str]) -> None:
    import mlflow

    items = list(params.items())
    for i in range(0, len(items), 100):
        mlflow.log_params(dict(items[i : i + 100]))


def _fingerprint_params(fp: Mapping[str, Any]) -> dict[str, str]:
    files = fp.get("files") or []
    params = {
        "data.n_files": str(len(files)),
        "data.combined_sha256": str(fp.get("combined_sha256", "")),
        "data.rows_read": str(sum((fp.get("rows_read") or {}).values())),
        "data.rows_used": str(sum((fp.get("rows_used") or {}).values())),
        "data.rows_skipped": str(fp.get("rows_skipped", "")),
        "data.n_labels": str(len(fp.get("label_counts") or {})),
    }
    for key in ("n_train", "n_eval", "duplicates_removed"):
        if key in fp:
            params[f"data.{key}"] = str(fp[key])
    for i, f in enumerate(files[:20]):
        params[f"data.file{i}"] = f"{f.get('name', f.get('path'))} sha256={f.get('sha256')}"
    for reason, n in sorted((fp.get("skipped_by_reason") or {}).items()):
        params[_param_key(f"data.skipped.{reason}")] = str(n)
    return {k: v for k, v in params.items() if v != ""}


def _config_dict(config: Any) -> dict[str, Any]:
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json")
    if isinstance(config, Mapping):
        return dict(config)
    return dict(vars(config))


def _config_yaml(config: Any) -> str:
    if hasattr(config, "to_yaml"):
        return config.to_yaml()
    import yaml

    return yaml.safe_dump(_config_dict(config), sort_keys=False, allow_unicode=True)


def _report_paths(result: Any) -> list[Path]:
    files = getattr(result, "report_files", None) or {}
    paths = files.values() if isinstance(files, Mapping) else files
    return [Path(p) for p in paths if Path(p).is_file()]


def _copy_model_folder(src: Path, dst: Path, result: Any) -> Path:
    """Copy the model folder for the pyfunc artifacts, leaving out the evaluation report folder."""
    skip: set[Path] = set()
    report_dir = getattr(getattr(result, "config", None), "resolved_report_dir", None)
    if report_dir is not None:
        skip.add(Path(report_dir).resolve())

    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if n == "__pycache__" or (Path(directory, n).resolve() in skip)]

    shutil.copytree(src, dst, ignore=ignore)
    return dst


def _copy_code(dst: Path) -> list[Path]:
    """Copy what the pyfunc wrapper imports, as one ``lapor_triage`` package (without caches).

    The core (``lapor_triage`` without its CLI) and ``lapor_triage.models``, whose folders lie apart
    in a source checkout (``lapor_triage/`` and ``models/``), are laid out as an installed wheel has
    them, so an executor that has only this copy imports ``lapor_triage.models.pyfunc``.
    """
    import importlib

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target = dst / "lapor_triage"
    for pkg, sub in CODE_PACKAGES:
        module = importlib.import_module(pkg)
        src = Path(next(iter(module.__path__)))
        into = target / sub if sub else target
        skip = ignore if sub else shutil.ignore_patterns("__pycache__", "*.pyc", "cli")
        shutil.copytree(src, into, ignore=skip, dirs_exist_ok=True)
    return [target]


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


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"mlflow\..*")
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield
