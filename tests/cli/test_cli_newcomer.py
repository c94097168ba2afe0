"""What a newcomer trips on at the command line (issue 9 part 3): clear refusals, never guesses."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from lapor_triage.cli import build_parser, main
from tests.conftest import DEMO_DIR, ROOT

DEMO_REPORTS = DEMO_DIR / "reports.csv"


def test_a_broken_subcommand_module_is_an_error_not_a_missing_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ImportError of our own CLI module must surface, not drop the subcommand silently."""
    monkeypatch.delitem(sys.modules, "lapor_triage.cli.keys", raising=False)
    monkeypatch.setitem(sys.modules, "lapor_triage.cli.keys", None)  # import raises
    with pytest.raises(ModuleNotFoundError, match="lapor_triage.cli.keys"):
        build_parser()


def _demo_rows(n: int) -> list[dict[str, str]]:
    rows = list(csv.reader(DEMO_REPORTS.open(encoding="utf-8")))
    at = next(i for i, r in enumerate(rows) if "Tracking ID" in r)
    header = rows[at]
    return [dict(zip(header, r, strict=False)) for r in rows[at + 1 : at + 1 + n]]


def _plain_csv(path: Path, n: int, header: tuple[str, str] = ("laporan", "kategori")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *header])
        for r in _demo_rows(n):
            text = f"{r['Judul Laporan']}. {r['Isi Laporan Awal']}"
            w.writerow([r["Tracking ID"], text, r["Instansi Terdisposisi"]])
    return path


@pytest.fixture(scope="module")
def agency_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("newcomer")
    data = _plain_csv(root / "sample.csv", 150)
    out = root / "agency"
    code = main(
        [
            "train", "--task", "agency", "--data", str(data), "--text-column", "laporan",
            "--label-column", "kategori", "--output", str(out), "--no-track",
        ]
    )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def reply_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lapor_triage.models.reply_quality import ReplyQualityScorer
    from lapor_triage.training.reply_data import load_replies

    ex = load_replies([ROOT / "datasets" / "challenge" / "reply_challenge.jsonl"]).examples
    recs = [
        {"report_text": e.meta["report_text"], "reply_text": e.text, "reasons": e.meta["reasons"]}
        for e in ex
    ]
    scorer = ReplyQualityScorer(cv_folds=3).fit(recs, [e.label for e in ex])
    return scorer.save(tmp_path_factory.mktemp("newcomer") / "reply")


def _predict(model: Path, inp: Path, tmp_path: Path) -> int:
    out = tmp_path / "out.jsonl"
    return main(["predict", "--model", str(model), "--input", str(inp), "--output", str(out)])


# ------------------------------------------------------------------------------ predict ---


def test_predict_on_an_empty_file_fails_clearly(agency_model: Path, tmp_path: Path, capsys) -> None:
    inp = tmp_path / "kosong.jsonl"
    inp.write_text("")
    assert _predict(agency_model, inp, tmp_path) == 2
    err = capsys.readouterr().err
    assert "kosong.jsonl" in err and "empty" in err and "JSON Lines" in err
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("name", ["laporan.csv", "laporan.jsonl"])
def test_predict_on_a_csv_says_it_reads_json_lines(
    agency_model: Path, tmp_path: Path, capsys, name: str
) -> None:
    """By suffix, or by content when a CSV was named .jsonl: the way out is named."""
    inp = _plain_csv(tmp_path / name, 3)
    assert _predict(agency_model, inp, tmp_path) == 2
    err = capsys.readouterr().err
    assert name in err and "reads JSON Lines" in err and "to_json(" in err
    assert "invalid JSON" not in err


# -------------------------------------------------------------------------------- train ---


def test_train_on_a_plain_csv_without_columns_lists_them(tmp_path: Path, capsys) -> None:
    data = _plain_csv(tmp_path / "plain.csv", 40, header=("text", "label"))
    out = tmp_path / "m"
    code = main(["train", "--task", "agency", "--data", str(data), "--output", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "plain.csv" in err and "--text-column" in err and "--label-column" in err
    assert "'id', 'text', 'label'" in err
    assert not out.exists()


def test_train_with_zero_evaluation_rows_fails_unless_asked(tmp_path: Path, capsys) -> None:
    data = tmp_path / "dua.csv"
    data.write_text("isi,jenis\nJalan rusak parah,pengaduan\nUsul taman kota,aspirasi\n")
    out = tmp_path / "m"
    args = ["train", "--task", "report-type", "--data", str(data), "--output", str(out)]
    args += ["--text-column", "isi", "--label-column", "jenis"]
    assert main(args) == 2  # tracked by default: nothing may be registered either
    err = capsys.readouterr().err
    assert "0 evaluation rows" in err and "--split none" in err
    assert not out.exists()
    assert main([*args, "--split", "none", "--no-track"]) == 0
    assert (out / "config.json").is_file()


def test_text_column_on_a_lapor_export_is_not_silently_ignored(tmp_path: Path, capsys) -> None:
    args = ["train", "--task", "report-type", "--data", str(DEMO_REPORTS), "--no-track"]
    code = main([*args, "--output", str(tmp_path / "m"), "--text-column", "isi_laporan"])
    assert code == 2
    err = capsys.readouterr().err
    assert "'isi_laporan' given as the text column is in none of the files" in err
    assert "'Isi Laporan Awal'" in err


# -------------------------------------------------------------------------------- monev ---


def test_monev_names_a_missing_reply_text_column(reply_model: Path, tmp_path: Path, capsys) -> None:
    for name, content in (
        ("r.csv", "id,agency,balasan\n1,DLH,Sudah diangkut\n"),
        ("r.jsonl", json.dumps({"id": "1", "agency": "DLH", "balasan": "Sudah"}) + "\n"),
    ):
        data = tmp_path / name
        data.write_text(content)
        out = tmp_path / "out"
        code = main(
            ["monev", "--model", str(reply_model), "--data", str(data), "--output", str(out)]
        )
        assert code == 2
        err = capsys.readouterr().err
        assert name in err and "missing column 'reply_text'" in err and "'balasan'" in err
        assert "every row" not in err


def test_monev_with_an_agency_model_reads_well(agency_model: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "r.jsonl"
    data.write_text(json.dumps({"agency": "DLH", "reply_text": "Sudah"}) + "\n")
    code = main(["monev", "--model", str(agency_model), "--data", str(data), "--output", "o"])
    assert code == 2
    err = capsys.readouterr().err
    assert "a agency" not in err and "for the agency task" in err and "reply-quality" in err


# ----------------------------------------------------------------------------- evaluate ---


def test_evaluate_a_reply_quality_model_writes_the_full_report(
    reply_model: Path, tmp_path: Path, capsys
) -> None:
    """HTML and per-class table like the other tasks; no `nan` rows for empty groups."""
    short = [
        ("Lampu PJU mati di Gang Mawar.", "Terima kasih, akan kami tindaklanjuti.", "normatif"),
        ("Sampah menumpuk di TPS.", "Laporan diteruskan ke bidang terkait.", "normatif"),
        ("Jalan berlubang di Jl. Melati.", "Lubang sudah ditambal 3 titik Senin.", "substantif"),
        ("Air PDAM keruh.", "Pipa bocor diganti petugas tadi pagi.", "substantif"),
    ]
    data = tmp_path / "eval.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"e{i}", "report_text": a, "reply_text": b, "label": c}) + "\n"
            for i, (a, b, c) in enumerate(short)
        )
    )
    out = tmp_path / "eval"
    args = ["evaluate", "--model", str(reply_model), "--data", str(data), "--output", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "nan" not in printed.lower()
    for name in ("report.html", "per_class.csv", "per_class.md", "reply_report.md"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader((out / "per_class.csv").open()))
    assert {r["label"] for r in rows} == {"normatif", "substantif"}
    assert sum(int(r["support"]) for r in rows) == 4
    md = (out / "reply_report.md").read_text()
    assert "nan" not in md.lower()
    assert "| len_short | 4 |" in md and "len_long" not in md  # the empty group is left out
    page = (out / "report.html").read_text()
    assert "Per class" in page and "data:image/png;base64," in page and ">nan<" not in page
    json.loads((out / "metrics.json").read_text())  # strict JSON: no NaN
