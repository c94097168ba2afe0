"""An MLflow pyfunc wrapper around a saved lapor-triage model folder.

So ``mlflow models serve`` and ``mlflow.pyfunc.spark_udf`` can score lapor-triage models.

Input: a pandas DataFrame with a ``text`` column, or ``judul`` and ``isi`` columns as in the LAPOR!
export (``report_text`` and ``reply_text`` for the reply-quality task), and the optional report
fields the CLI and the service take (``penerima``, ``kecamatan``, ``kelurahan``, ``kategori``,
``kabkota``, ``provinsi``: see ``lapor_triage.fields``; a missing column or cell means unknown, and a
field the model was trained with but missing is warned about once). Other columns (``agency`` for reply quality) are passed to the
predictor as metadata. Texts are cleaned exactly as the service and CLI do (HTML, whitespace,
salutation, PII masking). Output: a DataFrame, one row per input row, with ``label`` (first, so a
Spark UDF with ``result_type="string"`` returns it), ``probability`` (of that label), the task's
extra scalar fields (``abstain``, ...; lists/dicts as JSON strings) and ``proba_<label>`` for every
class.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

# Before mlflow is imported: no telemetry client (it would try the network).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow.pyfunc  # noqa: E402
import pandas as pd

from lapor_triage.fields import REPORT_FIELDS, report_fields, warn_missing_fields
from lapor_triage.models.base import Predictor, load_model
from lapor_triage.text import clean_text, report_text

PROBA_PREFIX = "proba_"
REPLY_COLUMNS = ("report_text", "reply_text")


class LaporTriagePyfunc(mlflow.pyfunc.PythonModel):
    """Loads the lapor-triage model folder logged under the ``model_dir`` artifact."""

    def load_context(self, context: Any) -> None:
        self.predictor = load_model(context.artifacts["model_dir"])

    # A DataFrame hint: MLflow enforces the logged signature (it derives no schema from it).
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        return predict_frame(self.predictor, model_input)


# The file logged as the model's code ("models from code": no pickled Python object).
MODEL_CODE = """\
import mlflow.models

from lapor_triage.models.pyfunc import LaporTriagePyfunc

mlflow.models.set_model(LaporTriagePyfunc())
"""


def to_records(model_input: Any, task: str = "") -> list[Any]:
    """Predictor inputs from a DataFrame (or a list of texts / dicts, or a Series of texts)."""
    if isinstance(model_input, pd.Series):
        model_input = model_input.to_frame(name=model_input.name or "text")
    if isinstance(model_input, pd.DataFrame):
        frame = model_input
        if task == "reply-quality":
            missing = [c for c in REPLY_COLUMNS if c not in frame.columns]
            if missing:
                raise ValueError(f"reply-quality input needs columns {missing}")
        elif "text" not in frame.columns and not {"judul", "isi"} & set(frame.columns):
            if len(frame.columns) == 1 and frame.columns[0] not in REPORT_FIELDS:
                # a single unnamed text column (e.g. from Spark)
                frame = frame.rename(columns={frame.columns[0]: "text"})
            else:
                raise ValueError(
                    "input needs a 'text' column (or 'judul' and 'isi'); columns: "
                    + ", ".join(map(str, frame.columns))
                )
        rows = frame.to_dict(orient="records")
        return [
            _clean_record({str(k): _clean_value(v) for k, v in row.items() if not _is_missing(v)})
            for row in rows
        ]
    if isinstance(model_input, str):
        return [clean_text(model_input)]
    return [clean_text(r) if isinstance(r, str) else _clean_record(dict(r)) for r in model_input]


def _clean_record(rec: dict[str, Any]) -> dict[str, Any]:
    """Clean texts as the service does; build ``text`` from ``judul`` + ``isi`` when absent."""
    if "text" not in rec and ("judul" in rec or "isi" in rec):
        rec["text"] = report_text(rec.pop("judul", None), rec.pop("isi", None))
    for key in ("text", "report_text"):
        if isinstance(rec.get(key), str):
            rec[key] = clean_text(rec[key])
    if isinstance(rec.get("reply_text"), str):
        rec["reply_text"] = clean_text(rec["reply_text"], salutation=False)
    if "text" in rec:  # a report: its fields read as the CLI and the service read them
        fields = report_fields(rec)
        for name in REPORT_FIELDS:
            rec.pop(name, None)
        rec.update(fields)
    return rec


def predict_frame(predictor: Predictor, model_input: Any) -> pd.DataFrame:
    """Score ``model_input`` and return the output DataFrame described in the module docstring."""
    records = to_records(model_input, predictor.task)
    warn_missing_fields(predictor, records)
    classes = [str(c) for c in predictor.classes_]
    if not records:
        return pd.DataFrame(columns=["label", "probability", *[PROBA_PREFIX + c for c in classes]])
    outputs = predictor.predict_records(records, top=len(classes))
    rows = []
    for out in outputs:
        probs = out.get("probabilities", {})
        row: dict[str, Any] = {
            "label": str(out["label"]),
            "probability": float(probs.get(out["label"], math.nan)),
        }
        for key, value in out.items():
            if key in ("label", "probabilities", "id"):
                continue
            row[key] = _scalar(value)
        for c in classes:
            row[PROBA_PREFIX + c] = float(probs.get(c, 0.0))
        rows.append(row)
    return pd.DataFrame(rows)


def records_frame(records: Sequence[Any], task: str = "") -> pd.DataFrame:
    """The DataFrame form of input records (inverse of ``to_records``)."""
    rows = [{"text": r} if isinstance(r, str) else dict(r) for r in records]
    return pd.DataFrame(rows)


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _clean_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
