"""Admin Pusat's disposition decisions (the feedback export, ``level: disposition``) as extra
examples for ``lapor-triage train --task disposition``, and kept out of the agency task."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lapor_triage.cli import main
from lapor_triage.jsonl import json_line
from lapor_triage.training.data import load_dataset
from lapor_triage.training.disposition_feedback import (
    is_feedback_export,
    load_disposition_feedback,
    load_disposition_with_feedback,
)
from lapor_triage.training.records import DataError

POSTS = [
    ("Dinas Perhubungan Kota Semarang", "lampu penerangan jalan mati di Semarang"),
    ("Dinas Perhubungan Kota Semarang", "rambu lalu lintas roboh di Semarang"),
    ("Dinas Pekerjaan Umum Kota Semarang", "jalan berlubang parah di Semarang"),
    ("Dinas Pekerjaan Umum Kota Semarang", "saluran drainase tersumbat di Semarang"),
    ("Kementerian Sosial", "bantuan PKH belum cair tiga bulan"),
    ("Kementerian Sosial", "bansos tidak tepat sasaran di desa kami"),
    ("BPJS Kesehatan KC Sampit", "klaim BPJS ditolak rumah sakit di Sampit"),
    ("BPJS Kesehatan KC Sampit", "kartu JKN tidak aktif padahal sudah bayar, Sampit"),
]


def write_posts(path: Path, copies: int = 4) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "judul", "isi"])
        n = 0
        for _ in range(copies):
            for instansi, text in POSTS:
                n += 1
                w.writerow([f"p{n}", "Laporan", f"Yth. {instansi}, <br><br>{text} (laporan {n})"])
    return path


def feedback_row(rid: str, agency: str, level: str | None = "disposition", **extra) -> dict:
    return {
        "kind": "triage",
        "level": level,
        "report_id": rid,
        "text": f"Lampu PJU padam di Kota Bandung sejak seminggu (laporan {rid})",
        "report_type": "pengaduan",
        "agency": agency,
        "decision": "overridden",
        "reply_text": None,
        "reply_label": None,
        "kecamatan": None,
        "kelurahan": None,
        "penerima": None,
        "created_at": "2027-01-10T08:00:00+00:00",
        "weight": 2.0,
        **extra,
    }


@pytest.fixture()
def feedback(tmp_path: Path) -> Path:
    rows = [
        feedback_row("F-1", "Dishub Kota Bandung"),
        feedback_row("F-2", "Dinas Perhubungan Kota Bandung", weight=None),
        feedback_row("F-3", "Dinas Perhubungan Kota Bandung"),
        feedback_row("F-3", "Dinas Perhubungan Kota Bandung", decision="accepted"),  # later wins
        feedback_row("U-1", "Dinas Perhubungan", level="unit"),  # a unit-level decision
        feedback_row("U-2", "Dinas Kesehatan", level=None),  # stored before levels: unit
        {**feedback_row("R-1", "Dinas Perhubungan", level=None), "kind": "reply"},
        feedback_row("F-4", " "),  # no instansi
    ]
    path = tmp_path / "feedback.jsonl"
    path.write_text("".join(json_line(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_disposition_rows_become_examples_with_kind_region_and_weight(feedback: Path) -> None:
    assert is_feedback_export(feedback)
    result = load_disposition_feedback([feedback], feedback_weight=0.5)
    by_id = {ex.id: ex for ex in result.examples}
    assert set(by_id) == {"F-1", "F-2", "F-3"}
    first = by_id["F-1"]
    assert first.label == "Dinas Perhubungan Kota Bandung"  # "Dishub" normalised
    assert first.meta["kind"] == "Dinas Perhubungan" and first.meta["region"] == "Kota Bandung"
    assert first.meta["label_raw"] == "Dishub Kota Bandung"
    assert first.meta["provenance"] == "feedback"
    assert first.weight == 2.0 and by_id["F-2"].weight == 0.5  # own weight, else the default
    assert by_id["F-3"].meta["decision"] == "accepted"  # the later decision superseded
    reasons = result.summary.skipped_by_reason
    assert reasons == {"other_level": 3, "missing_label": 1, "duplicate_id": 1}
    assert result.summary.rows_read["feedback.jsonl"] == 8
    assert result.summary.rows_used["feedback.jsonl"] == 3


def test_the_agency_task_leaves_disposition_decisions_out(feedback: Path) -> None:
    result = load_dataset([feedback], "agency")
    assert {ex.id for ex in result.examples} == {"U-1", "U-2"}
    assert result.summary.skipped_by_reason["other_level"] == 5  # F-1, F-2, F-3 twice, F-4


def test_posts_plus_feedback_and_feedback_alone(tmp_path: Path, feedback: Path) -> None:
    posts = write_posts(tmp_path / "posts.csv")
    both = load_disposition_with_feedback([posts, feedback])
    labels = [ex.label for ex in both.examples]
    assert labels.count("Dinas Perhubungan Kota Bandung") == 3
    assert len(both.examples) == len(POSTS) * 4 + 3
    assert both.summary.rows_used["posts.csv"] == len(POSTS) * 4
    alone = load_disposition_with_feedback([feedback])
    assert len(alone.examples) == 3
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json_line(feedback_row("U-9", "Dinas X", level="unit")) + "\n")
    with pytest.raises(DataError, match="no labelled example"):
        load_disposition_with_feedback([empty])


def test_train_disposition_takes_the_feedback_export(tmp_path: Path, feedback: Path) -> None:
    posts = write_posts(tmp_path / "posts.csv")
    out = tmp_path / "model"
    args = ["train", "--task", "disposition", "--data", str(posts), str(feedback)]
    assert main([*args, "--output", str(out), "--no-track", "--split", "none"]) == 0
    from lapor_triage.models.base import load_model

    model = load_model(out)
    assert "Dinas Perhubungan Kota Bandung" in model.seen_  # learnt from the decisions alone
    names = json.loads((out / "name_map.json").read_text(encoding="utf-8"))
    assert names["Dishub Kota Bandung"] == "Dinas Perhubungan Kota Bandung"
    info = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert "feedback.jsonl" in json.dumps(info)
