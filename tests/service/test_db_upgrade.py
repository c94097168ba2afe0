"""``Database.create_all`` on a database made by an earlier release: the nullable columns added
since (feedback ``kecamatan`` / ``kelurahan`` / ``penerima``) are added, nothing else changes, and
old rows survive. On SQLite and, where a server answers, on PostgreSQL (in a schema of its own)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    select,
)

from lapor_triage.service.db import Database, add_missing_columns
from lapor_triage.service.tables import Feedback
from tests.service.conftest import PG_URL, postgres_available

NEW_COLUMNS = {"kecamatan", "kelurahan", "penerima"}


def old_feedback_table(metadata: MetaData) -> Table:
    """The ``feedback`` table as the first release created it, plus a column this release does
    not know (it must survive)."""
    return Table(
        "feedback",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(16), nullable=False),
        Column("report_id", String(200), nullable=False, index=True),
        Column("text", Text, nullable=False),
        Column("report_type", String(64)),
        Column("agency", String(300)),
        Column("predicted_agency", String(300)),
        Column("decision", String(16)),
        Column("reply_text", Text),
        Column("reply_label", String(32)),
        Column("weight", Float, nullable=False),
        Column("actor_key_id", String(32), nullable=False),
        Column("actor_role", String(32), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("legacy_note", Text),
        Index("ix_feedback_created", "created_at", "id"),
    )


OLD_ROW = {
    "kind": "triage",
    "report_id": "OLD-1",
    "text": "Jalan berlubang di Jalan Kenanga",
    "report_type": "pengaduan",
    "agency": "Dinas Pekerjaan Umum",
    "predicted_agency": "Dinas Perhubungan",
    "decision": "overridden",
    "weight": 2.0,
    "actor_key_id": "k-old",
    "actor_role": "admin_pusat",
    "created_at": datetime(2024, 2, 12, 8, 30, tzinfo=timezone.utc),
    "legacy_note": "catatan lama",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request, tmp_path) -> Iterator[tuple[str, str | None]]:
    """(database URL, schema): an empty SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}", None
        return
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    schema = f"lapor_upgrade_{uuid.uuid4().hex[:10]}"
    yield PG_URL, schema
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def make_old_database(url: str, schema: str | None) -> None:
    """Only the old-shape feedback table, with one row (no other table exists yet)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if schema:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        old = old_feedback_table(MetaData(schema=schema))
        old.create(conn)
        conn.execute(old.insert().values(**OLD_ROW))
    engine.dispose()


def feedback_columns(url: str, schema: str | None) -> dict[str, dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {c["name"]: c for c in inspect(conn).get_columns("feedback", schema=schema)}
    finally:
        engine.dispose()


def added_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "added column" in r.getMessage()]


def test_create_all_adds_the_new_nullable_columns_and_keeps_old_rows(target, caplog):
    url, schema = target
    make_old_database(url, schema)
    before = feedback_columns(url, schema)
    assert not NEW_COLUMNS & set(before)  # really the old shape

    db = Database(url, schema=schema)
    caplog.set_level(logging.INFO, logger="lapor_triage.service.db")
    db.create_all()
    try:
        after = feedback_columns(url, schema)
        assert NEW_COLUMNS <= set(after)
        assert all(after[name]["nullable"] for name in NEW_COLUMNS)
        # nothing dropped or changed: every old column is still there, with its nullability
        assert set(before) <= set(after)
        for name, col in before.items():
            assert after[name]["nullable"] == col["nullable"], name
        assert {m.split("added column ")[1].split(" ")[0] for m in added_messages(caplog)} == {
            f"feedback.{name}" for name in NEW_COLUMNS
        }
        # the tables that did not exist were created as before
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names(schema=schema))
        assert {"api_keys", "replies", "audit_log", "model_reloads", "worker_status"} <= tables

        # the old row survives, readable through the ORM with the new columns empty
        [old] = [row for row in db.iter_feedback() if row.report_id == "OLD-1"]
        assert old.text == OLD_ROW["text"] and old.agency == OLD_ROW["agency"]
        assert old.weight == 2.0 and old.decision == "overridden"
        assert (old.kecamatan, old.kelurahan, old.penerima) == (None, None, None)
        legacy = Table("feedback", MetaData(schema=schema), autoload_with=db.engine)
        with db.engine.connect() as conn:
            notes = conn.execute(select(legacy.c.legacy_note)).scalars().all()
        assert notes == ["catatan lama"]

        # the new columns take values (masked on the way in)
        db.add_feedback(
            kind="triage",
            report_id="NEW-1",
            text="Lampu PJU mati",
            kecamatan="Wonokromo",
            kelurahan="Ngagel Rejo",
            penerima="Pemerintah Kota Surabaya, hubungi 081234567890",
            actor_key_id="k-new",
            actor_role="admin_pusat",
        )
        [new] = [row for row in db.iter_feedback() if row.report_id == "NEW-1"]
        assert (new.kecamatan, new.kelurahan) == ("Wonokromo", "Ngagel Rejo")
        assert new.penerima == "Pemerintah Kota Surabaya, hubungi [TELEPON]"

        # a second run (a restart, another worker) finds nothing to add and keeps the rows
        caplog.clear()
        db.create_all()
        assert added_messages(caplog) == []
        assert {row.report_id for row in db.iter_feedback()} == {"OLD-1", "NEW-1"}
    finally:
        db.dispose()


def test_a_fresh_database_needs_no_upgrade(target, caplog):
    url, schema = target
    db = Database(url, schema=schema)
    caplog.set_level(logging.INFO, logger="lapor_triage.service.db")
    try:
        db.create_all()
        assert NEW_COLUMNS <= set(feedback_columns(url, schema))
        assert added_messages(caplog) == []
    finally:
        db.dispose()


def test_only_plain_nullable_columns_are_added(target, caplog):
    """A missing column that is NOT NULL, unique or has a server default is left alone (with a
    warning): adding it would fail on old rows or change what the table promises."""
    url, schema = target
    engine = create_engine(url)
    old = MetaData(schema=schema)
    Table("things", old, Column("id", Integer, primary_key=True), Column("name", String(50)))
    with engine.begin() as conn:
        if schema:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        old.create_all(conn)
        conn.execute(old.tables[f"{schema}.things" if schema else "things"].insert(), [{"id": 1}])

    new = MetaData()
    Table(
        "things",
        new,
        Column("id", Integer, primary_key=True),
        Column("name", String(50)),
        Column("note", Text, nullable=True, index=True),
        Column("required", String(10), nullable=False),
        Column("code", String(10), nullable=True, unique=True),
        Column("flag", String(10), nullable=True, server_default="x"),
    )
    Table("not_created", new, Column("id", Integer, primary_key=True), Column("x", Text))
    caplog.set_level(logging.INFO, logger="lapor_triage.service.db")
    try:
        assert add_missing_columns(engine, new, schema) == ["things.note"]
        with engine.connect() as conn:
            insp = inspect(conn)
            columns = {c["name"] for c in insp.get_columns("things", schema=schema)}
            indexes = {tuple(i["column_names"]) for i in insp.get_indexes("things", schema=schema)}
            tables = set(insp.get_table_names(schema=schema))
        assert columns == {"id", "name", "note"}
        assert ("note",) in indexes  # the index of the new column, as create_all would make it
        assert "not_created" not in tables  # creating tables is create_all's job, not this
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        for name in ("required", "code", "flag"):
            assert any(f"lacks column {name}" in w for w in warnings), (name, warnings)
        assert add_missing_columns(engine, new, schema) == []  # idempotent
    finally:
        engine.dispose()


def test_feedback_table_declares_the_new_columns_nullable():
    """The upgrade can only add nullable columns: keep the new ones that way."""
    for name in NEW_COLUMNS:
        assert Feedback.__table__.c[name].nullable, name
