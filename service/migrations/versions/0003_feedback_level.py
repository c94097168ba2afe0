"""Feedback level: ``unit`` or ``disposition``.

Triage feedback records one of two decisions: the unit inside a regional government (the agency
router's label, ``unit``) or the instansi Admin Pusat disposed the report to nationally (the
disposition model's label, ``disposition``). The two label spaces differ, so they are kept apart
in their own column. Nullable: older rows get NULL, read as ``unit``.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("feedback", schema=schema)}
    if "level" not in present:
        op.add_column("feedback", sa.Column("level", sa.String(16), nullable=True), schema=schema)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("feedback", schema=schema) as batch:  # SQLite: copy and move
        batch.drop_column("level")
