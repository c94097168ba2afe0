"""The queue of a console session (an uploaded export, triaged) as it is stored in
``console_sessions.queue``: JSON, every text masked (``mask_pii``: NIK, phone, e-mail) before it is
written, compressed with zlib, and refused over a size cap.

The decisions taken on the queue are not in this blob (it is written once per upload): they live
in the session's small page state under ``"decisions"`` (row index -> level -> [decision, name]) and
are applied when the queue is read, so a decision writes a few bytes, not the whole queue.

Hand-written codec: the export's cells come from openpyxl as str, int, float, bool, None or
date/time values; JSON has no date, so those are tagged (``{"$dt": ...}``) and read back as the
same type, which the annotated .xlsx then writes as dates again.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from lapor_triage.service.console.annotate import ExportRow, LaporExport
from lapor_triage.text import mask_pii

FORMAT = 1
TAGS = {"$dt": datetime, "$d": date, "$t": time}


class QueueTooLarge(ValueError):
    """The compressed queue is over the cap (``LAPOR_CONSOLE_QUEUE_MAX_BYTES``)."""

    def __init__(self, size: int, cap: int):
        super().__init__(f"the queue is {size} bytes compressed, over the cap of {cap}")
        self.size = size
        self.cap = cap


def _value(v: Any) -> Any:
    """One cell or field as JSON, personal data masked."""
    if v is None or isinstance(v, bool | float):
        return v
    if isinstance(v, str):
        return mask_pii(v)
    if isinstance(v, int):
        text = str(v)
        return v if mask_pii(text) == text else mask_pii(text)  # a phone number typed as a number
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, date):
        return {"$d": v.isoformat()}
    if isinstance(v, time):
        return {"$t": v.isoformat()}
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_value(x) for x in v]
    return mask_pii(str(v))


def _cell(v: Any) -> Any:
    if isinstance(v, dict) and len(v) == 1:
        [(tag, text)] = v.items()
        if tag in TAGS:
            return TAGS[tag].fromisoformat(text)
    return v


def encode(export: LaporExport, cap: int) -> bytes:
    """The queue as stored: masked JSON, compressed. Raises :class:`QueueTooLarge` over ``cap``
    bytes (compressed)."""
    doc = {
        "format": FORMAT,
        "file": _value(export.file),
        "preamble": _value(export.preamble),
        "header": _value(export.header),
        "penerima": _value(export.penerima),
        "models": _value(export.models),
        "rows": [
            [
                r.row,
                _value(r.report_id),
                _value(r.judul),
                _value(r.isi),
                _value(r.cells),
                _value(r.record),
                _value(r.suggestion),
            ]
            for r in export.rows
        ],
    }
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    blob = zlib.compress(raw, 6)
    if len(blob) > cap:
        raise QueueTooLarge(len(blob), cap)
    return blob


def decode(blob: bytes, decisions: dict[str, dict[str, list[str]]] | None = None) -> LaporExport:
    """The stored queue, with the session's ``decisions`` applied to its rows."""
    doc = json.loads(zlib.decompress(blob))
    if doc.get("format") != FORMAT:
        raise ValueError(f"stored queue format {doc.get('format')!r}, expected {FORMAT}")
    rows = [
        ExportRow(row, rid, judul, isi, [_cell(c) for c in cells], record, suggestion)
        for row, rid, judul, isi, cells, record, suggestion in doc["rows"]
    ]
    for index, levels in (decisions or {}).items():
        i = int(index)
        if 0 <= i < len(rows):
            rows[i].decisions = {level: (d[0], d[1]) for level, d in levels.items()}
    preamble = [[_cell(c) for c in line] for line in doc["preamble"]]
    return LaporExport(
        doc["file"], preamble, doc["header"], rows, doc["penerima"], doc["models"] or {}
    )
