"""The predictor interface shared by every task, and the on-disk model format.

A saved model is a folder::

    config.json   {"format_version", "task", "class", "params", "lapor_triage_version", ...}
    labels.json   ["label", ...]  (``classes_`` in order)
    model.pkl     the fitted estimator state (a pickle, protocol 5)

``load_model(path)`` reads ``config.json`` and dispatches to the class that saved it. Folders saved
before ``model.pkl`` hold ``model.joblib`` (a zlib-compressed joblib pickle) and load as before.

Why plain pickle: ``joblib.load`` unpickles with the pure-Python unpickler (its numpy hook), which
for a model of a few hundred thousand vocabulary entries takes 0.4-0.6 s per model; the C unpickler
reads the same state in 0.03-0.05 s (``python -m tests.cli.bench_annotate``). numpy arrays pickle as
contiguous buffers under protocol 5, so nothing is lost against joblib's format.
"""

from __future__ import annotations

import json
import pickle
import platform
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from lapor_triage import __version__

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
STATE_FILE = "model.pkl"
LEGACY_STATE_FILE = "model.joblib"  # models saved before model.pkl
STATE_FILES = (STATE_FILE, LEGACY_STATE_FILE)
PICKLE_PROTOCOL = 5

Record = str | Mapping[str, Any]
"""One model input: a text, or a mapping with ``text`` (or ``report_text``/``reply_text``) and metadata."""

_REGISTRY: dict[str, type[Predictor]] = {}
P = TypeVar("P", bound="Predictor")


class ModelFormatError(RuntimeError):
    """A model folder is missing, incomplete or was saved by an incompatible version."""


class NotFittedError(RuntimeError):
    """The predictor was used before ``fit``."""


def register(cls: type[P]) -> type[P]:
    """Class decorator: make a predictor loadable by ``load_model`` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


class Predictor(ABC):
    """Base class in the scikit-learn style.

    ``__init__`` only stores hyperparameters; ``fit`` returns ``self``; learned state ends in ``_``;
    ``classes_`` holds the labels in the column order of ``predict_proba``.
    """

    task: ClassVar[str] = ""

    # --- hyperparameters -------------------------------------------------------------------
    def _store_params(self, params: Mapping[str, Any]) -> None:
        """Keep each constructor argument as the attribute of its name; ``__init__`` calls
        ``self._store_params(locals())`` first. ``get_params`` reads them back by the signature."""
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments as stored (``deep`` is accepted for scikit-learn's
        ``clone``; a predictor holds no nested estimators among its hyperparameters)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name in sig.parameters
            if name != "self" and hasattr(self, name)
        }

    def set_params(self: P, **params: Any) -> P:
        """Change hyperparameters (scikit-learn's rule); an unknown name is a ``ValueError``."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no hyperparameter {name!r}: one of {sorted(valid)}"
                )
            setattr(self, name, value)
        return self

    # --- learning ----------------------------------------------------------------------------
    @abstractmethod
    def fit(
        self: P,
        X: Sequence[Record],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> P: ...

    @abstractmethod
    def predict_proba(self, X: Sequence[Record]) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(X), len(classes_))``."""

    def predict(self, X: Sequence[Record]) -> list[str]:
        proba = self.predict_proba(X)
        return [str(self.classes_[i]) for i in proba.argmax(axis=1)]

    def top_k(self, X: Sequence[Record], k: int = 3) -> list[list[tuple[str, float]]]:
        proba = self.predict_proba(X)
        k = max(1, min(k, proba.shape[1]))
        order = np.argsort(-proba, axis=1)[:, :k]
        return [
            [(str(self.classes_[j]), float(row[j])) for j in idx]
            for row, idx in zip(proba, order, strict=True)
        ]

    def predict_records(self, X: Sequence[Record], top: int = 10) -> list[dict[str, Any]]:
        """JSON-ready outputs, one per input, in input order (used by the CLI and the service).

        The base form is ``{"label", "probabilities": {label: p}}`` with at most ``top`` labels;
        task predictors add their own fields (``abstain``, ``reasons``, ...).
        """
        proba = self.predict_proba(X)
        out = []
        for row in proba:
            order = np.argsort(-row)[:top]
            out.append(
                {
                    "label": str(self.classes_[order[0]]),
                    "probabilities": {
                        str(self.classes_[j]): round(float(row[j]), 6) for j in order
                    },
                }
            )
        return out

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "classes_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit() or load() first")

    # --- persistence ---------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        """Learned attributes to pickle (everything ending in ``_`` by default)."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _set_state(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def extra_config(self) -> dict[str, Any]:
        """Extra JSON-serialisable facts saved in config.json (metrics, thresholds, ...)."""
        return {}

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = {
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "class": type(self).__name__,
            "params": _jsonable(self.get_params()),
            "lapor_triage_version": __version__,
            "python_version": platform.python_version(),
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **_jsonable(self.extra_config()),
        }
        (path / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        (path / LABELS_FILE).write_text(
            json.dumps([str(c) for c in self.classes_], indent=2, ensure_ascii=False) + "\n"
        )
        with (path / STATE_FILE).open("wb") as fh:
            pickle.dump(self._state(), fh, protocol=PICKLE_PROTOCOL)
        (path / LEGACY_STATE_FILE).unlink(missing_ok=True)  # a retrain into an old folder
        return path

    @classmethod
    def load(cls: type[P], path: str | Path) -> P:
        path = Path(path)
        config = read_config(path)
        if config.get("class") != cls.__name__ and cls is not Predictor:
            raise ModelFormatError(
                f"{path}: holds a {config.get('class')} model, not a {cls.__name__}"
            )
        obj = cls(**config.get("params", {}))
        file = state_file(path)
        if file is None:
            raise ModelFormatError(f"{path}: {STATE_FILE} is missing")
        try:
            state = _load_state(file)
        except ModelFormatError:
            raise
        except Exception as exc:  # corrupted pickle, wrong library version, ...
            raise ModelFormatError(f"{file}: cannot be read ({exc})") from exc
        obj._set_state(state)
        labels = json.loads((path / LABELS_FILE).read_text())
        if [str(c) for c in obj.classes_] != labels:
            raise ModelFormatError(f"{path}: {LABELS_FILE} does not match the saved model")
        obj.config_ = config
        return obj


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and validate ``config.json`` of a model folder."""
    path = Path(path)
    cfg_file = path / CONFIG_FILE
    if not path.is_dir():
        raise ModelFormatError(f"{path}: no such model folder")
    if not cfg_file.is_file():
        raise ModelFormatError(f"{path}: not a lapor-triage model ({CONFIG_FILE} is missing)")
    try:
        config = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{cfg_file}: invalid JSON ({exc})") from exc
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path}: saved with model format version {version!r} "
            f"(lapor-triage {config.get('lapor_triage_version', '?')}); this lapor-triage "
            f"{__version__} reads format version {FORMAT_VERSION}. Retrain the model with this version."
        )
    return config


def state_file(path: str | Path) -> Path | None:
    """The state file of a model folder: ``model.pkl``, else an older folder's ``model.joblib``."""
    for name in STATE_FILES:
        if (Path(path) / name).is_file():
            return Path(path) / name
    return None


def load_model(path: str | Path) -> Predictor:
    """Load any saved lapor-triage predictor, whatever its task."""
    config = read_config(path)
    name = config.get("class")
    _import_known_predictors(name)
    if name not in _REGISTRY:
        raise ModelFormatError(f"{path}: unknown model class {name!r}")
    return _REGISTRY[name].load(path)


KNOWN_PREDICTOR_MODULES = (
    "lapor_triage.models.report_type",
    "lapor_triage.models.agency",
    "lapor_triage.models.reply_quality",
    "lapor_triage.models.hybrid",
    "lapor_triage.models.disposition",
)


def _import_known_predictors(until: str | None = None) -> None:
    """Import the predictor modules (in order), stopping once ``until`` is registered: loading a
    report-type model does not import the disposition model's region data."""
    import importlib

    for mod in KNOWN_PREDICTOR_MODULES:
        if until is not None and until in _REGISTRY:
            return
        importlib.import_module(mod)


# Top-level package names of releases before 0.2, when models/ was importable as ``models``.
LEGACY_PACKAGES = ("models", "training", "evaluation", "service")


def _unpickle(file: Path) -> Any:
    if file.name == LEGACY_STATE_FILE:
        import joblib

        return joblib.load(file)
    with file.open("rb") as fh:
        return pickle.load(fh)


def _load_state(file: Path) -> Any:
    """The pickled state (``model.pkl``, or an older folder's ``model.joblib`` through joblib), also
    for a model pickled before the move into the ``lapor_triage`` namespace.

    Such a pickle names its classes ``models.features.TextFeatures`` and the like. Those names are
    resolved to ``lapor_triage.models...`` for the length of the load only, so no top-level
    ``models`` stays behind in ``sys.modules``; a pickle that still fails names the way out.
    """
    try:
        return _unpickle(file)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in LEGACY_PACKAGES:
            raise
    with _legacy_module_names():
        try:
            return _unpickle(file)
        except (ModuleNotFoundError, AttributeError) as exc:
            raise ModelFormatError(
                f"{file}: saved by an older lapor-triage whose classes no longer exist ({exc}); "
                "retrain it with `lapor-triage train`"
            ) from exc


class _legacy_module_names:
    """Context manager: ``sys.modules`` answers the old top-level names with the new modules."""

    def __enter__(self) -> None:
        import importlib
        import sys

        self._saved: dict[str, Any] = {}
        for old in LEGACY_PACKAGES:
            new = f"lapor_triage.{old}"
            pkg = importlib.import_module(new)
            names = {old: pkg}
            for name, module in list(sys.modules.items()):
                if name.startswith(new + "."):
                    names[old + name[len(new) :]] = module
            if old == "models":  # every module a predictor's state may reference
                for mod in KNOWN_PREDICTOR_MODULES + ("lapor_triage.models.features",):
                    module = importlib.import_module(mod)
                    names["models" + mod[len("lapor_triage.models") :]] = module
            for name, module in names.items():
                self._saved[name] = sys.modules.get(name)
                sys.modules[name] = module

    def __exit__(self, *exc: object) -> None:
        import sys

        for name, module in self._saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def check_fit_input(X: Sequence[Record], y: Sequence[Any]) -> None:
    """Raise ValueError unless ``X`` and ``y`` are non-empty and of the same length."""
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} items but y has {len(y)} labels")
    if len(X) == 0:
        raise ValueError("cannot fit on zero examples")


def record_text(record: Record, key: str = "text") -> str:
    """The text of one input record (a plain string, or a mapping holding ``key``)."""
    if isinstance(record, str):
        return record
    value = record.get(key)
    return "" if value is None else str(value)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)
