"""``lapor-triage serve`` as a user runs it: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx

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
