"""The speed benchmark runs end to end on the demo data and prints its figures (no timing asserted)."""

from __future__ import annotations

import re

import pytest

from lapor_triage.evaluation import benchmark_speed
from tests.conftest import DEMO_DIR


@pytest.mark.parametrize("task", ["agency", "report-type"])
def test_benchmark_prints_every_figure(task: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = DEMO_DIR / "reports.csv"
    argv = ["--task", task, "--data", str(data), "--repeat", "20", "--batch", "60"]
    assert benchmark_speed.main([*argv, "--small-batches", "1", "4"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"training \(\w+, all \d+ reports\): [\d.]+ s wall", out)
    rates = re.findall(r"batch prediction: 60 reports in [\d.]+ s = ([\d,]+) reports/s", out)
    assert len(rates) == 2, out  # warm model and freshly loaded model
    assert all(int(r.replace(",", "")) > 0 for r in rates)
    assert re.search(r"single report .*p50 [\d.]+ ms, p95 [\d.]+ ms over 20 reports", out)
    assert "peak RSS" in out
