"""The predictors the service answers with, and safe reloads.

``ModelStore.current`` is an immutable :class:`ModelSet`. A request takes the set once and uses
it to the end, so a reload (which builds a whole new set and then swaps one reference) never
changes a model under a request in flight. When any model of the new set fails to load, the old
set keeps serving and the failure is kept for ``/readyz`` and logged.

Where models come from (``Settings.model_source``):

- ``local``: the folders ``LAPOR_<TASK>_MODEL_DIR``;
- ``mlflow``: the registry alias (``champion``) of ``lapor-triage-<task>``;
- ``auto`` (default): a configured folder, else the MLflow alias when set.

Optional tasks (``disposition``: the national suggestion for Admin Pusat) load the same way when
configured and are simply absent otherwise: no default model, not required by ``/readyz`` unless
a folder is set. Unit models (``LAPOR_UNIT_MODELS``: one agency model per regional government,
chosen by the report's ``penerima``) sit beside them in the set under ``agency@<penerima>``, each
from its folder or from an alias of ``lapor-triage-agency``.

A task with none of these (``local`` or ``auto``) falls back to the default model folder under
``<home>/var/models`` when ``train_default_models`` is on and ``LAPOR_ENV`` is not ``production``.
The service never trains: ``lapor-triage serve`` trains and registers the default models before it
starts the server (``lapor_triage.cli.serve``). The service imports the models and the read-only
registry client (``lapor_triage.registry_client``), no training code (README, "Layers").
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lapor_triage import registry_client
from lapor_triage.labels import agency_key
from lapor_triage.models.base import Predictor, load_model
from lapor_triage.paths import default_model_dir
from lapor_triage.service.settings import OPTIONAL_TASKS, TASKS, UNIT_REGISTRY_PREFIX, Settings

UNIT_PREFIX = "agency@"


def unit_key(penerima: str) -> str:
    """The key of ``penerima``'s unit model in a :class:`ModelSet` (``agency@<penerima>``)."""
    return UNIT_PREFIX + penerima


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    task: str
    predictor: Predictor
    source: str  # a folder, or models:/<name>@<alias>
    version: str  # MLflow version number, or a content hash of the folder
    loaded_at: datetime
    info: dict[str, Any] = field(default_factory=dict)  # training.json, when the folder has one

    @property
    def config(self) -> dict[str, Any]:
        return dict(getattr(self.predictor, "config_", {}) or {})

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.predictor.classes_]

    @property
    def trained_at(self) -> str | None:
        return self.info.get("trained_at") or self.config.get("saved_at")

    @property
    def metrics(self) -> dict[str, float]:
        raw = self.info.get("metrics") or self.config.get("metrics") or {}
        return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}


@dataclass(frozen=True)
class ModelSet:
    models: dict[str, LoadedModel]
    generation: int = 0
    units: dict[str, str] = field(default_factory=dict)  # agency_key(penerima) -> models key

    def get(self, task: str) -> LoadedModel | None:
        return self.models.get(task)

    def agency_key_for(self, penerima: str | None) -> str:
        """The model that ranks agencies for a report of ``penerima``: its unit model when one is
        loaded (penerima compared as agency names are: case, spacing, "Kab."/"Kabupaten"), else
        the default ``agency`` model."""
        if penerima and self.units:
            key = self.units.get(agency_key(penerima))
            if key is not None and key in self.models:
                return key
        return "agency"


@dataclass
class ReloadStatus:
    ok: bool | None = None  # None: never attempted
    error: str | None = None
    attempted_at: datetime | None = None
    succeeded_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "attempted_at": _iso(self.attempted_at),
            "succeeded_at": _iso(self.succeeded_at),
        }


class ModelLoadError(RuntimeError):
    pass


Source = tuple[str, Callable[[], tuple[Predictor, str, str, dict[str, Any]]]]


class ModelStore:
    def __init__(
        self,
        settings: Settings,
        tasks: tuple[str, ...] = TASKS,
        optional: tuple[str, ...] | None = None,
    ):
        self.settings = settings
        self.tasks = tasks
        # optional tasks: by default those of OPTIONAL_TASKS when the store serves all tasks
        self.optional = (OPTIONAL_TASKS if tasks == TASKS else ()) if optional is None else optional
        self.unit_specs = {unit_key(p): target for p, target in settings.unit_models.items()}
        self.keys = (*tasks, *self.optional, *self.unit_specs)
        self.current = ModelSet({})
        self.status = ReloadStatus()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.on_reload: Callable[[bool], None] | None = None

    # --- loading ---------------------------------------------------------------------------
    def reload(self) -> ModelSet:
        """Load every task's model again and swap the new set in with one assignment.

        A task whose new model fails to load keeps its old model (if it had one); the failure is
        kept in ``status`` (for /readyz), logged, and raised as :class:`ModelLoadError` after the
        swap of the tasks that did load.
        """
        with self._lock:
            self.status.attempted_at = _now()
            old = self.current
            models = dict(old.models)
            errors: dict[str, str] = {}
            for task in self.keys:
                try:
                    loaded = self._load_key(task)
                except Exception as exc:
                    errors[task] = f"{type(exc).__name__}: {exc}"
                    log.error(
                        "model reload failed for %s, %s: %s",
                        task,
                        "the previous model keeps serving" if task in models else "no model",
                        errors[task],
                    )
                    continue
                if loaded is not None:
                    models[task] = loaded
            if not models and not errors:
                errors["*"] = "no model is configured or available for any task"
            changed = any(models.get(t) is not old.get(t) for t in self.keys)
            if changed:
                units = {agency_key(k[len(UNIT_PREFIX) :]): k for k in self.unit_specs}
                self.current = ModelSet(models, old.generation + 1, units)  # the atomic swap
                settle_heap()
                log.info(
                    "models loaded (generation %d): %s",
                    self.current.generation,
                    ", ".join(f"{t}={m.version} from {m.source}" for t, m in models.items()),
                )
            if errors:
                message = "; ".join(f"{t}: {e}" for t, e in errors.items())
                self.status.ok, self.status.error = False, message
                if self.on_reload:
                    self.on_reload(False)
                raise ModelLoadError(message)
            self.status.ok, self.status.error = True, None
            self.status.succeeded_at = self.status.attempted_at
            if self.on_reload:
                self.on_reload(True)
            return self.current

    @property
    def required(self) -> tuple[str, ...]:
        """The models ``/readyz`` waits for: every task's, an optional task's whose folder is set,
        and every configured unit model."""
        optional = tuple(t for t in self.optional if self.settings.tasks_dir(t) is not None)
        return (*self.tasks, *optional, *self.unit_specs)

    def _load_key(self, key: str) -> LoadedModel | None:
        if key in self.unit_specs:
            return self._load_unit(key, self.unit_specs[key])
        if key in self.optional:
            return self._load_optional(key)
        return self._load_task(key)

    def _load_optional(self, task: str) -> LoadedModel | None:
        """A configured folder (``local``, ``auto``), else the registry alias (``mlflow``,
        ``auto``), else nothing: an optional task has no default model and is never required."""
        source = self.settings.model_source
        folder = self.settings.tasks_dir(task)
        if source in ("local", "auto") and folder is not None:
            return self._from_folder(task, Path(folder))
        if source == "mlflow" or (source == "auto" and registry_exists()):
            version = champion_version(task, self.settings.mlflow_alias)
            if version is not None:
                return self._from_mlflow(task, version)
        log.info(
            "no %s model (optional): set LAPOR_%s_MODEL_DIR or promote one to serve it",
            task,
            _env(task),
        )
        return None

    def _load_unit(self, key: str, target: str) -> LoadedModel:
        """A unit model: an agency model from its folder, or from the version of
        ``lapor-triage-agency`` that carries the alias named in ``target``."""
        if target.startswith(UNIT_REGISTRY_PREFIX):
            alias = target[len(UNIT_REGISTRY_PREFIX) :]
            version = champion_version("agency", alias, required=True)
            return replace(self._from_mlflow("agency", version, alias), task=key)
        return replace(self._from_folder("agency", Path(target)), task=key)

    def _load_task(self, task: str) -> LoadedModel | None:
        source = self.settings.model_source
        folder = self.settings.tasks_dir(task)
        if source in ("local", "auto") and folder is not None:
            return self._from_folder(task, Path(folder))
        if source in ("mlflow", "auto"):
            version = champion_version(
                task, self.settings.mlflow_alias, required=source == "mlflow"
            )
            if version is not None:
                return self._from_mlflow(task, version)
        default = default_model_folder(self.settings, task)
        if default is not None:
            return self._from_folder(task, default)
        log.warning(
            "no %s model: set LAPOR_%s_MODEL_DIR, promote a champion (lapor-triage promote), or "
            "let `lapor-triage serve` train the default models",
            task,
            _env(task),
        )
        return None

    def _from_folder(self, task: str, folder: Path) -> LoadedModel:
        predictor = load_model(folder)
        if predictor.task != task:
            raise ModelLoadError(f"{folder}: holds a {predictor.task!r} model, not {task!r}")
        return LoadedModel(
            task=task,
            predictor=predictor,
            source=str(folder),
            version=_folder_hash(folder),
            loaded_at=_now(),
            info=_training_info(folder),
        )

    def _from_mlflow(self, task: str, version: str, alias: str | None = None) -> LoadedModel:
        folder = registry_client.model_folder(task, version)
        loaded = self._from_folder(task, Path(folder))
        name = registry_client.registered_model_name(task)
        source = f"models:/{name}@{alias or self.settings.mlflow_alias}"
        return replace(loaded, source=source, version=str(version))

    # --- polling the MLflow alias ------------------------------------------------------------
    def start_polling(self) -> None:
        seconds = self.settings.mlflow_poll_seconds
        if seconds <= 0 or self._poller is not None:
            return
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, args=(seconds,), daemon=True)
        self._poller.start()

    def stop_polling(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
            self._poller = None

    def _poll(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                if self.alias_changed():
                    log.info("MLflow alias %s moved: reloading", self.settings.mlflow_alias)
                    self.reload()
            except Exception as exc:  # keep polling; the failure is in self.status and the logs
                log.warning("MLflow alias poll failed: %s", exc)

    def alias_changed(self) -> bool:
        current = self.current
        for task in self.keys:
            loaded = current.get(task)
            if loaded is not None and not loaded.source.startswith("models:/"):
                continue  # a folder model is not replaced by polling
            registry_task, alias = task, self.settings.mlflow_alias
            if task in self.unit_specs:
                target = self.unit_specs[task]
                if not target.startswith(UNIT_REGISTRY_PREFIX):
                    continue
                registry_task, alias = "agency", target[len(UNIT_REGISTRY_PREFIX) :]
            elif task in self.optional and (
                self.settings.model_source == "local" or not registry_exists()
            ):
                continue  # not loaded from the registry: polling it would reload in vain
            version = champion_version(registry_task, alias)
            if version is not None and (loaded is None or loaded.version != str(version)):
                return True
        return False


def settle_heap() -> None:
    """Collect garbage once, then move every live object (the models just loaded: millions of
    vocabulary entries, cached word n-grams, numpy arrays) out of reach of the cyclic garbage
    collector (``gc.freeze``). Without this, each full collection walks the whole model heap and
    stops the process for 40-100 ms: the long tail of the service's latency. The objects stay
    freed by reference counting when a later reload drops them (models hold no reference
    cycles), so only cyclic garbage among them would be kept."""
    gc.collect()
    gc.freeze()


def registry_exists() -> bool:
    """False when the registry is the embedded local store and nobody has created it yet: looking
    an optional model up there would create it (MLflow's schema migrations, seconds) for a
    deployment that serves folders only. A tracking server or database URI counts as existing."""
    uri = registry_client.tracking_uri()
    if registry_client.is_local_store(uri):
        return (registry_client.mlflow_dir() / "mlflow.db").is_file()
    return True


def champion_version(task: str, alias: str, required: bool = False) -> str | None:
    """The registry version carrying ``alias`` for ``task`` (None when there is none)."""
    try:
        info = registry_client.get_by_alias(task, alias)
    except Exception as exc:
        if required:
            raise ModelLoadError(f"{task}: cannot read the MLflow alias {alias!r}: {exc}") from exc
        log.debug("no MLflow %s@%s: %s", task, alias, exc)
        return None
    if info is None and required:
        raise ModelLoadError(f"{task}: no MLflow version carries the alias {alias!r}")
    return None if info is None else str(info.version)


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "labels.json", "model.pkl", "model.joblib"):
        path = folder / name
        if path.is_file():
            with path.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:12]


def default_model_folder(settings: Settings, task: str) -> Path | None:
    """The default ``task`` model that ``lapor-triage serve`` trained, when the settings allow it
    and it is there: never in production (it is trained on the synthetic demo data)."""
    if not settings.train_default_models or settings.env == "production":
        return None
    if settings.model_source == "mlflow":
        return None
    folder = default_model_dir(task)
    return folder if registry_client.read_training_info(folder).get("task") == task else None


def unconfigured_tasks(settings: Settings, tasks: tuple[str, ...] = TASKS) -> list[str]:
    """The tasks for which the settings name no model: no folder (``local``, ``auto``) and no
    version carrying the MLflow alias (``mlflow``, ``auto``). Default model folders do not count."""
    missing = []
    for task in tasks:
        if settings.model_source in ("local", "auto") and settings.tasks_dir(task) is not None:
            continue
        if settings.model_source in ("mlflow", "auto"):
            if champion_version(task, settings.mlflow_alias) is not None:
                continue
        missing.append(task)
    return missing


def _training_info(folder: Path) -> dict[str, Any]:
    try:
        return registry_client.read_training_info(folder)
    except Exception:  # a folder saved by hand has no (readable) training.json
        return {}


def _env(task: str) -> str:
    return task.upper().replace("-", "_")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
