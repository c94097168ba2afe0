"""Console sessions in the database.

The console's sign-in sessions lived in one worker process's memory, so with ``serve --workers N``
a browser whose next request reached another worker was signed out (and lost its queue). They now
live in ``console_sessions``, shared by every worker: the session id only as its SHA-256, the key
as its stored hash (re-checked on every request), the CSRF token, created / last seen / expiry,
and the page state (masked JSON) and uploaded queue (masked, compressed JSON). A new table: no
existing row changes, and a database that already has it (made by ``create_all``) keeps it.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    if "console_sessions" in set(sa.inspect(op.get_bind()).get_table_names(schema=schema)):
        return
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("queue", sa.LargeBinary(), nullable=True),
        sa.Column("queue_rev", sa.Integer(), nullable=False),
        schema=schema,
    )
    op.create_index("ix_console_sessions_key_id", "console_sessions", ["key_id"], schema=schema)
    op.create_index(
        "ix_console_sessions_expires_at", "console_sessions", ["expires_at"], schema=schema
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.drop_table("console_sessions", schema=schema)
