"""demand forecasts: per (SKU, node) cells, per-SKU rates and per-node shares of the forecast
routing uses to protect store inventory, and the row that points at it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dom.adapters.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UtcDateTime = dom.adapters.tables.UtcDateTime


def _owned(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["forecast_id"],
        ["demand_forecasts.id"],
        name=op.f(f"fk_{name}_forecast_id_demand_forecasts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "demand_forecasts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("half_life_days", sa.Float(), nullable=False),
        sa.Column("prior_days", sa.Float(), nullable=False),
        sa.Column("prior_units", sa.Float(), nullable=False),
        sa.Column("line_cap", sa.Integer(), nullable=False),
        sa.CheckConstraint("days >= 1", name=op.f("ck_demand_forecasts_days_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_forecasts")),
    )
    op.create_table(
        "forecast_cells",
        sa.Column("forecast_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("weighted_units", sa.Float(), nullable=False),
        sa.Column("weighted_cost", sa.Float(), nullable=False),
        _owned("forecast_cells"),
        sa.PrimaryKeyConstraint("forecast_id", "sku", "node_id", name=op.f("pk_forecast_cells")),
    )
    op.create_table(
        "forecast_skus",
        sa.Column("forecast_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        _owned("forecast_skus"),
        sa.PrimaryKeyConstraint("forecast_id", "sku", name=op.f("pk_forecast_skus")),
    )
    op.create_table(
        "forecast_nodes",
        sa.Column("forecast_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("mean_cost", sa.Float(), nullable=False),
        _owned("forecast_nodes"),
        sa.PrimaryKeyConstraint("forecast_id", "node_id", name=op.f("pk_forecast_nodes")),
    )
    op.create_table(
        "forecast_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("forecast_id", sa.String(length=32), nullable=True),
        sa.Column("refreshed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["demand_forecasts.id"],
            name=op.f("fk_forecast_state_forecast_id_demand_forecasts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_state")),
    )
    # The one row a refresh locks and points at its forecast: none until the first refresh.
    op.execute("INSERT INTO forecast_state (id) VALUES (1)")


def downgrade() -> None:
    op.drop_table("forecast_state")
    op.drop_table("forecast_nodes")
    op.drop_table("forecast_skus")
    op.drop_table("forecast_cells")
    op.drop_table("demand_forecasts")
