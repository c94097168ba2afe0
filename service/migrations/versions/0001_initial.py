"""Initial schema (the first release).

API keys, feedback (without its location columns), the reply bank, the audit log, reload requests
and worker status.

Databases made before the service used Alembic (``create_all`` at start-up) already hold some or
all of these tables: a table that exists is kept as it is (with its rows), only the missing ones
are created. Revision 0002 then adds what the first release lacked.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("api_keys", "feedback", "replies", "audit_log", "model_reloads", "worker_status")


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    existing = set(sa.inspect(op.get_bind()).get_table_names(schema=schema))

    if "api_keys" not in existing:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("key_id", sa.String(32), nullable=False),
            sa.Column("key_hash", sa.String(128), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("agency", sa.String(300), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.UniqueConstraint("key_hash"),
            schema=schema,
        )
        op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True, schema=schema)

    if "feedback" not in existing:
        op.create_table(
            "feedback",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("report_id", sa.String(200), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("report_type", sa.String(64), nullable=True),
            sa.Column("agency", sa.String(300), nullable=True),
            sa.Column("predicted_agency", sa.String(300), nullable=True),
            sa.Column("decision", sa.String(16), nullable=True),
            sa.Column("reply_text", sa.Text(), nullable=True),
            sa.Column("reply_label", sa.String(32), nullable=True),
            sa.Column("weight", sa.Float(), nullable=False),
            sa.Column("actor_key_id", sa.String(32), nullable=False),
            sa.Column("actor_role", sa.String(32), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            schema=schema,
        )
        op.create_index("ix_feedback_report_id", "feedback", ["report_id"], schema=schema)
        op.create_index("ix_feedback_created", "feedback", ["created_at", "id"], schema=schema)

    if "replies" not in existing:
        op.create_table(
            "replies",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("agency", sa.String(300), nullable=False),
            sa.Column("report_id", sa.String(200), nullable=True),
            sa.Column("reply_text", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            schema=schema,
        )
        op.create_index("ix_replies_agency", "replies", ["agency"], schema=schema)

    if "audit_log" not in existing:
        op.create_table(
            "audit_log",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("key_id", sa.String(32), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("target", sa.String(300), nullable=True),
            sa.Column("detail", sa.JSON(), nullable=True),
            schema=schema,
        )
        op.create_index("ix_audit_log_at", "audit_log", ["at"], schema=schema)

    if "model_reloads" not in existing:
        op.create_table(
            "model_reloads",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("requested_by", sa.String(100), nullable=False),
            sa.Column("key_id", sa.String(32), nullable=False),
            schema=schema,
        )

    if "worker_status" not in existing:
        op.create_table(
            "worker_status",
            sa.Column("worker_id", sa.String(100), primary_key=True),
            sa.Column("host", sa.String(100), nullable=False),
            sa.Column("pid", sa.Integer(), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("reload_id", sa.Integer(), nullable=False),
            sa.Column("generation", sa.Integer(), nullable=False),
            sa.Column("ok", sa.Boolean(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("models", sa.JSON(), nullable=True),
            schema=schema,
        )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for name in reversed(TABLES):
        op.drop_table(name, schema=schema)
