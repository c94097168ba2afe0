"""Feedback location: kecamatan, kelurahan, penerima.

Feedback says where a report came from: ``kecamatan`` and ``kelurahan`` (the agency router learns
location offices from them) and ``penerima``, the receiving instansi (used by the report-type
model). Nullable: old rows get NULL.

A database made by ``create_all`` of the release just before Alembic may have them already: a
column that exists is left alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = (
    ("kecamatan", sa.String(200)),
    ("kelurahan", sa.String(200)),
    ("penerima", sa.String(300)),
)


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("feedback", schema=schema)}
    for name, type_ in COLUMNS:
        if name not in present:
            op.add_column("feedback", sa.Column(name, type_, nullable=True), schema=schema)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    with op.batch_alter_table("feedback", schema=schema) as batch:  # SQLite: copy and move
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
