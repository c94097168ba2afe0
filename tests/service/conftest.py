"""Session fixtures: tiny real models, and the service running under uvicorn on a free loopback
port with a real SQLite database (and, where a server answers, a second one on PostgreSQL)."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from lapor_triage.service.main import create_app
from lapor_triage.service.settings import Settings
from tests.service.tiny_models import train_tiny_models

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AGENCY = "Dinas Perhubungan"
OTHER_AGENCY = "Dinas Kesehatan"
TEST_PEPPER = "test-pepper-0123456789abcdef"


@dataclass
class Live:
    """A running service: its URL, the app (for its state) and one key per role."""

    url: str
    app: object
    keys: dict[str, str]
    log_file: Path
    server: uvicorn.Server
    thread: threading.Thread
    extra: dict = field(default_factory=dict)

    @property
    def state(self):
        return self.app.state.lapor

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def make_settings(model_dirs: dict[str, Path], database_url: str, **overrides) -> Settings:
    values = dict(
        env="test",
        database_url=database_url,
        model_source="local",
        report_type_model_dir=model_dirs["report-type"],
        agency_model_dir=model_dirs["agency"],
        reply_quality_model_dir=model_dirs["reply-quality"],
        train_default_models=False,
        pepper=TEST_PEPPER,
        key_cache_seconds=0.0,
        max_body_bytes=4_000_000,
        mlflow_poll_seconds=0.0,
        # the session's servers answer many tests (and the fuzzer) from one address: the
        # failed-authentication limit is tested on a server of its own
        auth_failure_limit="100000/minute",
    )
    values.update(overrides)
    return Settings(**values)


def launch(settings: Settings, log_file: Path) -> Live:
    app = create_app(settings)
    keys = app.state.lapor.keys
    made = {
        "admin": keys.create("admin", name="test admin").key,
        "pusat": keys.create("admin_pusat", name="admin pusat").key,
        "ds": keys.create("data_scientist", name="data scientist").key,
        "instansi": keys.create("admin_instansi", agency=AGENCY, name="dishub").key,
        "instansi_other": keys.create("admin_instansi", agency=OTHER_AGENCY, name="dinkes").key,
    }
    server, thread, url = start_server(app)
    return Live(url, app, made, log_file, server, thread)


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory) -> dict[str, Path]:
    return train_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def service_log(tmp_path_factory) -> Path:
    """Everything logged during the session goes (also) to this file, for the PII scan."""
    path = tmp_path_factory.mktemp("logs") / "service.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield path
    root.removeHandler(handler)
    handler.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory, model_dirs, service_log) -> Live:
    home = tmp_path_factory.mktemp("service-home")
    db_path = home / "var" / "lapor.db"
    settings = make_settings(model_dirs, f"sqlite:///{db_path}")
    running = launch(settings, service_log)
    running.extra["db_path"] = db_path
    yield running
    running.stop()


@pytest.fixture(scope="session")
def live_two_levels(tmp_path_factory, model_dirs, service_log) -> Live:
    """The service with a disposition model and the unit models of Surabaya and Kab. Bandung
    (tiny, trained on self-written examples: ``tiny_models``)."""
    from tests.service.tiny_models import train_tiny_disposition, train_tiny_unit_models

    root = tmp_path_factory.mktemp("two-levels")
    settings = make_settings(
        model_dirs,
        f"sqlite:///{root / 'lapor.db'}",
        disposition_model_dir=train_tiny_disposition(root),
        unit_models={k: str(v) for k, v in train_tiny_unit_models(root).items()},
    )
    running = launch(settings, service_log)
    yield running
    running.stop()


def postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ):
            return None
    except Exception as exc:  # no server, no driver, no database
        return f"PostgreSQL at 127.0.0.1:5432/test does not answer ({type(exc).__name__}: {exc})"


@pytest.fixture(scope="session")
def live_pg(model_dirs, service_log) -> Live:
    """The same service on PostgreSQL, its tables in a unique schema dropped afterwards."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    schema = f"lapor_test_{uuid.uuid4().hex[:10]}"
    settings = make_settings(model_dirs, PG_URL, database_schema=schema)
    running = launch(settings, service_log)
    running.extra["schema"] = schema
    yield running
    running.stop()
    running.state.db.drop_all()
    running.state.db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> Live:
    """Runs a test once on the SQLite service and once on the PostgreSQL service."""
    return request.getfixturevalue("live" if request.param == "sqlite" else "live_pg")


@pytest.fixture()
def client(live) -> httpx.Client:
    with live.client() as c:
        yield c
