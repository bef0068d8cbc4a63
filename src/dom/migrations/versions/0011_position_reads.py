"""position reads: a covering index of the positions that hold stock, for availability

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ["sku", "node_id", "on_hand", "reserved", "allocated", "safety_stock"]


def upgrade() -> None:
    # Availability of 100 SKUs read 20,000 positions, each a table row on its own page; this
    # index holds the third of them with stock, SKU by SKU, with every column the read needs.
    op.create_index(
        "ix_positions_stocked",
        "positions",
        COLUMNS,
        sqlite_where=sa.text("on_hand > 0"),
        postgresql_where=sa.text("on_hand > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_positions_stocked", table_name="positions")
