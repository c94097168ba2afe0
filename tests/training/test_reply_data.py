"""load_replies: guideline JSONL/CSV, feedback rows, and every kind of bad row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lapor_triage.training.records import DataError
from lapor_triage.training.reply_data import load_replies
from tests.conftest import DEMO_DIR, ROOT, shared_file

GOOD = {
    "id": "r1",
    "report_source": "test.csv",
    "report_id": "100",
    "report_text": "Yth. Dinas PU, <br>Jalan berlubang di Jl. Melati. Hubungi 081234567890",
    "agency": "Dinas Pekerjaan Umum",
    "reply_text": "Lubang di Jl. Melati sudah kami tambal kemarin sore.",
    "label": "substantif",
    "reasons": ["tindakan_konkret"],
    "date": "2024-03-05T10:00:00",
}


def _write(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_row_becomes_an_example(tmp_path: Path) -> None:
    res = load_replies(_write(tmp_path / "a.jsonl", [GOOD]))
    (ex,) = res.examples
    assert ex.id == "r1" and ex.label == "substantif"
    assert ex.text == GOOD["reply_text"] == ex.meta["reply_text"]
    assert ex.meta["report_text"].startswith("Jalan berlubang")  # salutation and HTML removed
    assert "[TELEPON]" in ex.meta["report_text"]  # PII masked
    assert ex.meta["reasons"] == ["tindakan_konkret"]
    assert ex.meta["report_id"] == "100" and ex.meta["agency"] == "Dinas Pekerjaan Umum"
    assert ex.meta["report_source"] == "test.csv" and ex.meta["date"] == "2024-03-05"
    assert res.summary.label_counts["substantif"] == 1


BAD = [
    ({**GOOD, "id": "r2", "reply_text": None}, "missing_field", "reply_text"),
    ({k: v for k, v in GOOD.items() if k != "label"} | {"id": "r3"}, "missing_field", "label"),
    ({**GOOD, "id": "r4", "reply_text": "   "}, "empty_reply", "reply_text"),
    ({**GOOD, "id": "r5", "label": "bagus"}, "unknown_label", "label"),
    ({**GOOD, "id": "r6", "reasons": ["tindakan_konkret", "asal"]}, "unknown_reason", "reasons"),
    ({**GOOD}, "duplicate_id", "id"),
]


def test_bad_rows_are_skipped_with_file_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.jsonl", [GOOD] + [row for row, _, _ in BAD])
    res = load_replies([path])
    assert [e.id for e in res.examples] == ["r1"]
    assert res.summary.rows_read[str(path)] == 1 + len(BAD)
    got = [(s.row, s.reason, s.column) for s in res.summary.skipped]
    want = [(n, reason, col) for n, (_, reason, col) in enumerate(BAD, start=2)]
    assert got == want
    assert str(path) in res.summary.render()


@pytest.mark.parametrize("k", range(len(BAD)))
def test_strict_mode_raises_data_error_naming_the_place(tmp_path: Path, k: int) -> None:
    row, _, column = BAD[k]
    path = _write(tmp_path / "c.jsonl", [GOOD, row])
    with pytest.raises(DataError) as info:
        load_replies([path], strict=True)
    assert info.value.file == str(path) and info.value.row == 2
    assert info.value.column == column
    assert str(path) in str(info.value)


def test_a_broken_json_line_stops_the_load_unless_skipping_is_asked(tmp_path: Path) -> None:
    """One policy with every JSON Lines reader: strict by default, counted skips on request."""
    path = _write(tmp_path / "j.jsonl", [GOOD, "{not json", {**GOOD, "id": "r9"}])
    with pytest.raises(DataError) as info:
        load_replies([path])  # strict=False governs bad rows, not broken lines
    assert (info.value.file, info.value.row) == (str(path), 2)
    assert "JSON Lines" in str(info.value)
    res = load_replies([path], on_bad_line="skip")
    assert [e.id for e in res.examples] == ["r1", "r9"]
    assert [(s.row, s.reason) for s in res.summary.skipped] == [(2, "malformed_json")]
    assert res.summary.rows_read[str(path)] == 3


def test_csv_with_the_same_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "id,report_id,report_text,agency,reply_text,label,reasons\n"
        'x1,9,Lampu PJU mati,Dishub,"Terima kasih, akan segera kami tindaklanjuti.",normatif,'
        "janji_tanpa_rincian\n"
        'x2,10,Sampah menumpuk,DLH,"Sudah diangkut 2 truk pagi tadi.",substantif,'
        '"tindakan_konkret;jadwal"\n'
        "x3,11,Jalan rusak,DPU,,normatif,\n",
        encoding="utf-8",
    )
    res = load_replies(path)
    assert [e.id for e in res.examples] == ["x1", "x2"]
    assert res.examples[1].meta["reasons"] == ["tindakan_konkret", "jadwal"]
    (skip,) = res.summary.skipped
    assert (skip.row, skip.column, skip.reason) == (4, "reply_text", "empty_reply")


def test_feedback_rows_of_kind_reply(tmp_path: Path) -> None:
    rows = [
        {
            "kind": "reply",
            "report_id": "55",
            "text": "Sampah menumpuk di TPS Jl. Kenanga.",
            "agency": "DLH",
            "reply_text": "Sampah sudah diangkut pagi ini.",
            "reply_label": "substantif",
            "created_at": "2024-01-25T11:40:00+00:00",
        },
        {"kind": "triage", "report_id": "56", "text": "x", "report_type": "pengaduan"},
    ]
    res = load_replies(_write(tmp_path / "feedback.jsonl", rows))
    (ex,) = res.examples
    assert ex.meta["provenance"] == "feedback" and ex.label == "substantif"
    assert ex.meta["report_text"].startswith("Sampah menumpuk") and ex.meta["report_id"] == "55"
    assert res.summary.skipped[0].reason == "other_kind"


def test_missing_file_and_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_replies([tmp_path / "nope.jsonl"])
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="unsupported"):
        load_replies([tmp_path / "x.txt"])


def test_shipped_challenge_and_demo_files_load_cleanly() -> None:
    paths = [ROOT / "datasets" / "challenge" / "reply_challenge.jsonl"]
    if (DEMO_DIR / "replies.jsonl").is_file():
        paths.append(DEMO_DIR / "replies.jsonl")
    res = load_replies(paths, strict=True)
    assert len(res.examples) >= 206
    assert set(res.summary.label_counts) == {"normatif", "substantif"}


def test_real_reply_files_load_without_skips() -> None:
    path = shared_file("replies/replies_surabaya.jsonl")
    res = load_replies([path])
    assert len(res.examples) == res.summary.rows_read[str(path)] > 100
    assert not res.summary.skipped
