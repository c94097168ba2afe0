"""Database access: engine setup (SQLite with WAL and a busy timeout, or PostgreSQL by URL) and the
few queries the service runs. Every text is masked with ``mask_pii`` here, right before it is stored.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lapor_triage.service.migrations import MIGRATIONS_DIR
from lapor_triage.service.tables import AuditEntry, Base, Feedback, StoredReply
from lapor_triage.text import mask_pii

log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"
# Alembic logs seven "setup plugin ..." lines (INFO) per upgrade, i.e. per worker start; keep its
# "Running upgrade" lines and our own summary only.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class SchemaVersionError(RuntimeError):
    """The database schema is not the one this release needs (and may not be changed here)."""


def masked(value: Any) -> Any:
    """``mask_pii`` for strings (and the strings inside lists/dicts); other values unchanged."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return value


class Database:
    """One engine and session factory. ``schema`` puts the tables in a PostgreSQL schema."""

    @classmethod
    def from_settings(cls, settings: Any) -> Database:
        """The database the service settings name (``LAPOR_DATABASE_URL``, its schema and the
        SQLite busy timeout)."""
        return cls(
            settings.sqlalchemy_url,
            schema=settings.database_schema,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )

    def __init__(self, url: str, *, schema: str | None = None, busy_timeout_ms: int = 10_000):
        self.url = url
        self.schema = schema
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            db_path = url.split("///", 1)[-1]
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
                pool_size=8,
                max_overflow=16,
            )
            _sqlite_pragmas(engine, busy_timeout_ms)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=16)
        # Migrations name the schema themselves; the ORM gets it through the translate map.
        self._base_engine = engine
        if schema:
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # --- schema (Alembic migrations in service/migrations) -------------------------------------
    def prepare(self, *, upgrade: bool) -> None:
        """Make sure the schema is the one this release needs before serving.

        ``upgrade=True`` (development, test): run the migrations that are missing. ``False``
        (``LAPOR_ENV=production``): change nothing, and refuse a database that is behind (or
        unknown) with :class:`SchemaVersionError`, which says to run ``lapor-triage db upgrade``.
        """
        if upgrade:
            self.upgrade()
        else:
            self.check_schema()

    def create_all(self) -> None:
        """Create the tables, or upgrade them to this release's schema: :meth:`upgrade`."""
        self.upgrade()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Run the Alembic migrations up to ``revision``; returns (revision before, after).

        One transaction for the whole upgrade, which also serializes concurrent upgrades (the
        workers of one service starting together): on SQLite it begins ``IMMEDIATE`` (the
        write lock first, so a second process waits for the busy timeout instead of failing),
        on PostgreSQL it takes an advisory lock for this schema. Databases made before the
        migrations existed are adopted: revision 0001 keeps the tables it finds, 0002 adds the
        columns they lack. Doing it twice changes nothing.
        """
        from alembic import command
        from alembic.util.exc import CommandError

        with self._migration_connection() as conn:
            before = _current_revision(conn, self._pg_schema)
            config = _alembic_config(conn, self._pg_schema)
            try:
                command.upgrade(config, revision)
            except CommandError as exc:
                raise SchemaVersionError(
                    f"cannot upgrade the database {self._where} from revision {before} to "
                    f"{revision}: {exc}"
                ) from exc
            after = _current_revision(conn, self._pg_schema)
        if before != after:
            log.info("database %s upgraded from revision %s to %s", self._where, before, after)
        return before, after

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at (``None``: empty, or made before Alembic)."""
        with self._base_engine.connect() as conn:
            return _current_revision(conn, self._pg_schema)

    def check_schema(self) -> None:
        """Raise :class:`SchemaVersionError` unless the database is at this release's head."""
        head = head_revision()
        current = self.current_revision()
        if current == head:
            return
        if current is not None and current not in known_revisions():
            raise SchemaVersionError(
                f"the database {self._where} is at revision {current}, which this release does "
                f"not know (made by a newer release?); this release needs revision {head}"
            )
        found = f"revision {current}" if current else "no schema revision (empty or pre-Alembic)"
        raise SchemaVersionError(
            f"the database {self._where} has {found}, this release needs revision {head}: run "
            "`lapor-triage db upgrade` (with the same LAPOR_DATABASE_URL and "
            "LAPOR_DATABASE_SCHEMA) before starting the service"
        )

    @property
    def _pg_schema(self) -> str | None:
        return self.schema if self.schema and not self.is_sqlite else None

    @property
    def _where(self) -> str:
        url = self._base_engine.url.render_as_string(hide_password=True)
        return f"{url} (schema {self._pg_schema})" if self._pg_schema else url

    @contextmanager
    def _migration_connection(self) -> Iterator[Connection]:
        """A connection inside one transaction that holds the migration lock (see upgrade)."""
        with self._base_engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                if not self.is_sqlite:
                    lock_key = zlib.crc32(f"lapor-triage:{self._pg_schema}".encode())
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
                    if self._pg_schema:
                        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._pg_schema}"'))
                yield conn

    def drop_all(self) -> None:
        """Drop the tables and the migration record (tests)."""
        Base.metadata.drop_all(self.engine)
        if self.schema and not self.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        else:
            with self.engine.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def write(self, fn, *, attempts: int = 5):
        """Run ``fn(session)`` in one transaction; retry when SQLite reports a lock."""
        for attempt in range(1, attempts + 1):
            try:
                with self.sessions() as session, session.begin():
                    return fn(session)
            except OperationalError as exc:
                locked = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if not locked or attempt == attempts:
                    raise
                log.warning("database busy, retrying write (attempt %d)", attempt)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    # --- feedback -----------------------------------------------------------------------------
    def add_feedback(self, audit: dict[str, Any] | None = None, **fields: Any) -> Feedback:
        """Store one feedback row (and its audit entry) in one transaction."""
        row = Feedback(**masked(fields))

        def _add(session: Session) -> Feedback:
            session.add(row)
            if audit:
                session.add(_audit_entry(**audit))
            session.flush()
            return row

        return self.write(_add)

    def iter_feedback(
        self,
        *,
        kind: str | None = None,
        since: datetime | None = None,
        chunk: int = 500,
        level: str | None = None,
    ) -> Iterator[Feedback]:
        """All feedback rows in insertion order, read in chunks (keyset pagination); ``level``
        keeps the triage decisions of that level (NULL is ``unit``, as stored before 0003)."""
        last_id = 0
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=timezone.utc)
            since = since.astimezone(timezone.utc)
            if self.is_sqlite:  # SQLite stores naive UTC
                since = since.replace(tzinfo=None)
        while True:
            query = select(Feedback).where(Feedback.id > last_id).order_by(Feedback.id).limit(chunk)
            if kind:
                query = query.where(Feedback.kind == kind)
            if level == "unit":
                query = query.where(
                    Feedback.kind == "triage",
                    or_(Feedback.level.is_(None), Feedback.level == level),
                )
            elif level:
                query = query.where(Feedback.kind == "triage", Feedback.level == level)
            if since:
                query = query.where(Feedback.created_at >= since)
            with self.session() as session:
                rows = list(session.scalars(query))
            if not rows:
                return
            yield from rows
            last_id = rows[-1].id

    # --- reply bank ---------------------------------------------------------------------------
    def add_replies(self, rows: list[dict[str, Any]], audit: dict[str, Any] | None = None) -> int:
        def _add(session: Session) -> int:
            session.add_all([StoredReply(**masked(r)) for r in rows])
            if audit:
                session.add(_audit_entry(**audit))
            return len(rows)

        return self.write(_add)

    def recent_replies(self, agency: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        query = (
            select(StoredReply.reply_text)
            .where(StoredReply.agency == agency)
            .order_by(StoredReply.id.desc())
            .limit(limit)
        )
        with self.session() as session:
            return list(session.scalars(query))

    # --- audit -------------------------------------------------------------------------------
    def audit(
        self,
        *,
        key_id: str,
        role: str,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        entry = _audit_entry(key_id=key_id, role=role, action=action, target=target, detail=detail)
        self.write(lambda session: session.add(entry))

    def clear(self) -> None:
        """Delete all rows (tests)."""
        with self.sessions() as session, session.begin():
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))


def _alembic_config(connection: Connection, schema: str | None):
    """The Alembic configuration of the packaged migrations, bound to ``connection`` (no
    ``alembic.ini``: everything the migrations need is set here)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def _script_directory():
    from alembic.script import ScriptDirectory

    config = _alembic_config(None, None)  # type: ignore[arg-type]  # scripts only, no database
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The newest migration of this release (the schema it needs)."""
    return _script_directory().get_current_head()


def known_revisions() -> set[str]:
    """Every migration revision this release ships."""
    return {script.revision for script in _script_directory().walk_revisions()}


def _current_revision(conn: Connection, schema: str | None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table_schema": schema})
    return context.get_current_revision()


def _audit_entry(
    *,
    key_id: str,
    role: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry(
        key_id=key_id, role=role, action=action, target=masked(target), detail=masked(detail)
    )


def _switch_to_wal(cur: Any, busy_timeout_ms: int) -> None:
    """``PRAGMA journal_mode=WAL``, retried for up to the busy timeout while the database is
    locked. SQLite does not call its busy handler for this switch: when the workers of one
    service start together on a database still in rollback-journal mode, one worker's switch
    fails at once while another holds the migration lock (5 of 40 runs of three upgrades
    started together, ``test_upgrades_started_together_both_succeed``)."""
    import sqlite3

    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via every connection
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _switch_to_wal(cur, busy_timeout_ms)
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        # ``sqlite_begin="BEGIN IMMEDIATE"`` on a connection takes the write lock up front.
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))
