"""``lapor-triage serve`` as a user runs it: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from lapor_triage.service.model_store import ModelLoadError
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(tmp_path, model_dirs, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(
        LAPOR_TRIAGE_HOME=str(tmp_path),
        LAPOR_REPORT_TYPE_MODEL_DIR=str(model_dirs["report-type"]),
        LAPOR_AGENCY_MODEL_DIR=str(model_dirs["agency"]),
        LAPOR_REPLY_QUALITY_MODEL_DIR=str(model_dirs["reply-quality"]),
        LAPOR_MODEL_SOURCE="local",
        **extra,
    )
    return env


def serve_workers(env: dict[str, str], port: int, workers: int = 2) -> subprocess.Popen:
    """``lapor-triage serve --workers N`` in a subprocess with its output discarded (the
    multi-worker tests read the server over HTTP only)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lapor_triage",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def test_serve_starts_prints_a_first_admin_key_and_answers(tmp_path, model_dirs):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lapor_triage", "serve", "--port", str(port)],
        cwd=ROOT,
        env=serve_env(tmp_path, model_dirs),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key, lines = None, []
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                lines.append(line)
                found = re.search(r"\b(lt_k[0-9a-f]+_\S+)", line)
                key = key or (found.group(1) if found else None)
                if "Uvicorn running on" in line or proc.poll() is not None:
                    break
            assert key, "".join(lines)
            assert c.get("/readyz").json()["status"] == "ready"
            r = c.post(
                "/v1/reports/triage",
                json={"reports": [{"id": "1", "isi": "Lampu PJU padam di Jalan Melati."}]},
                headers={"X-API-Key": key},
            )
            assert r.status_code == 200, r.text
        assert (tmp_path / "var" / "lapor.db").is_file()  # the embedded SQLite database
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def test_serve_refuses_default_secrets_in_production(tmp_path, model_dirs):
    result = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=serve_env(tmp_path, model_dirs, LAPOR_ENV="production"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "LAPOR_PEPPER" in result.stderr


def read_until(proc: subprocess.Popen, marker: str, seconds: float = 600) -> list[str]:
    """The lines ``proc`` printed up to and including the first that holds ``marker``."""
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in the output:\n" + "".join(lines))


def bare_env(tmp_path, **extra) -> dict[str, str]:
    """An empty LAPOR_TRIAGE_HOME and no LAPOR_* setting: what a newcomer has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "MLFLOW_"))}
    env.update(LAPOR_TRIAGE_HOME=str(tmp_path), **extra)
    return env


def start_serve(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lapor_triage", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)
    proc.stdout.close()


def test_first_serve_trains_the_defaults_registers_champions_and_says_when_it_serves(tmp_path):
    env = bare_env(tmp_path)
    port = free_port()
    proc = start_serve(env, port)
    try:
        lines = read_until(proc, "serving on")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            assert c.get("/readyz").status_code == 200
    finally:
        stop(proc)
    out = "".join(lines)
    progress = [line.strip() for line in lines if "training default" in line]
    assert progress == [
        "lapor-triage: training default report-type model from the demo data (1/3)...",
        "lapor-triage: training default agency model from the demo data (2/3)...",
        "lapor-triage: training default reply-quality model from the demo data (3/3)...",
    ], out
    for task in ("report-type", "agency", "reply-quality"):
        assert f"registered lapor-triage-{task} version 1 as champion" in out
    # "serving on" comes last, after the server started and answered /readyz with 200
    assert lines[-1].strip() == f"lapor-triage: serving on http://127.0.0.1:{port} (docs: /docs)"
    started = next(i for i, line in enumerate(lines) if "Application startup complete" in line)
    # The access-log line of that /readyz may come just after: the middleware writes it once the
    # response is sent, and the announcing thread can print first on a busy machine.
    assert started < len(lines) - 1
    assert "models:/lapor-triage-agency@champion" in out  # the service loaded the registry model

    listed = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "models"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("★ champion") == 3, listed.stdout

    # The second start trains nothing: the champions serve.
    port = free_port()
    proc = start_serve(env, port)
    try:
        again = "".join(read_until(proc, "serving on"))
    finally:
        stop(proc)
    assert "training default" not in again
    assert "models:/lapor-triage-report-type@champion" in again


def test_production_without_a_model_refuses_to_start_and_trains_nothing(tmp_path):
    env = bare_env(tmp_path, LAPOR_ENV="production", LAPOR_PEPPER="a-production-pepper-0123456789")
    result = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert (
        "refusing to start with LAPOR_ENV=production: no model is configured for report-type, "
        "agency, reply-quality" in result.stderr
    )
    assert "LAPOR_AGENCY_MODEL_DIR" in result.stderr and "lapor-triage promote" in result.stderr
    assert "training default" not in result.stderr
    assert not (tmp_path / "var" / "models").exists()


def test_production_with_models_configured_starts(tmp_path, model_dirs):
    env = serve_env(
        tmp_path, model_dirs, LAPOR_ENV="production", LAPOR_PEPPER="a-production-pepper-01234567"
    )
    # Production never migrates by itself: the operator runs `db upgrade` first (service/README.md).
    upgraded = subprocess.run(
        [sys.executable, "-m", "lapor_triage", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    port = free_port()
    proc = start_serve(env, port)
    try:
        out = "".join(read_until(proc, "serving on"))
    finally:
        stop(proc)
    assert "refusing" not in out and "training default" not in out


def test_the_service_never_loads_default_models_in_production(tmp_path, model_dirs, monkeypatch):
    """A default model folder left by a development run is not served in production."""
    import shutil

    from lapor_triage.paths import default_model_dir
    from lapor_triage.service.model_store import ModelStore, default_model_folder
    from lapor_triage.service.settings import Settings

    monkeypatch.setenv("LAPOR_TRIAGE_HOME", str(tmp_path))
    for name in os.environ:
        if name.startswith("LAPOR_") and name != "LAPOR_TRIAGE_HOME":
            monkeypatch.delenv(name)
    shutil.copytree(model_dirs["agency"], default_model_dir("agency"))
    (default_model_dir("agency") / "training.json").write_text('{"task": "agency"}')

    development = Settings(env="development", model_source="local")
    assert default_model_folder(development, "agency") == default_model_dir("agency")
    loaded = ModelStore(development, tasks=("agency",)).reload().get("agency")
    assert loaded.source == str(default_model_dir("agency"))

    production = Settings(env="production", model_source="local")
    assert default_model_folder(production, "agency") is None
    store = ModelStore(production, tasks=("agency",))
    with pytest.raises(ModelLoadError, match="no model is configured"):
        store.reload()
