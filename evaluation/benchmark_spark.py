"""Batch scoring on Spark through the MLflow pyfunc: a figure printer, not a timed test.

    python -m lapor_triage.evaluation.benchmark_spark [--rows 100000] [--cores 2]
                                                      [--task report-type] [--model-uri URI]

Without ``--model-uri`` it trains the task's model on the shipped demo data into a temporary
``LAPOR_TRIAGE_HOME``, logs and registers it as ``lapor-triage train`` does and makes it the
champion as ``lapor-triage promote`` does; then it scores the same synthetic reports (text,
``penerima``, ``kecamatan``, ``kelurahan``; some fields missing) twice, by the registry alias
``models:/lapor-triage-<task>@champion``:

- in a local Spark session (``local[<cores>]``) through ``mlflow.pyfunc.spark_udf``;
- in process, ``mlflow.pyfunc.load_model(...).predict`` in batches of 10,000 rows,

and prints reports/s for both and whether the labels agree. Spark's Python workers must run the
venv's python: ``PYSPARK_PYTHON`` is set to ``sys.executable`` here (without it they start the
system python and fail with ``No module named 'pandas'``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

INPUT_COLUMNS = ("text", "penerima", "kecamatan", "kelurahan")
BATCH = 10_000

TOPICS = [
    "jalan berlubang", "lampu PJU padam", "sampah menumpuk", "saluran air tersumbat",
    "parkir liar", "pohon tumbang", "banjir setinggi lutut", "antrean puskesmas",
    "obat habis di puskesmas", "pungutan liar di sekolah", "bantuan sosial belum cair",
    "KTP elektronik belum jadi", "air PDAM mati", "trotoar rusak", "lampu lalu lintas mati",
    "anjing liar", "bau limbah pabrik", "izin keramaian", "jadwal vaksinasi", "beasiswa daerah",
]  # fmt: skip
PLACES = [
    "Jalan Kenanga", "Jalan Melati", "Gang Mawar", "Jalan Merdeka", "Jalan Diponegoro",
    "Perumahan Griya Asri", "Pasar Baru", "depan SDN 3", "RT 05 RW 02", "dekat masjid",
]  # fmt: skip
TEMPLATES = [
    "Saya mengadukan {t} di {p} yang sudah {n} hari dibiarkan. Mohon segera ditangani.",
    "Keluhan warga: {t} di {p} sangat mengganggu dan belum ada penanganan.",
    "Kami mengusulkan agar pemerintah membuat program untuk mencegah {t} di {p}.",
    "Saran dari warga: sebaiknya ada kegiatan rutin terkait {t} di sekitar {p}.",
    "Bagaimana cara melaporkan {t} di {p}? Berapa lama prosesnya? Mohon informasinya.",
    "Saya ingin bertanya, kapan jadwal penanganan {t} di {p}? Sudah {n} minggu menunggu.",
]
PENERIMA = ["Pemerintah Kota Contoh", "Pemerintah Kota Surabaya", "Pemerintah Kota Samarinda"]
KECAMATAN = ["Wonokromo", "Gubeng", "Tegalsari", "Sukajadi", "Samarinda Ulu"]
KELURAHAN = ["Ngagel Rejo", "Airlangga", "Darmo", "Sungai Pinang Dalam"]


def synthetic_reports(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct synthetic reports with ``id`` and :data:`INPUT_COLUMNS`; about a fifth of
    them lack each field (``None``), as exports do."""
    rng = np.random.default_rng(seed)
    t = rng.integers(len(TOPICS), size=n)
    p = rng.integers(len(PLACES), size=n)
    k = rng.integers(len(TEMPLATES), size=n)
    days = rng.integers(2, 30, size=n)

    def pick(values: Sequence[str]) -> list[str | None]:
        idx = rng.integers(len(values), size=n)
        missing = rng.random(n) < 0.2
        return [None if m else values[i] for i, m in zip(idx, missing, strict=True)]

    texts = [
        f"{TOPICS[a].capitalize()} di {PLACES[b]}\n"
        + TEMPLATES[c].format(t=TOPICS[a], p=PLACES[b], n=d)
        + f" (laporan {i})"
        for i, (a, b, c, d) in enumerate(zip(t, p, k, days, strict=True))
    ]
    return pd.DataFrame(
        {
            "id": [f"SYN-{i}" for i in range(n)],
            "text": texts,
            "penerima": pick(PENERIMA),
            "kecamatan": pick(KECAMATAN),
            "kelurahan": pick(KELURAHAN),
        }
    )


def train_and_register(task: str = "report-type", output: Path | None = None) -> str:
    """Train ``task`` on the shipped demo data, log and register the run in the current
    ``LAPOR_TRIAGE_HOME``'s MLflow store, make it the champion; return the alias URI."""
    from lapor_triage.paths import datasets_dir, var_dir
    from lapor_triage.training import promotion, registry
    from lapor_triage.training.config import TrainConfig
    from lapor_triage.training.defaults import DEMO_SOURCES
    from lapor_triage.training.loop import run_training
    from lapor_triage.training.tracking import registered_model_name

    config = TrainConfig(
        task=task,
        data=[datasets_dir() / DEMO_SOURCES[task]],
        output=output or var_dir() / "models" / f"spark-{task}",
        split="auto",
        track=True,
    )
    result = run_training(config)
    if result.tracking is None or result.tracking.model_version is None:
        raise RuntimeError("the training run was not registered in MLflow")
    promotion.promote(task, result.tracking.model_version)
    return f"models:/{registered_model_name(task)}@{registry.CHAMPION}"


def spark_session(cores: int = 2) -> Any:
    """A local Spark session whose Python workers run this interpreter."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("lapor-triage-batch-scoring")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH))
        .config("spark.driver.memory", "2g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass
class Scored:
    labels: list[str]
    seconds: float

    def per_second(self) -> float:
        return len(self.labels) / self.seconds if self.seconds > 0 else float("nan")


def score_spark(spark: Any, model_uri: str, frame: pd.DataFrame, cores: int = 2) -> Scored:
    """Labels of ``frame`` (in its row order) through ``mlflow.pyfunc.spark_udf``; the time
    covers the Spark job (workers load the model once each), not the DataFrame's creation."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    # Through a Parquet file, as a batch job reads its input: spark.createDataFrame(pandas)
    # ships the whole frame inside the tasks (tens of seconds for 100,000 rows).
    folder = Path(tempfile.mkdtemp(prefix="lapor-triage-spark-"))
    path = folder / "reports.parquet"
    frame[["id", *INPUT_COLUMNS]].to_parquet(path, index=False)
    schema = StructType([StructField(c, StringType(), True) for c in ("id", *INPUT_COLUMNS)])
    sdf = spark.read.schema(schema).parquet(str(path)).repartition(cores).cache()
    sdf.count()
    udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type="string", env_manager="local")
    started = time.perf_counter()
    out = sdf.select("id", udf(F.struct(*INPUT_COLUMNS)).alias("label")).toPandas()
    seconds = time.perf_counter() - started
    sdf.unpersist()
    shutil.rmtree(folder, ignore_errors=True)
    by_id = dict(zip(out["id"], out["label"], strict=True))
    return Scored([by_id[i] for i in frame["id"]], seconds)


def score_in_process(model_uri: str, frame: pd.DataFrame) -> Scored:
    """Labels of ``frame`` through the loaded pyfunc, in batches of :data:`BATCH` rows."""
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)
    inputs = frame[list(INPUT_COLUMNS)]
    started = time.perf_counter()
    labels: list[str] = []
    for start in range(0, len(inputs), BATCH):
        labels.extend(model.predict(inputs.iloc[start : start + BATCH])["label"].astype(str))
    return Scored(labels, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="synthetic reports (100,000)")
    ap.add_argument("--cores", type=int, default=2, help="Spark local[N] (2)")
    ap.add_argument("--task", default="report-type", choices=["report-type", "agency"])
    ap.add_argument("--model-uri", help="score this model (default: train, register, promote)")
    args = ap.parse_args(argv)

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if args.model_uri:
        model_uri = args.model_uri
    else:
        home = Path(tempfile.mkdtemp(prefix="lapor-triage-spark-bench-"))
        os.environ["LAPOR_TRIAGE_HOME"] = str(home)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        print(f"training the {args.task} model on the demo data (MLflow store under {home})")
        model_uri = train_and_register(args.task)
    frame = synthetic_reports(args.rows)
    print(f"{len(frame):,} synthetic reports; model {model_uri}")
    local = score_in_process(model_uri, frame)
    print(f"in-process pyfunc ({BATCH:,}-row batches): {local.per_second():,.0f} reports/s "
          f"({local.seconds:.1f} s)")  # fmt: skip
    spark = spark_session(args.cores)
    try:
        spark_run = score_spark(spark, model_uri, frame, args.cores)
    finally:
        spark.stop()
    print(f"Spark spark_udf, local[{args.cores}]: {spark_run.per_second():,.0f} reports/s "
          f"({spark_run.seconds:.1f} s)")  # fmt: skip
    same = sum(a == b for a, b in zip(local.labels, spark_run.labels, strict=True))
    print(f"labels equal: {same:,} of {len(frame):,}")
    return 0 if same == len(frame) else 1


if __name__ == "__main__":
    sys.exit(main())
