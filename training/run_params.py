"""What a training run logs as MLflow params and metrics: the configuration flattened, the data
fingerprint, names MLflow accepts, and the code's git commit."""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


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


def log_params(params: dict[str, str]) -> None:
    import mlflow

    items = list(params.items())
    for i in range(0, len(items), 100):
        mlflow.log_params(dict(items[i : i + 100]))


def fingerprint_params(fp: Mapping[str, Any]) -> dict[str, str]:
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


def config_dict(config: Any) -> dict[str, Any]:
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json")
    if isinstance(config, Mapping):
        return dict(config)
    return dict(vars(config))


def config_yaml(config: Any) -> str:
    if hasattr(config, "to_yaml"):
        return config.to_yaml()
    import yaml

    return yaml.safe_dump(config_dict(config), sort_keys=False, allow_unicode=True)


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The metrics that are numbers, as floats (others, such as per-label tables, left out)."""
    return {k: float(v) for k, v in metrics.items() if _is_number(v)}


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True
