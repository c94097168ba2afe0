"""Admin Pusat's disposition decisions (the service's feedback export) as extra training examples
for ``lapor-triage train --task disposition``, the way the agency task takes its corrections.

``GET /v1/feedback/export`` writes one JSON object per line with a ``kind`` key. Rows of
``"kind": "triage"`` and ``"level": "disposition"`` record the instansi a report was disposed to
(accepted or overridden): that instansi, normalised as the posts' salutations are
(:func:`~lapor_triage.training.disposition_data.normalise_instansi`), is the label, split into its
kind and region for the model. As for the agency task:

- the row's own ``weight`` (the service's ``LAPOR_FEEDBACK_WEIGHT_*``) is the sample weight, else
  ``feedback_weight``;
- a later decision on the same report supersedes an earlier one (``duplicate_id``);
- other rows are counted and skipped by reason: reply verdicts and unit-level triage decisions
  (``other_level``), rows without text or instansi (``empty_text``, ``missing_label``).

The texts were masked by the service before they were stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lapor_triage.jsonl import read_jsonl
from lapor_triage.models.instansi_names import split_instansi
from lapor_triage.text import clean_text
from lapor_triage.training.data_layouts import is_feedback
from lapor_triage.training.data_values import row_weight
from lapor_triage.training.records import DataError, Example, LoadResult, LoadSummary

FEEDBACK_SUFFIXES = {".jsonl", ".ndjson", ".json"}
LOCATION_KEYS = ("kecamatan", "kelurahan", "penerima")


def is_feedback_export(path: str | Path) -> bool:
    """True for a JSON Lines file whose first objects all carry ``kind`` (the service's export),
    by the agency loader's own check (:func:`~lapor_triage.training.data_layouts.is_feedback`)."""
    path = Path(path)
    if path.suffix.lower() not in FEEDBACK_SUFFIXES or not path.is_file():
        return False
    objects = []
    for _, obj in read_jsonl(path, on_error="skip", allow_empty=True):
        if isinstance(obj, dict):
            objects.append(obj)
        if len(objects) >= 20:
            break
    return is_feedback(objects)


def load_disposition_feedback(
    paths: Iterable[str | Path], feedback_weight: float = 1.0
) -> LoadResult:
    """Labelled disposition examples from feedback exports (``meta["provenance"] =
    "feedback"``); raises :class:`DataError` naming the file (and line) for a file that cannot be
    read or a line that is not JSON."""
    from lapor_triage.training.disposition_data import normalise_instansi

    summary = LoadSummary()
    examples: list[Example] = []
    where: dict[str, int] = {}  # report id -> index in examples
    for path in map(Path, paths):
        file = path.name
        summary.rows_read[file] += 0
        summary.rows_used[file] += 0
        for row_no, obj in read_jsonl(path):
            summary.rows_read[file] += 1
            reason = _skip_reason(obj)
            if reason:
                summary.skip(file, row_no, *reason)
                continue
            label = normalise_instansi(obj["agency"])
            text = clean_text(obj.get("text"))
            if not text:
                summary.skip(file, row_no, "text", "empty_text", "the text is empty")
                continue
            if not label:
                summary.skip(file, row_no, "agency", "missing_label", "no instansi")
                continue
            weight = row_weight(obj, feedback_weight)
            if weight is None:
                summary.skip(file, row_no, "weight", "malformed_row", f"weight {obj['weight']!r}")
                continue
            kind, region = split_instansi(label)
            meta: dict[str, Any] = {
                "kind": kind,
                "region": region,
                "label_raw": " ".join(str(obj["agency"]).split()),
                "provenance": "feedback",
                "source_format": "feedback",
                "decision": obj.get("decision"),
                **{k: str(obj[k]).strip() for k in LOCATION_KEYS if _present(obj.get(k))},
            }
            rid = str(obj["report_id"]) if _present(obj.get("report_id")) else f"{file}:{row_no}"
            ex = Example(
                id=rid,
                text=text,
                label=label,
                source=file,
                row=row_no,
                date=str(obj.get("created_at") or "")[:10] or None,
                weight=weight,
                meta=meta,
            )
            if rid in where:  # a later decision on the same report supersedes the earlier one
                prev = examples[where[rid]]
                summary.supersede(examples, where[rid], ex, file, "report_id", prev.source)
            else:
                where[rid] = len(examples)
                examples.append(ex)
                summary.rows_used[file] += 1
                summary.label_counts[label] += 1
    return LoadResult(examples=examples, summary=summary)


def load_disposition_with_feedback(
    paths: Iterable[str | Path], feedback_weight: float = 1.0
) -> LoadResult:
    """The disposition loader's examples of the posts and regional files, plus the disposition
    decisions of any feedback export among ``paths``."""
    from lapor_triage.training.disposition_data import load_disposition_result

    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("no data files given")
    feedback = [p for p in paths if is_feedback_export(p)]
    others = [p for p in paths if p not in feedback]
    if others:
        result = load_disposition_result(others)
    else:
        result = LoadResult(examples=[], summary=LoadSummary())
    if feedback:
        extra = load_disposition_feedback(feedback, feedback_weight)
        result.examples.extend(extra.examples)
        result.summary.merge(extra.summary)
    if not result.examples:
        raise DataError(
            "no labelled example: no post opens with 'Yth. <instansi>,' and no feedback row is a "
            "disposition decision",
            file=", ".join(str(p) for p in paths),
        )
    return result


def _skip_reason(obj: Any) -> tuple[str | None, str, str] | None:
    if not isinstance(obj, dict):
        return None, "malformed_row", "not a JSON object"
    if obj.get("kind") != "triage":
        return "kind", "other_level", f"feedback of kind {obj.get('kind')!r}, not a triage decision"
    if obj.get("level") != "disposition":
        level = obj.get("level") or "unit"
        return "level", "other_level", f"a {level}-level decision, not a national disposition"
    if not _present(obj.get("agency")):
        return "agency", "missing_label", "a disposition decision without its instansi"
    return None


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""
