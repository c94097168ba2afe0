"""A fingerprint of the training data: which files, their hashes, which rows were used and why not."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lapor_triage.training.records import LoadSummary


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_fingerprint(
    paths: list[Path], summary: LoadSummary, *, n_train: int, n_eval: int, n_duplicates: int
) -> dict[str, Any]:
    """JSON-ready description of the data a run used (logged to MLflow, saved beside the model)."""
    files = [
        {
            "path": str(p),
            "name": Path(p).name,
            "bytes": Path(p).stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in paths
    ]
    combined = hashlib.sha256("".join(sorted(f["sha256"] for f in files)).encode()).hexdigest()
    return {
        "files": files,
        "combined_sha256": combined,
        **summary.as_dict(),
        "duplicates_removed": n_duplicates,
        "n_train": n_train,
        "n_eval": n_eval,
    }
