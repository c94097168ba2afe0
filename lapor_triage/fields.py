"""One field contract: what the admin tools know about a report besides its text.

``lapor-triage predict`` (JSON Lines keys), the HTTP API (``ReportIn``) and the MLflow pyfunc
(DataFrame columns) accept the same optional fields, read them with :func:`report_fields` and so
hand the models the same record for the same report:

- ``penerima``: the instansi whose LAPOR! queue received the report (a report-type feature);
- ``kecamatan``, ``kelurahan``: the reported place (agency features: location one-hots and the
  location-office rule);
- ``kategori``: the LAPOR! category the citizen chose (accepted and passed on; no default model
  uses it);
- ``kabkota``, ``provinsi``: the kabupaten/kota (``Kota Semarang``, ``Kabupaten Bandung``) and the
  province of the reported place (the disposition model's region finder reads them as strong
  evidence for a region; the report-type and agency models ignore them).

A value is a string (numbers are taken as their text); whitespace runs become one space; a blank
value, ``None`` or a missing key mean "unknown". A field a model was trained with but unknown at
prediction gives an all-zero one-hot for that field: the model predicts from the text and the
other fields, as for a value it never saw in training. :func:`warn_missing_fields` logs that once
per model and field, so a caller who forgot a column finds out.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from lapor_triage.text import one_line

log = logging.getLogger(__name__)

REPORT_FIELDS: tuple[str, ...] = (
    "penerima",
    "kecamatan",
    "kelurahan",
    "kategori",
    "kabkota",
    "provinsi",
)
"""The optional report fields, in this order wherever they are listed."""

FIELD_DESCRIPTIONS: dict[str, str] = {
    "penerima": "the instansi whose LAPOR! queue received the report, if known",
    "kecamatan": "sub-district of the reported place, if known",
    "kelurahan": "village (kelurahan/desa) of the reported place, if known",
    "kategori": "the LAPOR! category the citizen chose, if any",
    "kabkota": "kabupaten/kota of the reported place (e.g. Kota Semarang, Kabupaten Bandung), "
    "if known",
    "provinsi": "province of the reported place (e.g. Jawa Tengah), if known",
}


class FieldError(ValueError):
    """A report field holds something other than a string (or a number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def field_value(name: str, value: Any) -> str | None:
    """The value of report field ``name`` as every path reads it; ``None`` when unknown."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(name, f"{name!r} must be a string, not {type(value).__name__}")
    if isinstance(value, float):
        if math.isnan(value):  # a missing cell of a pandas/Spark column
            return None
        value = repr(value) if not value.is_integer() else str(int(value))
    return one_line(str(value))


def report_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The known report fields of ``row`` (a JSON object, a DataFrame row, a request body),
    normalised by :func:`field_value`; unknown ones left out."""
    out: dict[str, str] = {}
    for name in REPORT_FIELDS:
        value = field_value(name, row.get(name))
        if value is not None:
            out[name] = value
    return out


# Per fitted predictor: the fields it learned, and those already warned about. Weak keys: a
# reloaded model is a new object and warns again; a dropped one is forgotten.
_FIELDS: weakref.WeakKeyDictionary[Any, tuple[str, ...]] = weakref.WeakKeyDictionary()
_WARNED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def model_fields(predictor: Any) -> tuple[str, ...]:
    """The report fields a fitted predictor learned from: those with a one-hot token in its
    features (a hybrid model's TF-IDF part included), and the location kinds of an agency
    router's pooled office classes."""
    try:
        return _FIELDS[predictor]
    except (KeyError, TypeError):
        pass
    found: set[str] = set()
    stack = [predictor]
    while stack:
        obj = stack.pop()
        vocab = getattr(getattr(obj, "features_", None), "field_vocab_", None) or {}
        found.update(str(token).split("=", 1)[0] for token in vocab)
        found.update(
            str(target) for kind, target in getattr(obj, "internal_map_", ()) if kind == "pooled"
        )
        part = getattr(obj, "tfidf_", None)
        if part is not None:
            stack.append(part)
    fields = tuple(f for f in REPORT_FIELDS if f in found)
    try:
        _FIELDS[predictor] = fields
    except TypeError:  # not weak-referenceable: computed again next time
        pass
    return fields


def warn_missing_fields(predictor: Any, records: Iterable[Any]) -> list[str]:
    """Log a warning, once per predictor and field, for each field the predictor was trained
    with that some of ``records`` lack. Returns the fields warned about by this call."""
    fields = model_fields(predictor)
    if not fields:
        return []
    try:
        warned = _WARNED.setdefault(predictor, set())
    except TypeError:
        warned = set()
    pending = [f for f in fields if f not in warned]
    if not pending:
        return []
    missing = {f: 0 for f in pending}
    total = 0
    for rec in records:
        total += 1
        for f in pending:
            if not isinstance(rec, Mapping) or not rec.get(f):
                missing[f] += 1
    out = []
    for f, n in missing.items():
        if n:
            warned.add(f)
            out.append(f)
            log.warning(
                "the %s model was trained with the field %r but %d of %d records lack it: its "
                "one-hot is all zero for them (the model predicts from the text and the other "
                "fields); pass %r for the model's full quality (warned once per model)",
                getattr(predictor, "task", "") or type(predictor).__name__,
                f,
                n,
                total,
                f,
            )
    return out
