"""Batch scoring on Spark (issue 10, part 4): a model registered and promoted as ``lapor-triage
train`` and ``lapor-triage promote`` do, scored by its registry alias through
``mlflow.pyfunc.spark_udf`` in a local session, gives the in-process pyfunc's labels.

Slow (a JVM, two Python workers, 100,000 reports): about three minutes on 2 busy cores. The
throughput figures come from ``python -m lapor_triage.evaluation.benchmark_spark``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from lapor_triage.evaluation.benchmark_spark import (
    INPUT_COLUMNS,
    score_in_process,
    score_spark,
    spark_session,
    synthetic_reports,
    train_and_register,
)
from lapor_triage.training import registry
from tests.training.test_tracking import store  # noqa: F401  (a fixture)

ROWS = 100_000
CHECKED = 10_000  # rows also scored in process (all 100,000: the benchmark, ~45 s more)


@pytest.mark.slow
def test_spark_udf_by_champion_alias_matches_the_in_process_pyfunc(
    store: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    model_uri = train_and_register("report-type", output=store / "var" / "models" / "spark")
    champion = registry.get_champion("report-type")
    assert champion is not None
    assert model_uri == f"models:/lapor-triage-report-type@{registry.CHAMPION}"

    frame = synthetic_reports(ROWS)
    assert len(frame) == ROWS and frame["text"].is_unique
    assert frame["penerima"].isna().any() and frame["penerima"].notna().any()
    spark = spark_session(cores=2)
    try:
        assert spark.sparkContext.master == "local[2]"
        assert os.environ["PYSPARK_PYTHON"] == sys.executable
        on_spark = score_spark(spark, model_uri, frame, cores=2)
    finally:
        spark.stop()
    assert len(on_spark.labels) == ROWS
    assert set(on_spark.labels) <= {"pengaduan", "aspirasi", "permintaan_informasi"}
    assert len(set(on_spark.labels)) > 1  # a constant answer would hide a broken input

    rows = np.random.default_rng(1).choice(ROWS, size=CHECKED, replace=False)
    sample = frame.iloc[rows].reset_index(drop=True)
    in_process = score_in_process(model_uri, sample)
    assert in_process.labels == [on_spark.labels[i] for i in rows]
    # The report fields reach the model through Spark too: penerima changes some answers.
    without = score_in_process(model_uri, sample.assign(penerima=None)).labels
    assert without != in_process.labels
    assert list(sample.columns[1:]) == list(INPUT_COLUMNS)
