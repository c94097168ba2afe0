"""The model a training run logs: the saved model folder as an MLflow pyfunc model, with the code
it imports, its input signature, an input example (PII-masked) and pinned requirements.

Everything here works offline: the pip requirements are given explicitly (no inference).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lapor_triage import __version__
from lapor_triage.fields import REPORT_FIELDS
from lapor_triage.registry_client import PYFUNC_MODEL_DIR_KEY
from lapor_triage.text import mask_pii

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MODEL_ARTIFACT = "model"  # name of the logged pyfunc model inside a run
# Top-level packages copied into the logged model, so it loads where lapor-triage is not installed
# (Spark workers, `mlflow models serve` with a virtualenv).
# What a logged pyfunc model carries as code: (package, sub-folder of the copied lapor_triage).
CODE_PACKAGES = (("lapor_triage", ""), ("lapor_triage.models", "models"))
BASE_REQUIREMENTS = ("numpy", "scipy", "pandas", "scikit-learn", "joblib")


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
