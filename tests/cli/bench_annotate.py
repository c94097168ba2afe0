"""How long ``lapor-triage annotate`` takes for a 1,594-row LAPOR! export, the whole command (a
fresh process: interpreter start, imports, reading the export, loading the models, predicting,
writing the workbook), and how long loading the models takes from ``model.pkl`` against the
``model.joblib`` of folders saved before it.

    python -m tests.cli.bench_annotate [--export ../shared/data/lapor_export_kab_bandung_2021_2024.xlsx]
        [--runs 5] [--disposition ../shared/data/lapor_national_posts_2017.csv]

The export is Kab. Bandung's real one (1,594 reports) when it is there, else the demo export
(``datasets/demo/reports.csv``, 502 reports) repeated with new Tracking IDs up to 1,594 rows and
saved as .xlsx. The report-type and agency models are trained here on that export
(``lapor-triage train --no-track``); ``--disposition`` adds a disposition model trained on the
national posts. Prints wall time (median and min of ``--runs``) and the CPU time of the child
process (user + system: less disturbed by other processes on a shared machine), with the
command's own stage line of the median run. Asserts nothing (speed figures are not tests).
"""

from __future__ import annotations

import argparse
import csv
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
KAB_BANDUNG = SHARED / "lapor_export_kab_bandung_2021_2024.xlsx"
DEMO = ROOT / "datasets" / "demo" / "reports.csv"
ROWS = 1594
EXE = [sys.executable, "-c", "import sys; from lapor_triage.cli import main; sys.exit(main())"]


def demo_export(out: Path, rows: int = ROWS) -> Path:
    """The demo export repeated (new Tracking IDs) up to ``rows`` reports, as .xlsx."""
    import openpyxl

    lines = list(csv.reader(DEMO.open(encoding="utf-8", newline="")))
    at = next(i for i, r in enumerate(lines) if r and r[0] == "Tracking ID")
    body = lines[at + 1 :]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Laporan Ringkas")
    for r in lines[: at + 1]:
        ws.append(r)
    for i in range(rows):
        r = list(body[i % len(body)])
        r[0] = f"{r[0]}-{i // len(body)}"
        ws.append(r)
    wb.save(out)
    return out


def cli(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, child CPU s, stderr) of one ``lapor-triage`` command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"lapor-triage {args[0]} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def train(task: str, data: Path, out: Path, env: dict[str, str]) -> Path:
    cli(["train", "--task", task, "--data", str(data), "--output", str(out), "--no-track"], env)
    return out


def load_seconds(folder: Path, runs: int = 3) -> tuple[float, float]:
    """Seconds to read the state of ``folder`` (min of ``runs``) from model.pkl and from the same
    state written as a compressed model.joblib (the format before), in this process."""
    import joblib

    with (folder / "model.pkl").open("rb") as fh:
        state = pickle.load(fh)
    legacy = folder.parent / f"{folder.name}.joblib"
    joblib.dump(state, legacy, compress=3)
    out = []
    for load in (
        lambda: pickle.load((folder / "model.pkl").open("rb")),
        lambda: joblib.load(legacy),
    ):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            load()
            times.append(time.perf_counter() - t)
        out.append(min(times))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export", type=Path, default=KAB_BANDUNG)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--disposition", type=Path, help="national posts: add a disposition model")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-annotate-") as tmp:
        tmp_path = Path(tmp)
        env = {
            **os.environ,
            "LAPOR_TRIAGE_HOME": str(tmp_path / "home"),
            "LAPOR_MODEL_SOURCE": "local",
        }
        export = args.export if args.export.is_file() else demo_export(tmp_path / "demo.xlsx")
        print(f"export: {export} ({'real' if export == args.export else 'demo, repeated'})")
        for task in ("report-type", "agency"):
            folder = train(task, export, tmp_path / task, env)
            env[f"LAPOR_{task.upper().replace('-', '_')}_MODEL_DIR"] = str(folder)
            pkl, old = load_seconds(folder)
            print(f"{task}: state load {pkl * 1000:.0f} ms from model.pkl, "
                  f"{old * 1000:.0f} ms from model.joblib (before)")  # fmt: skip
        if args.disposition:
            folder = train("disposition", args.disposition, tmp_path / "disposition", env)
            env["LAPOR_DISPOSITION_MODEL_DIR"] = str(folder)
            print(f"disposition model: trained on {args.disposition}")
        out = tmp_path / "annotated.xlsx"
        cmd = ["annotate", "--input", str(export), "--output", str(out)]
        runs = [cli(cmd, env) for _ in range(args.runs)]
        walls = [w for w, _, _ in runs]
        median_run = sorted(runs)[len(runs) // 2]
        stages = [line for line in median_run[2].splitlines() if "reports annotated" in line]
        print(
            f"lapor-triage annotate, whole command, {args.runs} runs: "
            f"median {statistics.median(walls):.2f} s, min {min(walls):.2f} s wall; "
            f"CPU median {statistics.median(c for _, c, _ in runs):.2f} s (target: under 5 s)"
        )
        print("median run: " + (stages[0].split("-> ")[0] + stages[0].split(")", 1)[-1]))


if __name__ == "__main__":
    main()
