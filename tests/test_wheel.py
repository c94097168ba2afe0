"""The wheel as a user installs it: built from the project, installed in a fresh venv, run from a
folder outside the repository (issue 10, part 2).

The fresh venv gets only the wheel (``pip install --no-deps``); its dependencies come from this
test run's own site-packages through a ``.pth`` line, which adds that folder to ``sys.path``
without running the ``.pth`` files inside it, so the project's editable install (an import hook
installed by ``__editable__.lapor_triage-*.pth``) stays out. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

TOP_LEVEL_FOLDERS = ("models", "training", "evaluation", "service", "datasets")
# What a checkout holds besides the project's sources (never part of a build).
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
    ".ruff_cache", ".benchmarks", "var", "reports", "mlruns", "artifacts", "mlflow.db",
)  # fmt: skip


def _site_packages() -> list[str]:
    return sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of our settings, no PYTHONPATH into the repo."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAPOR_", "MLFLOW_", "PYTHON", "VIRTUAL_ENV", "PYSPARK_"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The wheel (built from a copy of the sources, so no build/ lands in the checkout) and a
    fresh venv with only that wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCES)
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(src)],
        check=True, capture_output=True, text=True, env=_clean_env(),
    )  # fmt: skip
    wheels = list(dist.glob("lapor_triage-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheels[0])],
        check=True, capture_output=True, text=True, env=_clean_env(),
    )  # fmt: skip
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True, env=_clean_env(),
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "zz_test_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in _site_packages()), encoding="utf-8"
    )
    outside = base / "elsewhere"  # the user's working folder: not the repository
    outside.mkdir()
    return {
        "wheel": wheels[0],
        "venv": env_dir,
        "python": python,
        "purelib": Path(purelib),
        "cwd": outside,
        "xdg": base / "xdg",
    }


def run_in_venv(built: dict[str, Path], code: str) -> dict:
    """Run ``code`` with the fresh venv's python in a folder outside the repo; its last stdout
    line is JSON."""
    result = subprocess.run(
        [str(built["python"]), "-c", code],
        cwd=built["cwd"],
        env=_clean_env(XDG_DATA_HOME=str(built["xdg"])),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_wheel_holds_one_namespace_and_its_data(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        top_level = wheel.read(
            next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        ).decode()
    roots = {n.split("/", 1)[0] for n in names}
    assert {r for r in roots if not r.endswith(".dist-info")} == {"lapor_triage"}, roots
    assert top_level.split() == ["lapor_triage"]
    for folder in TOP_LEVEL_FOLDERS:
        assert not any(n.startswith(f"{folder}/") for n in names), folder
        assert any(n.startswith(f"lapor_triage/{folder}/") for n in names), folder
    for data in ("demo/reports.csv", "demo/replies.jsonl", "challenge/reply_challenge.jsonl"):
        assert f"lapor_triage/datasets/{data}" in names, data
    schemas = {n for n in names if re.fullmatch(r"lapor_triage/datasets/schemas/.+\.json", n)}
    shipped = {f"lapor_triage/datasets/schemas/{p.name}" for p in (ROOT / "datasets" / "schemas").glob("*.json")}  # fmt: skip
    assert schemas == shipped and schemas


def test_installed_wheel_has_no_top_level_folders_and_finds_its_data(built):
    code = f"""
import importlib.metadata, importlib.util, json, sys
found = {{m: importlib.util.find_spec(m) is not None for m in {TOP_LEVEL_FOLDERS!r}}}
import lapor_triage, lapor_triage.models.pyfunc, lapor_triage.service.main
from lapor_triage import paths
data = paths.datasets_dir()
schemas = sorted(p.name for p in (data / "schemas").glob("*.json"))
for name in schemas:
    json.loads((data / "schemas" / name).read_text(encoding="utf-8"))
print(json.dumps({{
    "top_level": found,
    "package": lapor_triage.__file__,
    "dist": str(importlib.metadata.distribution("lapor-triage").locate_file("")),
    "editable": sorted(m for m in sys.modules if "editable" in m),
    "datasets": str(data),
    "demo": sorted(p.name for p in (data / "demo").iterdir()),
    "schemas": schemas,
    "home": str(paths.home()),
    "checkout": paths.in_source_checkout(),
}}))
"""
    out = run_in_venv(built, code)
    assert out["top_level"] == dict.fromkeys(TOP_LEVEL_FOLDERS, False)
    purelib = str(built["purelib"])
    assert out["package"].startswith(purelib), out["package"]  # the wheel, not the checkout
    assert out["dist"].startswith(purelib) and not out["editable"]
    assert out["datasets"] == str(built["purelib"] / "lapor_triage" / "datasets")
    assert {"reports.csv", "replies.jsonl"} <= set(out["demo"])
    assert out["schemas"] == sorted(p.name for p in (ROOT / "datasets" / "schemas").glob("*.json"))
    # Outside a checkout, state goes to the XDG data folder, never beside the installed code.
    assert not out["checkout"]
    assert out["home"] == str(built["xdg"] / "lapor-triage")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _files(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.slow
def test_serve_from_the_wheel_trains_the_defaults_from_packaged_data_and_triages(built, tmp_path):
    home = tmp_path / "home"  # an empty LAPOR_TRIAGE_HOME
    home.mkdir()
    before = _files(built["purelib"])
    port = _free_port()
    console = tmp_path / "console.log"
    with console.open("w") as out:
        proc = subprocess.Popen(
            [str(built["venv"] / "bin" / "lapor-triage"), "serve", "--port", str(port)],
            cwd=built["cwd"],
            env=_clean_env(LAPOR_TRIAGE_HOME=str(home), XDG_DATA_HOME=str(built["xdg"])),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = None
        deadline = time.monotonic() + 600  # first run: three default models are trained
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    ready = client.get("/readyz")
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(1)
            log = console.read_text(encoding="utf-8", errors="replace")
            assert ready is not None and ready.status_code == 200, log
            key = re.search(r"\b(lt_k[0-9a-f]+_\S+)", log)
            assert key, log
            r = client.post(
                "/v1/reports/triage",
                json={"reports": [{"id": "1", "isi": "Lampu PJU padam di Jalan Melati."}]},
                headers={"X-API-Key": key.group(1)},
            )
            assert r.status_code == 200, r.text
            result = r.json()["results"][0]
            assert result["report_type"]["label"] in {
                "pengaduan",
                "aspirasi",
                "permintaan_informasi",
            }
            assert result["agency"]["top_k"], result
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    packaged = built["purelib"] / "lapor_triage" / "datasets" / "demo"
    assert str(packaged) in log  # trained from the wheel's own demo data (the loader logs its path)
    for task in ("report-type", "agency", "reply-quality"):
        assert (home / "var" / "models" / task / "config.json").is_file(), task
    assert (home / "var" / "lapor.db").is_file() and (home / "mlflow" / "mlflow.db").is_file()
    assert _files(built["purelib"]) == before  # nothing written beside the installed code
    assert not (built["xdg"] / "lapor-triage").exists()  # LAPOR_TRIAGE_HOME wins over XDG


def test_only_lapor_triage_paths_finds_folders_from_where_the_code_lies():
    """In a wheel the code lies in site-packages: a folder found from ``__file__`` (the
    ``parents[1]`` of a module) is no project root there, and output written under it lands
    beside the installed code. ``lapor_triage.paths`` is the one place that decides."""
    allowed = {
        "lapor_triage/paths.py",
        "training/tracking.py",  # the git commit of the code itself, logged with a run
        "evaluation/load_server.py",  # only the working folder of the served subprocess
        "service/migrations/__init__.py",  # its own folder: the migration scripts (package data)
        "service/console/web.py",  # its own folder: the templates and static files (package data)
    }
    offenders = []
    for folder in ("lapor_triage", "models", "training", "evaluation", "service"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            source = path.read_text(encoding="utf-8")
            if rel not in allowed and re.search(r"Path\(__file__\)\S*\.parents?\b", source):
                offenders.append(rel)
    assert not offenders, offenders
