"""Reloads that reach every worker process.

With ``lapor-triage serve --workers N`` each worker process holds its own models, and
``POST /v1/admin/reload`` is answered by one of them. So the reload is also *recorded* in the
shared database (table ``model_reloads``: one row per request, its id rising), and every worker
checks the highest id at most once per ``LAPOR_RELOAD_POLL_SECONDS`` (default 1 s: one small
``SELECT max(id)`` per worker per second, in a background thread, never on the request path).
A worker that sees an id it has not acted on reloads its models itself, with the same atomic swap
as the answering worker (``ModelStore.reload``). The same holds for several instances of the
service on one database.

The answering worker reloads at once and answers with *its own* outcome (200, or 409 with the
error); the others follow within about one poll interval. Each worker keeps a row in
``worker_status`` (what it has loaded, the last reload id it acted on, whether that reload
failed, a heartbeat every few seconds). ``/readyz`` on any worker lists the live workers and
says ``degraded`` when any of them failed its last reload; a worker whose heartbeat is older than
``stale_seconds`` is taken to be gone and is not listed.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, select

from lapor_triage.service.db import Database, masked
from lapor_triage.service.model_store import ModelLoadError, ModelStore
from lapor_triage.service.tables import ModelReload, WorkerStatus

log = logging.getLogger(__name__)


class ReloadCoordinator:
    """Shares reload requests between worker processes through the database."""

    def __init__(
        self,
        db: Database,
        store: ModelStore,
        *,
        poll_seconds: float = 1.0,
        heartbeat_seconds: float = 5.0,
        stale_seconds: float = 30.0,
    ):
        self.db = db
        self.store = store
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_seconds = max(stale_seconds, 3 * heartbeat_seconds)
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.worker_id = f"{self.host}:{self.pid}:{secrets.token_hex(3)}"
        self._stored_id = masked(self.worker_id)  # as rows store it (masked like every text)
        self.seen = 0  # the highest reload id this worker has acted on
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.poll_seconds > 0

    # --- reload requests -----------------------------------------------------------------------
    def latest(self) -> int:
        """The id of the newest reload request (0: none yet)."""
        with self.db.session() as session:
            return int(session.scalar(select(func.max(ModelReload.id))) or 0)

    def prime(self) -> None:
        """Call before the first model load: the reloads requested so far are covered by it."""
        if self.enabled:
            self.seen = self.latest()

    def request(self, key_id: str) -> int:
        """Record a reload request for every worker; the caller then reloads its own models."""

        def _add(session) -> int:
            row = ModelReload(requested_by=self._stored_id, key_id=key_id)
            session.add(row)
            session.flush()
            return int(row.id)

        reload_id = self.db.write(_add)
        with self._lock:
            self.seen = max(self.seen, reload_id)
        return reload_id

    def check(self) -> bool:
        """Reload when another worker recorded a request this one has not acted on yet."""
        latest = self.latest()
        with self._lock:
            if latest <= self.seen:
                return False
            self.seen = latest
        log.info("reload %d requested through another worker: reloading %s", latest, self.pid)
        try:
            self.store.reload()  # its outcome is recorded by the store's on_reload hook
        except ModelLoadError:
            pass  # logged by the store; the old models keep serving; /readyz shows it
        return True

    # --- worker status -------------------------------------------------------------------------
    def record(self) -> None:
        """Write this worker's status row (models, last reload and its outcome, heartbeat)."""
        if not self.enabled:
            return
        current, status = self.store.current, self.store.status
        row = WorkerStatus(
            worker_id=self._stored_id,
            host=masked(self.host),
            pid=self.pid,
            heartbeat_at=_now(),
            reload_id=self.seen,
            generation=current.generation,
            ok=status.ok,
            error=masked(status.error),
            models=masked({t: m.version for t, m in current.models.items()}),
        )
        self.db.write(lambda session: session.merge(row))

    def record_quietly(self) -> None:
        try:
            self.record()
        except Exception as exc:  # the database is away: the next heartbeat writes it again
            log.warning("could not record the worker status: %s: %s", type(exc).__name__, exc)

    def workers(self) -> list[dict[str, Any]]:
        """The live workers (recent heartbeat) on this database, this one included."""
        if not self.enabled:
            return []
        cutoff = self._db_time(_now() - timedelta(seconds=self.stale_seconds))
        query = (
            select(WorkerStatus)
            .where(WorkerStatus.heartbeat_at >= cutoff)
            .order_by(WorkerStatus.started_at, WorkerStatus.worker_id)
        )
        with self.db.session() as session:
            rows = list(session.scalars(query))
        return [
            {
                "worker": row.worker_id,
                "pid": row.pid,
                "this_worker": row.worker_id == self._stored_id,
                "reload_id": row.reload_id,
                "generation": row.generation,
                "ok": row.ok,
                "error": row.error,
                "models": row.models or {},
            }
            for row in rows
        ]

    # --- the background thread -----------------------------------------------------------------
    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        try:
            cutoff = self._db_time(_now() - timedelta(seconds=10 * self.stale_seconds))
            self.db.write(
                lambda s: s.execute(delete(WorkerStatus).where(WorkerStatus.heartbeat_at < cutoff))
            )
        except Exception as exc:
            log.warning("could not clear old worker rows: %s", exc)
        self.record_quietly()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="reload-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
            try:
                own = self._stored_id
                self.db.write(
                    lambda s: s.execute(delete(WorkerStatus).where(WorkerStatus.worker_id == own))
                )
            except Exception as exc:
                log.warning("could not remove the worker row: %s", exc)

    def _run(self) -> None:
        since_heartbeat = 0.0
        while not self._stop.wait(self.poll_seconds):
            since_heartbeat += self.poll_seconds
            try:
                reloaded = self.check()
            except Exception as exc:  # keep watching; the database may come back
                log.warning("reload check failed: %s: %s", type(exc).__name__, exc)
                reloaded = False
            if not reloaded and since_heartbeat >= self.heartbeat_seconds:
                since_heartbeat = 0.0
                self.record_quietly()

    def _db_time(self, value: datetime) -> datetime:
        return value.replace(tzinfo=None) if self.db.is_sqlite else value


def _now() -> datetime:
    return datetime.now(timezone.utc)
