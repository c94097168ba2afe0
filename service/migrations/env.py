"""Alembic environment: run the migrations on the connection ``Database.upgrade`` hands over.

The connection arrives in ``config.attributes["connection"]`` already inside a transaction (and,
on PostgreSQL, holding the migration lock), so every revision of one upgrade commits or rolls back
together. ``config.attributes["schema"]`` (PostgreSQL: ``LAPOR_DATABASE_SCHEMA``) is where the
tables and the ``alembic_version`` table live; the revisions read it back from
``op.get_context().version_table_schema``.
"""

from __future__ import annotations

from alembic import context

from lapor_triage.service.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "lapor-triage migrations run on a live connection only: use `lapor-triage db upgrade` "
        "(offline SQL generation is not supported)"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table_schema=config.attributes.get("schema"),
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
