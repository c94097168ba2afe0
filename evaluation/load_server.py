"""``lapor-triage serve`` started for the load test: a free loopback port, a throw-away database
and a bootstrap admin key."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the served subprocess's working folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    workers: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int, str]:
    """``lapor-triage serve`` on a free port with a throw-away database and a bootstrap key;
    ``extra_env`` adds settings (``LAPOR_DISPOSITION_MODEL_DIR``, ...)."""
    port = free_port()
    key = f"lt_loadtest_{secrets.token_urlsafe(24)}"
    env = dict(os.environ)
    env.update(
        LAPOR_ENV="development",
        LAPOR_BOOTSTRAP_ADMIN_KEY=key,
        LAPOR_DATABASE_URL=f"sqlite:///{log_path.parent / 'loadtest.db'}",
    )
    env.update(extra_env or {})
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lapor_triage",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 900  # the first run trains the default models
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited ({proc.returncode}); see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        raise SystemExit(f"the service did not start; see {log_path}")
    return proc, port, key
