"""Database tables of the service: API keys, feedback, the reply bank, the audit log, the
reload requests and worker status shared by worker processes, and the console's sign-in sessions.

Every text column holds masked text (``lapor_triage.text.mask_pii``) — the code that writes rows
masks first (see ``service.db``).

Every change here needs a migration in ``service/migrations/versions`` (``lapor-triage db upgrade``
applies it); ``tests/service/test_db_upgrade.py`` fails while the two differ.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)  # public part
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # triage | reply
    report_id: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)  # masked report text
    report_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(300), nullable=True)
    predicted_agency: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reply_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply_label: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Where the report came from (triage feedback): the agency router learns location offices
    # from kecamatan / kelurahan, the report-type model uses penerima (the receiving instansi).
    # Added after the first release by migration 0002 (nullable: old rows get NULL).
    kecamatan: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kelurahan: Mapped[str | None] = mapped_column(String(200), nullable=True)
    penerima: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Which decision a triage row records (migration 0003): ``unit`` (the unit inside one
    # government: the agency router's label) or ``disposition`` (the instansi Admin Pusat disposed
    # the report to: the disposition model's label). NULL in older rows: read as ``unit``.
    level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    actor_key_id: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_feedback_created", "created_at", "id"),)


class StoredReply(Base):
    """A reply an agency sent: the bank that template reuse is measured against."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(300), index=True)
    report_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reply_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(300), nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ModelReload(Base):
    """One requested reload (``POST /v1/admin/reload``): every worker process (and every instance
    on this database) that has not acted on it yet reloads its models (``service.cluster``)."""

    __tablename__ = "model_reloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(100))  # worker id
    key_id: Mapped[str] = mapped_column(String(32))


class WorkerStatus(Base):
    """What each serving worker process has loaded, and how its last reload went (/readyz)."""

    __tablename__ = "worker_status"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid:token
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reload_id: Mapped[int] = mapped_column(Integer, default=0)  # last reload acted upon
    generation: Mapped[int] = mapped_column(Integer, default=0)  # this worker's model set
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # last reload; None: never
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # masked
    models: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # task -> version


class ConsoleSession(Base):
    """A console sign-in (``service.console.sessions``), shared by every worker process: the
    session id only as its SHA-256 (the id itself lives in the user's cookie), the key as its
    stored hash (re-checked on every request: a revoked key ends the session), and what the
    session's pages keep between requests, masked (migration 0004)."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the id
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    key_hash: Mapped[str] = mapped_column(String(128))  # as api_keys.key_hash (or the bootstrap)
    role: Mapped[str] = mapped_column(String(32))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # small page state (the last reply check, the queue's decisions): masked JSON
    state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # the uploaded queue (rows and suggestions): masked JSON, zlib-compressed, size-capped
    queue: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    queue_rev: Mapped[int] = mapped_column(Integer, default=0)  # changes with every new queue
