"""sourcing decisions and the network version token

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:40:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import dom.adapters.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sourcing_decisions",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("profile_version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("committed", sa.Boolean(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("decided_at", dom.adapters.tables.UtcDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("released_at", dom.adapters.tables.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sourcing_decisions")),
    )
    with op.batch_alter_table("sourcing_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sourcing_decisions_order_id"), ["order_id"], unique=False
        )
    version = op.create_table(
        "network_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_version")),
    )
    op.bulk_insert(version, [{"id": 1, "token": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("network_version")
    with op.batch_alter_table("sourcing_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sourcing_decisions_order_id"))
    op.drop_table("sourcing_decisions")
