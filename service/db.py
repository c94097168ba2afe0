"""Database access: engine setup (SQLite with WAL and a busy timeout, or PostgreSQL by URL) and the
few queries the service runs. Every text is masked with ``mask_pii`` here, right before it is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, delete, event, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lapor_triage.service.tables import AuditEntry, Base, Feedback, StoredReply
from lapor_triage.text import mask_pii

log = logging.getLogger(__name__)


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
        if schema:
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def create_all(self) -> None:
        if self.schema and not self.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine, Base.metadata, self.schema if not self.is_sqlite else None)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)
        if self.schema and not self.is_sqlite:
            with self.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

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
        self, *, kind: str | None = None, since: datetime | None = None, chunk: int = 500
    ) -> Iterator[Feedback]:
        """All feedback rows in insertion order, read in chunks (keyset pagination)."""
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


def add_missing_columns(engine: Engine, metadata: MetaData, schema: str | None = None) -> list[str]:
    """Add to existing tables the *nullable* columns of ``metadata`` they lack; returns
    ``["table.column", ...]`` added (each logged).

    ``create_all`` creates missing tables but never alters one that exists, so a database
    created by an earlier release lacks the columns added since. This adds those with
    ``ALTER TABLE ... ADD COLUMN`` (old rows get NULL) and never drops, renames or changes
    anything: a missing column that is not nullable, is part of the primary key, unique, or has a
    server default is left alone with a warning (it needs a hand-written migration). Tables are
    looked up in ``schema`` (PostgreSQL; ``None``: the default schema). Safe to run from several
    processes at once: a column another process added meanwhile is skipped.
    """
    dialect = engine.dialect
    quote = dialect.identifier_preparer.quote
    quote_schema = dialect.identifier_preparer.quote_schema
    postgres = dialect.name == "postgresql"
    with engine.connect() as conn:
        inspector = inspect(conn)
        existing_tables = set(inspector.get_table_names(schema=schema))
        present = {
            table.name: {c["name"] for c in inspector.get_columns(table.name, schema=schema)}
            for table in metadata.sorted_tables
            if table.name in existing_tables
        }
    added: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue  # not created (create_all runs first); nothing to upgrade
        qualified = f"{quote_schema(schema)}.{quote(table.name)}" if schema else quote(table.name)
        new_here = []
        for column in table.columns:
            if column.name in present[table.name]:
                continue
            if (
                not column.nullable
                or column.primary_key
                or column.unique
                or column.server_default is not None
            ):
                log.warning(
                    "database upgrade: table %s lacks column %s, which cannot be added "
                    "automatically (not a plain nullable column); add it by hand",
                    table.name,
                    column.name,
                )
                continue
            col_type = column.type.compile(dialect=dialect)
            if_not_exists = "IF NOT EXISTS " if postgres else ""
            ddl = (
                f"ALTER TABLE {qualified} ADD COLUMN {if_not_exists}{quote(column.name)} {col_type}"
            )
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(ddl)
            except OperationalError as exc:  # SQLite: another process added it meanwhile
                if "duplicate column" not in str(exc).lower():
                    raise
                continue
            log.info(
                "database upgrade: added column %s.%s (%s, nullable)",
                table.name,
                column.name,
                col_type,
            )
            added.append(f"{table.name}.{column.name}")
            new_here.append(column.name)
        for index in table.indexes:  # indexes on the new columns, as create_all makes them
            if any(c.name in new_here for c in index.columns):
                with engine.begin() as conn:
                    if schema:  # the index's table is declared without a schema
                        conn = conn.execution_options(schema_translate_map={None: schema})
                    index.create(conn, checkfirst=True)
    return added


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


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised via every connection
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        conn.exec_driver_sql("BEGIN")
