"""monev: per-agency normatif share, months, template clusters, written files and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lapor_triage.cli import main
from lapor_triage.evaluation.monev import monev_table, read_replies, run_monev, template_clusters
from lapor_triage.models.reply_quality import ReplyQualityScorer
from lapor_triage.training.reply_data import load_replies
from tests.conftest import ROOT

TEMPLATE = "Terima kasih atas laporannya, akan segera kami tindaklanjuti bersama bidang terkait."
ROWS = [
    {"id": "1", "agency": "DLH", "date": "2024-01-03", "report_text": "Sampah menumpuk di TPS Jl. Melati.", "reply_text": TEMPLATE},
    {"id": "2", "agency": "DLH", "date": "2024-01-20", "report_text": "Bau sampah di Pasar Baru.", "reply_text": TEMPLATE + " Salam."},
    {"id": "3", "agency": "DLH", "date": "2024-02-02", "report_text": "Sampah di sungai Citepus.", "reply_text": "Sampah di tepi Sungai Citepus sudah dibersihkan petugas DLH Sabtu pagi, 2 truk diangkut."},
    {"id": "4", "agency": "Dishub", "report_text": "Lampu PJU di Gang Mawar mati.", "reply_text": "Dua lampu PJU di Gang Mawar sudah diganti petugas tadi malam dan kini menyala."},
    {"id": "5", "agency": "Dishub", "report_text": "Parkir liar.", "reply_text": "  "},
]  # fmt: skip


def _jsonl(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n")
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # demo replies, never a challenge set: those stay unseen by every model
    ex = load_replies([ROOT / "datasets" / "demo" / "replies.jsonl"]).examples
    recs = [
        {"report_text": e.meta["report_text"], "reply_text": e.text, "reasons": e.meta["reasons"]}
        for e in ex
    ]
    scorer = ReplyQualityScorer(cv_folds=3).fit(recs, [e.label for e in ex])
    return scorer.save(tmp_path_factory.mktemp("m") / "reply")


def test_template_clusters_group_near_identical_replies() -> None:
    texts = [TEMPLATE, TEMPLATE + " Salam.", "Sampah sudah diangkut 2 truk pagi ini."]
    assert template_clusters(texts, 0.8) == [[0, 1]]
    assert template_clusters(texts[:1]) == []


def test_read_replies_skips_empty_and_keeps_months(tmp_path: Path) -> None:
    got = read_replies([_jsonl(tmp_path / "r.jsonl")])
    assert [r["id"] for r in got.records] == ["1", "2", "3", "4"]
    assert got.records[0]["month"] == "2024-01" and got.records[3]["month"] == ""
    assert len(got.skipped) == 1 and "row 5" in got.skipped[0]


def test_monev_table_counts() -> None:
    records = [
        {"agency": "A", "month": "2024-01", "reply_text": TEMPLATE},
        {"agency": "A", "month": "2024-02", "reply_text": TEMPLATE},
        {"agency": "A", "month": "2024-02", "reply_text": "Lubang sudah ditambal 3 titik."},
    ]
    verdicts = [{"label": "normatif"}, {"label": "normatif"}, {"label": "substantif"}]
    rows, templates = monev_table(records, verdicts)
    overall = next(r for r in rows if r["agency"] == "A" and not r["month"])
    assert overall["n_replies"] == 3 and overall["share_normatif"] == pytest.approx(2 / 3, abs=1e-3)
    assert overall["top_template_count"] == 2
    feb = next(r for r in rows if r["month"] == "2024-02")
    assert feb["n_replies"] == 2 and feb["share_normatif"] == 0.5
    assert templates["A"][0]["count"] == 2 and templates["A"][0]["share_normatif"] == 1.0


def test_run_monev_writes_csv_markdown_and_chart(model_dir: Path, tmp_path: Path) -> None:
    from lapor_triage.models.base import load_model

    files = run_monev(load_model(model_dir), [_jsonl(tmp_path / "r.jsonl")], tmp_path / "out")
    with files["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    dlh = next(r for r in rows if r["agency"] == "DLH" and not r["month"])
    assert dlh["n_replies"] == "3" and float(dlh["share_normatif"]) >= 2 / 3 - 1e-9
    assert {r["month"] for r in rows if r["agency"] == "DLH"} == {"", "2024-01", "2024-02"}
    md = files["markdown"].read_text()
    assert "DLH" in md and "Template" in md
    assert files["chart"].read_bytes()[:4] == b"\x89PNG"


def test_monev_cli(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _jsonl(tmp_path / "r.jsonl")
    out = tmp_path / "cli"
    assert (
        main(["monev", "--model", str(model_dir), "--data", str(data), "--output", str(out)]) == 0
    )
    assert (out / "monev.csv").is_file() and (out / "normatif_share.png").is_file()
    assert (
        main(
            ["monev", "--model", str(tmp_path / "nope"), "--data", str(data), "--output", str(out)]
        )
        == 2
    )
    assert "error" in capsys.readouterr().err
