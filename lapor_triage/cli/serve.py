"""``lapor-triage serve``: run the HTTP service (uvicorn) on the embedded default.

With no configuration it uses SQLite under ``<home>/var`` and the embedded MLflow store. A task
with no model configured gets a default model trained from ``datasets/demo`` here, BEFORE the
server starts, with one progress line per model; each is registered in the MLflow store and made
``champion`` when there is none (``training.defaults``). The service only loads models.
``serving on http://…`` is printed once the server answers ``/readyz`` with 200.
``LAPOR_ENV=production`` with a task that has no model configured refuses to start: the default
models are trained on synthetic demo data. All settings: ``LAPOR_*`` environment variables (see
``service/settings.py``).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lapor_triage.cli.common import add_command, fail

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "serve",
        help="run the HTTP service",
        description="Run the lapor-triage HTTP API (OpenAPI docs at /docs). Settings come from "
        "LAPOR_* environment variables or a .env file.",
        func=run,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; models load in each; 2 on a 2-core machine)",
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from lapor_triage.service.settings import InsecureSettingsError, Settings

    settings = Settings()
    try:
        settings.check_secrets()
    except InsecureSettingsError as exc:
        return fail("serve", exc)
    refused = prepare_models(settings)
    if refused:
        return fail("serve", refused)
    _development_admin_key(settings)
    common = dict(
        host=args.host,
        port=args.port,
        access_log=False,  # the service writes its own (masked) access log
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
    announce_when_ready(args.host, args.port)
    if args.workers > 1:
        prometheus_multiprocess_dir(settings.home / "var", args.port)
        if hasattr(socket, "SO_REUSEPORT"):
            return serve_workers(args.workers, common)
        uvicorn.run(
            "lapor_triage.service.main:create_app", factory=True, workers=args.workers, **common
        )
    else:
        from lapor_triage.service.main import create_app

        uvicorn.run(create_app(settings), **common)
    return 0


def prepare_models(settings: Any) -> str | None:
    """Make sure every task has a model to load before the server starts; return why not to start.

    Tasks with no model configured (``service.model_store.unconfigured_tasks``) get the default
    model trained from the demo data, registered and made champion (``training.defaults``), with
    a progress line per model on stderr. In production nothing is trained: the answer is the
    refusal message naming the tasks without a model.
    """
    from lapor_triage.registry_client import CHAMPION, redact_uri, tracking_uri
    from lapor_triage.service.model_store import unconfigured_tasks

    if settings.model_source != "local":  # the first look creates the embedded store: seconds
        _say(f"looking for the models to serve (MLflow store {redact_uri(tracking_uri())})...")
    missing = unconfigured_tasks(settings)
    if not missing:
        return None
    if settings.env == "production":
        envs = ", ".join(f"LAPOR_{t.upper().replace('-', '_')}_MODEL_DIR" for t in missing)
        return (
            f"refusing to start with LAPOR_ENV=production: no model is configured for "
            f"{', '.join(missing)}. Set {envs}, or register a model and promote it "
            f"(`lapor-triage train ...`, then `lapor-triage promote TASK VERSION`) so that the "
            f"MLflow alias {settings.mlflow_alias!r} points at it. The default models are trained "
            f"on the synthetic demo data and are never served in production."
        )
    if not settings.train_default_models or (
        settings.model_source == "mlflow" and settings.mlflow_alias != CHAMPION
    ):
        print(
            f"lapor-triage: warning: no model for {', '.join(missing)}; /readyz answers 503 "
            "until one is configured",
            file=sys.stderr,
        )
        return None
    from lapor_triage.training.defaults import ensure_default_models

    ensure_default_models(tasks=tuple(missing), progress=_say)
    return None


def announce_when_ready(
    host: str, port: int, poll_seconds: float = 0.25, patience_seconds: float = 60.0
) -> threading.Thread:
    """Print ``serving on http://…`` once ``/readyz`` answers 200, from a background thread.

    When the server answers but stays not ready for ``patience_seconds``, say so once (with the
    answer) rather than leave the console silent.
    """
    shown = f"[{host}]" if ":" in host else host
    ask = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, shown)
    url = f"http://{ask}:{port}/readyz"

    def watch() -> None:
        import httpx

        logging.getLogger("httpx").setLevel(logging.WARNING)  # no log line per poll
        first_answer: float | None = None
        complained = False
        while True:
            try:
                response = httpx.get(url, timeout=5)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                _say(f"serving on http://{shown}:{port} (docs: /docs)")
                return
            if response is not None:
                first_answer = first_answer or time.monotonic()
                if not complained and time.monotonic() - first_answer > patience_seconds:
                    complained = True
                    _say(
                        f"the server answers but is not ready ({response.status_code}: "
                        f"{response.text[:300]}); see the log above"
                    )
            time.sleep(poll_seconds)

    thread = threading.Thread(target=watch, name="lapor-triage-ready", daemon=True)
    thread.start()
    return thread


def _say(line: str) -> None:
    print(f"lapor-triage: {line}", file=sys.stderr, flush=True)


def serve_workers(n: int, common: dict[str, Any]) -> int:
    """Run ``n`` worker processes, each with its own listening socket on the same port
    (``SO_REUSEPORT``), and restart a worker that dies.

    uvicorn's own ``--workers`` shares one socket between the processes, and whichever wakes
    first accepts a burst of new connections: with keep-alive clients one worker ended up with
    40 of 50 connections while the other idled (measured). With a socket per process the kernel
    spreads connections over the workers evenly. Reloads reach every worker through the database
    (``service.cluster``).
    """
    host, port = common["host"], common["port"]
    _listening_socket(host, port).close()  # fail here, once, when the port is taken
    ctx = multiprocessing.get_context("spawn")

    def spawn() -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(target=_worker_main, args=(common,), name="lapor-triage-worker")
        proc.start()
        started[proc.pid] = time.monotonic()
        return proc

    started: dict[int | None, float] = {}
    workers = [spawn() for _ in range(n)]
    stopping = False
    quick_exits = 0

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            multiprocessing.connection.wait([w.sentinel for w in workers], timeout=0.5)
            for i, worker in enumerate(workers):
                if worker.is_alive() or stopping:
                    continue
                lived = time.monotonic() - started.pop(worker.pid, 0.0)
                _metrics_process_dead(worker.pid)
                quick_exits = quick_exits + 1 if lived < 10 else 0
                if quick_exits >= 3:
                    print("lapor-triage serve: workers keep failing at start; stopping",
                          file=sys.stderr)  # fmt: skip
                    return 1
                print(f"lapor-triage serve: worker {worker.pid} exited ({worker.exitcode}); "
                      "starting another", file=sys.stderr)  # fmt: skip
                workers[i] = spawn()
        return 0
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn shuts down gracefully
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
            _metrics_process_dead(worker.pid)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def prometheus_multiprocess_dir(var_dir: Path, port: int) -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the workers start, so that
    prometheus_client keeps their metric values in files there and one ``/metrics`` scrape on any
    worker sums all of them (``service.metrics``); returns the folder.

    The folder is ``<var>/prometheus/<port>`` (one per service on this home), emptied here so
    the counts of an earlier run do not come back; a folder given in ``PROMETHEUS_MULTIPROC_DIR``
    already is kept, only its values files (``*.db``) removed. Kept apart from the start-up flow
    above on purpose: one call before the workers start, and ``_metrics_process_dead`` when one
    exits.
    """
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = var_dir / "prometheus" / str(port)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _metrics_process_dead(pid: int | None) -> None:
    """Tell prometheus_client a worker exited (drops its live gauges; its counts stay)."""
    if pid is None or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker_main(common: dict[str, Any]) -> None:  # pragma: no cover - runs in a worker process
    import uvicorn

    sock = _listening_socket(common["host"], common["port"])
    config = uvicorn.Config("lapor_triage.service.main:create_app", factory=True, **common)
    uvicorn.Server(config).run(sockets=[sock])


def _development_admin_key(settings) -> None:
    """In development, print a fresh admin key when there is no way to log in yet."""
    if settings.env != "development" or settings.bootstrap_admin_key is not None:
        return
    from lapor_triage.service.auth import KeyStore, Role
    from lapor_triage.service.db import Database

    db = Database.from_settings(settings)
    db.create_all()
    keys = KeyStore(db, settings.pepper.get_secret_value())
    if keys.has_admin():
        return
    created = keys.create(Role.admin, name="first admin (created by serve)")
    print(
        "lapor-triage: no admin key existed; created one (shown only now):\n"
        f"  {created.key}\n"
        "  create more with: lapor-triage keys create --role ROLE [--agency A]",
        file=sys.stderr,
    )
    db.dispose()
