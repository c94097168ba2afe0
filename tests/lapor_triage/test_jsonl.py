"""JSON Lines: one object per line for every reader, even with Unicode line separators inside."""

from __future__ import annotations

import json
from pathlib import Path

from lapor_triage.jsonl import json_line, read_jsonl, write_jsonl

TRICKY = {"id": "a\u2028b", "text": "baris\u2029dua\x85tiga\nempat", "agency": "Dinas Sosial é"}


def test_json_line_survives_splitlines() -> None:
    line = json_line(TRICKY)
    assert len(line.splitlines()) == 1
    assert json.loads(line) == TRICKY
    assert "é" in line, "non-ASCII text stays readable"


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, [TRICKY, {"id": "b", "text": "biasa"}]) == 2
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 2
    assert [row for _, row in read_jsonl(path)] == [TRICKY, {"id": "b", "text": "biasa"}]
