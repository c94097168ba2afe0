"""MLflow tracking against a real SQLite store in a temporary folder.

The helpers at the top (a tiny registered predictor, a train-and-log function and the store
fixture) are shared with tests/training/test_registry.py and tests/cli/test_promote_cli.py.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from lapor_triage.models.base import Predictor, Record, record_text, register
from lapor_triage.training.config import TrainConfig
from lapor_triage.training.fingerprint import data_fingerprint
from lapor_triage.training.loop import TrainResult
from lapor_triage.training.records import LoadSummary

TASK = "report-type"

# Tiny self-written data: three report types, clearly separable words.
_TRAIN = {
    "pengaduan": [
        "jalan rusak berlubang di depan sekolah",
        "lampu jalan mati sudah dua minggu",
        "sampah menumpuk tidak diangkut petugas",
        "pungutan liar di kantor kelurahan",
        "banjir karena saluran air tersumbat",
        "pelayanan puskesmas lambat dan petugas kasar",
        "jembatan rusak membahayakan warga",
        "air pdam mati tiga hari",
    ],
    "permintaan_informasi": [
        "mohon informasi jadwal vaksinasi anak",
        "bagaimana cara mendaftar bpjs kesehatan",
        "kapan pencairan bantuan sosial tahap dua",
        "apa syarat membuat kartu keluarga baru",
        "mohon info jadwal seleksi cpns daerah",
        "di mana lokasi pendaftaran beasiswa",
        "berapa biaya perpanjangan sim",
        "bagaimana prosedur izin usaha mikro",
    ],
    "aspirasi": [
        "usul dibangun taman bermain untuk anak",
        "saran agar ditambah rute bus kota",
        "mohon dipertimbangkan pelatihan umkm gratis",
        "usulan penambahan ruang terbuka hijau",
        "saran perpustakaan buka sampai malam",
        "usul jalur sepeda di jalan protokol",
        "harapan kami ada pasar murah rutin",
        "saran pemerintah membuat aplikasi antrean",
    ],
}
_EVAL = {
    "pengaduan": [
        "jalan berlubang dan lampu mati",
        "sampah menumpuk di saluran air",
        "petugas kelurahan minta pungutan liar",
        "air pdam mati dan jembatan rusak",
    ],
    "permintaan_informasi": [
        "mohon informasi cara mendaftar beasiswa",
        "kapan jadwal pencairan bantuan",
        "apa syarat perpanjangan sim",
        "bagaimana prosedur membuat kartu keluarga",
    ],
    "aspirasi": [
        "usul taman dan ruang terbuka hijau",
        "saran tambah rute bus dan jalur sepeda",
        "usulan pelatihan umkm dan pasar murah",
        "saran perpustakaan dan aplikasi antrean",
    ],
}


def _pairs(data: dict[str, list[str]]) -> tuple[list[dict[str, Any]], list[str]]:
    records, labels = [], []
    for label, texts in data.items():
        for i, text in enumerate(texts):
            records.append({"id": f"{label}-{i}", "text": text})
            labels.append(label)
    return records, labels


TRAIN_RECORDS, TRAIN_LABELS = _pairs(_TRAIN)
EVAL_RECORDS, EVAL_LABELS = _pairs(_EVAL)


@register
class TinyTextClassifier(Predictor):
    """TF-IDF + logistic regression: a real, fast predictor for tracking tests."""

    task = TASK

    def __init__(self, C: float = 10.0) -> None:
        self.C = C

    def fit(
        self,
        X: Sequence[Record],
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> TinyTextClassifier:
        texts = [record_text(x) for x in X]
        self.vectorizer_ = TfidfVectorizer().fit(texts)
        self.clf_ = LogisticRegression(C=self.C, max_iter=1000).fit(
            self.vectorizer_.transform(texts), list(y), sample_weight=sample_weight
        )
        self.classes_ = np.array([str(c) for c in self.clf_.classes_])
        return self

    def predict_proba(self, X: Sequence[Record]) -> np.ndarray:
        self._check_fitted()
        return self.clf_.predict_proba(self.vectorizer_.transform([record_text(x) for x in X]))


def accuracy(predictor: Predictor, records: list[Any], labels: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predictor.predict(records), labels, strict=True)]))


def train_and_log(
    root: Path, name: str, *, worse: bool = False, track: bool = True, C: float = 10.0
) -> TrainResult:
    """Fit the tiny predictor (``worse``: on rotated labels), save it, and log it as lead's loop does."""
    from lapor_triage.training.tracking import log_training_run

    data = root / "data" / f"{name}.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    labels = TRAIN_LABELS
    if worse:  # every label shifted to the next class: a model that is mostly wrong
        classes = sorted(set(labels))
        labels = [classes[(classes.index(y) + 1) % len(classes)] for y in labels]
    data.write_text(
        "".join(
            json.dumps({"text": r["text"], "label": y}) + "\n"
            for r, y in zip(TRAIN_RECORDS, labels, strict=True)
        )
    )
    config = TrainConfig(
        task=TASK,
        data=[data],
        output=root / "models" / name,
        model={"C": C},
        split="random",
        track=track,
    )
    predictor = TinyTextClassifier(C=C).fit(TRAIN_RECORDS, labels)
    model_dir = predictor.save(config.output)
    summary = LoadSummary()
    summary.rows_read[data.name] = len(labels) + 1
    summary.rows_used[data.name] = len(labels)
    summary.skip(data.name, len(labels) + 2, "text", "empty_text")
    summary.label_counts.update(labels)
    proba = predictor.predict_proba(EVAL_RECORDS)
    acc = accuracy(predictor, EVAL_RECORDS, EVAL_LABELS)
    report_dir = config.resolved_report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    png = report_dir / "confusion_matrix.png"
    _write_png(png, proba)
    (report_dir / "metrics.json").write_text(json.dumps({"accuracy": acc}))
    result = TrainResult(
        config=config,
        predictor=predictor,
        model_dir=model_dir,
        metrics={"accuracy": acc, "macro_f1": acc, "f1/tipe (lain)": 0.5},
        primary_metric="macro_f1",
        report_files={"confusion_matrix": png, "metrics": report_dir / "metrics.json"},
        data_summary=summary,
        data_fingerprint=data_fingerprint(
            [data], summary, n_train=len(labels), n_eval=len(EVAL_LABELS), n_duplicates=0
        ),
        eval_records=EVAL_RECORDS,
        eval_labels=EVAL_LABELS,
        split_kind="random",
    )
    started = time.perf_counter()
    result.tracking = log_training_run(config, result)
    result.seconds = time.perf_counter() - started
    return result


def _write_png(path: Path, proba: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(proba)
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project home with a fresh MLflow SQLite store; yields the home folder.

    Creating the schema of a new SQLite store takes ~10 s (MLflow's migrations), so the first
    module creates an empty template database and the others copy it.
    """
    home = tmp_path_factory.mktemp("home")
    template = tmp_path_factory.getbasetemp() / "mlflow-template.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("COLUMNS", "200")  # rich tables unwrapped in captured output
        if not template.exists():
            mp.setenv("LAPOR_TRIAGE_HOME", str(template.parent / "template-home"))
            from lapor_triage.training.tracking import get_client, local_store_uri

            get_client().search_experiments()
            shutil.copy(local_store_uri().removeprefix("sqlite:///"), template)
        (home / "mlflow").mkdir()
        shutil.copy(template, home / "mlflow" / "mlflow.db")
        mp.setenv("LAPOR_TRIAGE_HOME", str(home))
        yield home


# --- tests ----------------------------------------------------------------------------------------
def test_store_location_follows_home_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapor_triage.training import tracking

    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.project_root() == tmp_path.resolve()
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path.resolve()}/mlflow/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert tracking.tracking_uri() == "http://mlflow.example:5000"
    assert tracking.tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.delenv("LAPOR_TRIAGE_HOME")
    # an editable install resolves to the checkout holding pyproject.toml
    assert (tracking.project_root() / "pyproject.toml").is_file()


def test_telemetry_is_off_and_logging_quiet() -> None:
    import logging

    from lapor_triage.training import tracking

    tracking.quiet_mlflow()
    from mlflow.telemetry.client import get_telemetry_client

    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert get_telemetry_client() is None
    assert logging.getLogger("alembic").getEffectiveLevel() >= logging.WARNING


def test_names_and_params_are_accepted_by_mlflow() -> None:
    from mlflow.utils.validation import _validate_metric_name

    from lapor_triage.training.run_params import flatten_params, metric_key

    for raw in ["f1/Dinas PU (Kota) & Bina Marga", "f1/..", "recall/a//b", "/x", "ok/name"]:
        _validate_metric_name(metric_key(raw))
    flat = flatten_params({"model": {"C": 1.0, "ngram": [1, 2]}, "seed": 3, "data": ["a", "b"]})
    assert flat == {"model.C": "1.0", "model.ngram": "[1, 2]", "seed": "3", "data": '["a", "b"]'}


def test_run_logs_config_fingerprint_metrics_report_and_model(store: Path) -> None:
    from mlflow import MlflowClient

    from lapor_triage.training.tracking import tracking_uri

    result = train_and_log(store, "full")
    tracked = result.tracking
    print(f"logged run in {result.seconds:.2f} s")
    assert tracked is not None and tracked.model_version == 1
    assert tracked.model_name == "lapor-triage-report-type"
    assert (store / "mlflow" / "artifacts").is_dir()

    client = MlflowClient(tracking_uri())
    run = client.get_run(tracked.run_id)
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    assert params["config.task"] == TASK
    assert params["config.model.C"] == "10.0"
    assert params["config.seed"] == "42"
    fp = result.data_fingerprint
    assert params["data.combined_sha256"] == fp["combined_sha256"]
    assert params["data.rows_used"] == str(len(TRAIN_LABELS))
    assert params["data.skipped.empty_text"] == "1"
    assert tags["lapor_triage.task"] == TASK
    assert tags["lapor_triage.version"]
    assert len(tags.get("mlflow.source.git.commit", "")) == 40  # the repo is a git checkout
    assert metrics["macro_f1"] == pytest.approx(result.metrics["macro_f1"])
    assert metrics["primary"] == pytest.approx(result.metrics["macro_f1"])
    assert metrics["n_eval"] == len(EVAL_LABELS)
    assert "f1/tipe _lain_" in metrics

    def listing(path: str = "") -> set[str]:
        out = set()
        for f in client.list_artifacts(tracked.run_id, path):
            out |= listing(f.path) if f.is_dir else {f.path}
        return out

    files = listing()
    for expected in [
        "config/train_config.yaml",
        "data/fingerprint.json",
        "data/load_summary.txt",
        "eval/eval_split.jsonl",
        "report/confusion_matrix.png",
        "report/metrics.json",
    ]:
        assert expected in files, f"{expected} not among {sorted(files)}"
    local = Path(client.download_artifacts(tracked.run_id, "data/fingerprint.json"))
    assert json.loads(local.read_text())["files"][0]["sha256"] == fp["files"][0]["sha256"]
    cfg_yaml = Path(client.download_artifacts(tracked.run_id, "config/train_config.yaml"))
    assert (
        TrainConfig.model_validate(__import__("yaml").safe_load(cfg_yaml.read_text()))
        == result.config
    )

    mv = client.get_model_version("lapor-triage-report-type", "1")
    assert mv.run_id == tracked.run_id
    assert mv.tags["lapor_triage.primary_metric"] == "macro_f1"


def test_pyfunc_model_scores_a_dataframe_like_the_saved_folder(store: Path) -> None:
    import mlflow.pyfunc

    from lapor_triage.models.base import load_model
    from lapor_triage.models.pyfunc import PROBA_PREFIX

    result = train_and_log(store, "pyfunc")
    version = result.tracking.model_version
    model = mlflow.pyfunc.load_model(f"models:/lapor-triage-report-type/{version}")
    texts = [r["text"] for r in EVAL_RECORDS]
    out = model.predict(pd.DataFrame({"text": texts}))
    saved = load_model(result.model_dir)
    assert list(out.columns[:2]) == ["label", "probability"]
    assert list(out["label"]) == saved.predict(texts)
    proba = saved.predict_proba(texts)
    for j, c in enumerate(saved.classes_):
        np.testing.assert_allclose(out[PROBA_PREFIX + c], proba[:, j], atol=1e-6)
    np.testing.assert_allclose(out["probability"], proba.max(axis=1), atol=1e-6)
    # LAPOR! export columns work too, cleaned like the service cleans them
    raw = pd.DataFrame(
        {"judul": ["Lampu jalan mati"], "isi": ["<p>Yth. Dinas PU, sudah dua minggu gelap</p>"]}
    )
    from lapor_triage.text import report_text

    expected = saved.predict([report_text(raw["judul"][0], raw["isi"][0])])
    assert list(model.predict(raw)["label"]) == expected
    with pytest.raises(Exception, match="text"):
        model.predict(pd.DataFrame({"kecamatan": ["x"]}))
    sig = model.metadata.signature
    assert sig.inputs.input_names()[:3] == ["text", "judul", "isi"]
    assert "label" in sig.outputs.input_names()


def test_track_false_logs_nothing(store: Path) -> None:
    result = train_and_log(store, "untracked", track=False)
    assert result.tracking is None


def test_unwritable_store_raises_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapor_triage.training.tracking import TrackingError, log_training_run

    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")

    config = TrainConfig(task=TASK, data=[Path(__file__)], output=tmp_path / "m", track=True)
    predictor = TinyTextClassifier().fit(TRAIN_RECORDS, TRAIN_LABELS)
    res = TrainResult(
        config=config,
        predictor=predictor,
        model_dir=predictor.save(config.output),
        metrics={},
        primary_metric="macro_f1",
        report_files={},
        data_summary=LoadSummary(),
        data_fingerprint={},
    )
    bad = f"sqlite:///{blocker}/mlflow.db"
    with pytest.raises(TrackingError, match="model was saved to"):
        log_training_run(config, res, uri=bad)


def test_same_data_and_config_give_the_same_metrics_in_mlflow(store: Path, tmp_path: Path) -> None:
    """Seeded reproducibility end to end: two `run_training` calls on the demo data."""
    from lapor_triage.training.loop import run_training
    from lapor_triage.training.tracking import get_client
    from tests.conftest import DEMO_DIR

    data = DEMO_DIR / "reports.csv"
    assert data.is_file(), f"the demo data {data} belongs to the repository"
    runs = []
    for i in range(2):
        config = TrainConfig(
            task=TASK, data=[data], output=tmp_path / f"m{i}", seed=7, split="random"
        )
        runs.append(run_training(config).tracking)
    client = get_client()
    m0, m1 = (client.get_run(r.run_id).data.metrics for r in runs)
    assert m0 and m0 == m1
    assert runs[0].model_version != runs[1].model_version


@pytest.mark.postgres
def test_postgresql_backend_tracks_registers_and_promotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same flow on PostgreSQL (database `test`, a throw-away schema); skipped without a server."""
    psycopg = pytest.importorskip("psycopg")
    from lapor_triage.training import promotion, registry

    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    schema = f"lapor_mlflow_test_{os.getpid()}"
    try:
        with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at 127.0.0.1:5432 ({exc})")
    uri = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        good = train_and_log(tmp_path, "pg-good")
        worse = train_and_log(tmp_path, "pg-worse", worse=True)
        assert good.tracking.tracking_uri.startswith("postgresql+psycopg://")
        assert promotion.promote(TASK, good.tracking.model_version).promoted
        assert not promotion.promote(TASK, worse.tracking.model_version).promoted
        champion = registry.load_champion(TASK)
        texts = [r["text"] for r in EVAL_RECORDS]
        assert champion.predict(texts) == good.predictor.predict(texts)
        # artifacts of a direct database store stay under the project home, not ./mlruns
        assert (tmp_path / "mlflow" / "artifacts" / "lapor-triage-report-type").is_dir()
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
