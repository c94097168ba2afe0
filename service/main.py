"""The FastAPI application: ``create_app(settings)`` wires settings, database, keys, models,
metrics, error handlers and the routers. Run it with ``lapor-triage serve``."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from lapor_triage import __version__
from lapor_triage.service.auth import KeyStore
from lapor_triage.service.batcher import TriageBatcher
from lapor_triage.service.cluster import ReloadCoordinator
from lapor_triage.service.console.router import install as install_console
from lapor_triage.service.db import Database
from lapor_triage.service.deps import AppState
from lapor_triage.service.docs import install_docs
from lapor_triage.service.errors import install_error_handlers
from lapor_triage.service.logs import configure_logging
from lapor_triage.service.metrics import ServiceMetrics
from lapor_triage.service.middleware import ObserveMiddleware
from lapor_triage.service.model_store import ModelLoadError, ModelStore
from lapor_triage.service.ratelimit import AuthFailureLimiter
from lapor_triage.service.routers import admin, feedback, health, metrics, models, replies, reports
from lapor_triage.service.settings import DEFAULT_PEPPER, Settings

log = logging.getLogger(__name__)

DESCRIPTION = """\
Machine learning for **SP4N-LAPOR!**: the report type and a ranked list of agencies (instansi) for
each report, with abstain when unsure; a check whether an agency's follow-up (tindak lanjut) is
*normatif* or *substantif*; admins' decisions stored as training data.

Authenticate with an API key in the `X-API-Key` header (or `Authorization: Bearer`); create one
with `lapor-triage keys create --role ROLE`. Roles: `admin_pusat` (triage, feedback),
`admin_instansi` (reply checks and feedback for its own agency), `data_scientist` (models, feedback
export), `admin` (everything, incl. keys and reloads).
"""


def create_app(settings: Settings | None = None, *, load_models: bool = True) -> FastAPI:
    settings = settings or Settings()
    settings.check_secrets()
    configure_logging(settings.log_level)
    if settings.pepper.get_secret_value() == DEFAULT_PEPPER:
        log.warning("using the development pepper for API keys: set LAPOR_PEPPER in production")

    db = Database.from_settings(settings)
    db.prepare(upgrade=settings.env != "production")
    bootstrap = settings.bootstrap_admin_key
    keys = KeyStore(
        db,
        settings.pepper.get_secret_value(),
        cache_seconds=settings.key_cache_seconds,
        bootstrap_key=bootstrap.get_secret_value() if bootstrap else None,
    )
    service_metrics = ServiceMetrics()
    store = ModelStore(settings)
    coordinator = ReloadCoordinator(db, store, poll_seconds=settings.reload_poll_seconds)

    def on_reload(ok: bool) -> None:
        service_metrics.reloads.inc(1, "ok" if ok else "failed")
        coordinator.record_quietly()  # what this worker now serves, for /readyz on any worker

    store.on_reload = on_reload
    batcher = TriageBatcher(
        max_reports=max(512, settings.max_batch),
        on_batch=service_metrics.model_batch_size.observe,
        slice_chars=settings.triage_slice_chars,
    )
    state = AppState(
        settings=settings,
        db=db,
        keys=keys,
        store=store,
        metrics=service_metrics,
        batcher=batcher,
        coordinator=coordinator,
        auth_limiter=AuthFailureLimiter(settings.auth_failure_limit, settings.auth_failure_storage),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(coordinator.prime)  # reloads requested so far: covered below
        if load_models and store.current.generation == 0:
            try:
                await run_in_threadpool(store.reload)
            except ModelLoadError:
                log.error("starting without models: /readyz reports not_ready")
        store.start_polling()
        await run_in_threadpool(coordinator.start)
        batcher.start()
        try:
            yield
        finally:
            batcher.stop()
            await run_in_threadpool(coordinator.stop)
            store.stop_polling()
            db.dispose()

    app = FastAPI(
        title="lapor-triage",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from local assets (works offline)
        redoc_url=None,  # served below too, from local assets
        openapi_tags=[
            {"name": "reports", "description": "Triase laporan: jenis dan instansi tujuan"},
            {"name": "replies", "description": "Mutu tindak lanjut: normatif atau substantif"},
            {"name": "feedback", "description": "Keputusan admin sebagai data pelatihan"},
            {"name": "models", "description": "Model yang dipakai"},
            {"name": "admin", "description": "Kunci API dan muat ulang model"},
            {"name": "health", "description": "Kesehatan layanan dan metrik"},
        ],
    )
    app.state.lapor = state
    install_docs(app)
    install_error_handlers(app)
    for module in (reports, replies, feedback, models, admin, health, metrics):
        app.include_router(module.router)
    install_console(app)  # the admin console at /console
    app.add_middleware(
        ObserveMiddleware, metrics=service_metrics, max_body_bytes=settings.max_body_bytes
    )
    return app
