"""The Alembic migrations of the service database (``service/migrations``): a database made by the
first release is upgraded with its rows kept, one made by ``create_all`` before migrations existed
is adopted, a fresh one is created at head with exactly the schema of ``service/tables.py``,
``lapor-triage db upgrade`` twice is a no-op, and production refuses a database that is behind.
On SQLite and, where a server answers, on PostgreSQL (tables and ``alembic_version`` in a schema of
their own)."""

from __future__ import annotations

import threading
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
from sqlalchemy.sql.elements import conv

from lapor_triage.cli import main as cli_main
from lapor_triage.service.db import Database, SchemaVersionError, head_revision
from lapor_triage.service.main import create_app
from lapor_triage.service.tables import Base
from tests.service.conftest import PG_URL, TEST_PEPPER, make_settings, postgres_available

NEW_COLUMNS = {"kecamatan", "kelurahan", "penerima"}


def old_feedback_table(metadata: MetaData) -> Table:
    """The ``feedback`` table as the first release created it, plus a column this release does
    not know (it must survive)."""
    return Table(
        "feedback",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(16), nullable=False),
        Column("report_id", String(200), nullable=False),
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
        Index("ix_feedback_report_id", "report_id"),  # named as the release named it
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


def table_names(url: str, schema: str | None) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names(schema=schema))
    finally:
        engine.dispose()


def schema_differences(db: Database) -> list:
    """What Alembic's autogenerate finds between the database and ``service/tables.py``."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    declared = MetaData(schema=db.schema)  # the tables as they live in the test's schema
    for table in Base.metadata.sorted_tables:
        copy = table.to_metadata(declared, schema=db.schema)
        for index in copy.indexes:  # the naming convention would put the schema in the name
            if db.schema and index.name.startswith(f"ix_{db.schema}_"):
                index.name = conv("ix_" + index.name.removeprefix(f"ix_{db.schema}_"))

    def in_scope(name, type_, parent_names) -> bool:
        return type_ != "schema" or name == db.schema

    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_schemas": bool(db.schema),
                    "include_name": in_scope,
                    "version_table_schema": db.schema,
                },
            )
            differences = compare_metadata(context, declared)
    finally:
        engine.dispose()
    # a column the database has and tables.py lacks (legacy_note) is not drift
    return [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_column")]


ALL_TABLES = {
    "api_keys",
    "feedback",
    "replies",
    "audit_log",
    "model_reloads",
    "worker_status",
    "console_sessions",
    "alembic_version",
}


def test_a_first_release_database_is_upgraded_and_keeps_its_rows(target):
    url, schema = target
    make_old_database(url, schema)
    before = feedback_columns(url, schema)
    assert not NEW_COLUMNS & set(before)  # really the old shape

    db = Database(url, schema=schema)
    try:
        assert db.current_revision() is None  # made before migrations existed
        assert db.upgrade() == (None, head_revision())
        after = feedback_columns(url, schema)
        assert NEW_COLUMNS <= set(after)
        assert all(after[name]["nullable"] for name in NEW_COLUMNS)
        # nothing dropped or changed: every old column is still there, with its nullability
        assert set(before) <= set(after)
        for name, col in before.items():
            assert after[name]["nullable"] == col["nullable"], name
        # the tables that did not exist were created, the version table in the same schema
        assert ALL_TABLES <= table_names(url, schema)
        assert db.current_revision() == head_revision()

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

        # a second run (a restart, another worker) changes nothing and keeps the rows
        assert db.upgrade() == (head_revision(), head_revision())
        assert {row.report_id for row in db.iter_feedback()} == {"OLD-1", "NEW-1"}
        assert schema_differences(db) == []
    finally:
        db.dispose()


def test_a_database_made_by_create_all_before_migrations_is_adopted(target):
    """The release just before Alembic made every table with ``create_all`` (the location columns
    included): the upgrade keeps it as it is and records the head revision."""
    url, schema = target
    engine = create_engine(url)
    with engine.begin() as conn:
        if schema:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            conn = conn.execution_options(schema_translate_map={None: schema})
        Base.metadata.create_all(conn)
    engine.dispose()
    db = Database(url, schema=schema)
    try:
        db.add_feedback(
            kind="triage", report_id="R-1", text="Banjir", penerima="Pemkot", actor_key_id="k",
            actor_role="admin_pusat",
        )  # fmt: skip
        assert db.current_revision() is None
        assert db.upgrade() == (None, head_revision())
        [row] = list(db.iter_feedback())
        assert (row.report_id, row.penerima) == ("R-1", "Pemkot")
        assert schema_differences(db) == []
    finally:
        db.dispose()


def test_a_fresh_database_is_created_at_head_with_the_declared_schema(target):
    url, schema = target
    db = Database(url, schema=schema)
    try:
        assert db.upgrade() == (None, head_revision())
        assert table_names(url, schema) == ALL_TABLES
        assert NEW_COLUMNS <= set(feedback_columns(url, schema))
        # the migrations build exactly what service/tables.py declares: a column added there
        # without a revision fails here
        assert schema_differences(db) == []
        db.check_schema()  # production accepts it
    finally:
        db.dispose()


def test_db_upgrade_command_twice_is_a_no_op(target, monkeypatch, capsys):
    url, schema = target
    make_old_database(url, schema)
    monkeypatch.setenv("LAPOR_DATABASE_URL", url)
    if schema:
        monkeypatch.setenv("LAPOR_DATABASE_SCHEMA", schema)
    else:
        monkeypatch.delenv("LAPOR_DATABASE_SCHEMA", raising=False)

    assert cli_main(["db", "current"]) == 1  # behind
    assert "run `lapor-triage db upgrade`" in capsys.readouterr().out
    assert cli_main(["db", "upgrade"]) == 0
    assert f"upgraded from revision (none) to {head_revision()}" in capsys.readouterr().out
    columns = {n: (c["nullable"], str(c["type"])) for n, c in feedback_columns(url, schema).items()}
    assert NEW_COLUMNS <= set(columns)
    assert cli_main(["db", "upgrade"]) == 0
    assert f"already at revision {head_revision()}" in capsys.readouterr().out
    again = {n: (c["nullable"], str(c["type"])) for n, c in feedback_columns(url, schema).items()}
    assert again == columns
    assert cli_main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out
    db = Database(url, schema=schema)
    try:
        assert [row.report_id for row in db.iter_feedback()] == ["OLD-1"]
    finally:
        db.dispose()


def test_production_refuses_a_database_that_is_behind(target, model_dirs):
    url, schema = target
    make_old_database(url, schema)
    settings = make_settings(
        model_dirs, url, env="production", database_schema=schema, pepper=TEST_PEPPER
    )
    with pytest.raises(SchemaVersionError, match="run `lapor-triage db upgrade`"):
        create_app(settings)
    assert not NEW_COLUMNS & set(feedback_columns(url, schema))  # nothing was changed
    assert "alembic_version" not in table_names(url, schema)

    db = Database(url, schema=schema)
    try:
        db.upgrade()
        create_app(settings).state.lapor.db.dispose()  # at head: accepted
        version_table = f'"{schema}".alembic_version' if schema else "alembic_version"
        with db.engine.begin() as conn:  # a revision from a newer release
            conn.exec_driver_sql(f"UPDATE {version_table} SET version_num = 'ffff'")
        with pytest.raises(SchemaVersionError, match="revision ffff, which this release does not"):
            db.check_schema()
        with pytest.raises(SchemaVersionError, match="cannot upgrade"):
            db.upgrade()
    finally:
        db.dispose()


def test_keys_command_in_production_refuses_a_database_that_is_behind(
    tmp_path, monkeypatch, capsys
):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_old_database(url, None)
    monkeypatch.setenv("LAPOR_DATABASE_URL", url)
    monkeypatch.setenv("LAPOR_ENV", "production")
    monkeypatch.setenv("LAPOR_PEPPER", TEST_PEPPER)
    monkeypatch.delenv("LAPOR_BOOTSTRAP_ADMIN_KEY", raising=False)
    assert cli_main(["keys", "create", "--role", "admin"]) == 2
    assert "run `lapor-triage db upgrade`" in capsys.readouterr().err
    assert "api_keys" not in table_names(url, None)  # nothing was created
    assert cli_main(["db", "upgrade"]) == 0
    assert cli_main(["keys", "create", "--role", "admin"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("lt_")


def test_upgrades_started_together_both_succeed(target):
    """The workers of one service start together and each upgrades: the migration lock makes the
    second wait and then find nothing to do."""
    url, schema = target
    make_old_database(url, schema)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def upgrade() -> None:
        db = Database(url, schema=schema)
        try:
            barrier.wait()
            results.append(db.upgrade())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    head = head_revision()
    assert sorted(results, key=lambda r: r[0] or "") == [(None, head), (head, head), (head, head)]
    assert set(feedback_columns(url, schema)) >= NEW_COLUMNS


def test_the_migrations_ship_in_the_wheel():
    """The packages and the template of the migrations are declared for the wheel (an installed
    service runs them from site-packages), as is every other package folder under service/."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest itself depends on tomli there
        import tomli as tomllib

    from tests.conftest import ROOT

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = set(tool["packages"])
    folders = {
        "lapor_triage.service." + ".".join(init.parent.relative_to(ROOT / "service").parts)
        for init in (ROOT / "service").rglob("*/__init__.py")
    }
    assert {
        "lapor_triage.service.migrations",
        "lapor_triage.service.migrations.versions",
    } <= folders
    assert folders <= packages, folders - packages
    assert "script.py.mako" in tool["package-data"]["lapor_triage.service.migrations"]


def test_a_0003_database_gets_the_console_sessions_table(target, model_dirs, monkeypatch, capsys):
    """Revision 0004 adds ``console_sessions`` to a database at 0003 (rows kept); until it is
    applied, production refuses the database, and ``lapor-triage db upgrade`` applies it."""
    url, schema = target
    make_old_database(url, schema)
    db = Database(url, schema=schema)
    try:
        assert db.upgrade("0003") == (None, "0003")
        assert "console_sessions" not in table_names(url, schema)
        settings = make_settings(
            model_dirs, url, env="production", database_schema=schema, pepper=TEST_PEPPER
        )
        with pytest.raises(SchemaVersionError, match="revision 0003, this release needs"):
            create_app(settings)
        assert "console_sessions" not in table_names(url, schema)  # production changed nothing

        monkeypatch.setenv("LAPOR_DATABASE_URL", url)
        if schema:
            monkeypatch.setenv("LAPOR_DATABASE_SCHEMA", schema)
        else:
            monkeypatch.delenv("LAPOR_DATABASE_SCHEMA", raising=False)
        assert cli_main(["db", "upgrade"]) == 0
        assert "upgraded from revision 0003 to 0004" in capsys.readouterr().out
        assert "console_sessions" in table_names(url, schema)
        assert db.current_revision() == head_revision() == "0004"
        assert [row.report_id for row in db.iter_feedback()] == ["OLD-1"]
        assert schema_differences(db) == []
        create_app(settings).state.lapor.db.dispose()  # at head: production accepts it
    finally:
        db.dispose()
