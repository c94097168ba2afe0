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


# ------------------------------------------------------------------ the one reading policy ---

import logging  # noqa: E402

import pytest  # noqa: E402

from lapor_triage.errors import DataError  # noqa: E402
from lapor_triage.jsonl import parse_jsonl  # noqa: E402


def _file(tmp_path: Path, content: str | bytes, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        # json says "Invalid control character at: line 1 column 32 (char 31)"
        ('{"id": 1, "text": "ok"}\n{"id": 2, "text": "tab\there"}\n', 2, "raw control character"),
        ("id,text,label\n1,jalan rusak,pengaduan\n", 1, "looks like CSV"),
        ('{"id": 1}\n{"id": 2, "text": "terpot', 2, "truncated"),
        ('{"id": 1}\n[1, 2]\n', 2, "a list, not a JSON object"),
        ("{'id': 1}\n", 1, "double quotes"),
        ('{"id": 1} {"id": 2}\n', 1, "more than one JSON value"),
        (b'{"id": 1}\n{"text": "caf\xe9"}\n', 2, "not UTF-8"),
    ],
)
def test_first_bad_line_is_a_clear_error(
    tmp_path: Path, content: str | bytes, line: int, words: str
) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(DataError) as err:
        list(read_jsonl(path))
    msg = str(err.value)
    assert err.value.file == str(path) and err.value.line == line == err.value.row
    assert msg.startswith(f"file {path}, line {line}: ")
    assert words in msg, msg
    assert msg.endswith("the file must be JSON Lines: one JSON object per line"), msg
    assert " at at " not in msg and "(char " not in msg  # json's raw wording is not shown


def test_skips_are_counted_on_request_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _file(tmp_path, '{"id": 1}\nnot json\n\n[2]\n{"id": 3}\r\n')
    reader = read_jsonl(path, on_error="skip")
    with caplog.at_level(logging.WARNING, logger="lapor_triage.jsonl"):
        rows = list(reader)
    assert rows == [(1, {"id": 1}), (5, {"id": 3})]
    assert [b.line for b in reader.skipped] == [2, 4]
    assert "skipped 2 of 5 lines" in caplog.text and str(path) in caplog.text


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file is empty.*JSON Lines"):
        list(read_jsonl(_file(tmp_path, "")))
    with pytest.raises(DataError, match=r"empty \(blank lines only\)"):
        list(read_jsonl(_file(tmp_path, "\n \n", "blank.jsonl")))
    with pytest.raises(DataError, match="no JSON object"):
        list(read_jsonl(_file(tmp_path, "[1]\n", "list.jsonl"), on_error="skip"))
    assert list(read_jsonl(_file(tmp_path, "", "ok.jsonl"), allow_empty=True)) == []
    with pytest.raises(DataError, match="no such file"):
        read_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="on_error"):
        read_jsonl(_file(tmp_path, "{}"), on_error="ignore")  # type: ignore[arg-type]


def test_text_in_memory_follows_the_same_policy() -> None:
    text = json_line(TRICKY) + "\n" + '{"a": 1'
    with pytest.raises(DataError, match=r"file mem\.jsonl, line 2: .*truncated"):
        list(parse_jsonl(text, "mem.jsonl"))
    assert [row for _, row in parse_jsonl(json_line(TRICKY) + "\n", "m")] == [TRICKY]


def test_the_core_module_imports_nothing_of_the_project() -> None:
    import ast

    import lapor_triage.jsonl as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    ours = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lapor_triage")
    }
    assert ours <= {"lapor_triage.errors"}, ours


def test_the_five_readers_are_one() -> None:
    """No module parses JSON Lines by hand any more: json.loads per line lives in jsonl.py only."""
    import re

    from tests.conftest import ROOT

    files = [
        "training/data.py",
        "training/data_layouts.py",
        "training/data_loader.py",
        "training/reply_data.py",
        "training/tracking.py",
        "training/eval_split.py",
        "evaluation/reply_quality_report.py",
        "evaluation/monev.py",
        "lapor_triage/cli/predict.py",
    ]
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"json\.loads\((line|first)\b", text), name
        assert "for line in fh" not in text, name
