"""sourcing profiles and selection rules

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00

Seeds the profiles dom ships with as active version 1, so a new database routes from the start.
The bodies are written out here, not imported: a migration must not change when the code does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import dom.adapters.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WEIGHTS = {
    "shipping_cost": 1.0,
    "handling_cost": 1.0,
    "delivery_days": 0.0,
    "split_penalty": 0.0,
    "capacity_balance": 0.0,
    "inventory_protection": 0.0,
}
CONSTRAINTS: dict[str, Any] = {
    "max_shipments": None,
    "ship_complete": False,
    "node_types": None,
    "regions": None,
    "min_store_stock_left": 0,
    "carriers": None,
    "services": None,
    "max_distance_miles": None,
    "on_short": "split",
}
SHIPPED: list[tuple[str, str, dict[str, float], dict[str, Any]]] = [
    ("lowest-cost", "cheapest to ship and handle", {}, {}),
    ("fastest", "earliest delivery; cost breaks ties", {"delivery_days": 25.0}, {}),
    (
        "balanced-capacity",
        "spread work over nodes with room left today",
        {"capacity_balance": 40.0, "split_penalty": 3.0},
        {},
    ),
    (
        "rush",
        "rush orders: overnight or two-day from DCs, speed first",
        {"delivery_days": 50.0, "split_penalty": 2.0},
        {"max_shipments": 2},
    ),
    (
        "free-shipping",
        "the retailer pays shipping: cost first, few shipments, keep store stock",
        {"split_penalty": 4.0, "inventory_protection": 1.0},
        {"max_shipments": 2, "min_store_stock_left": 1},
    ),
]


def upgrade() -> None:
    profiles = op.create_table(
        "sourcing_profiles",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", dom.adapters.tables.UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("activated_at", dom.adapters.tables.UtcDateTime(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_sourcing_profiles_version_positive")),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'retired')",
            name=op.f("ck_sourcing_profiles_status_known"),
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_sourcing_profiles")),
    )
    with op.batch_alter_table("sourcing_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sourcing_profiles_one_active",
            ["name"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
    op.create_table(
        "routing_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", dom.adapters.tables.UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("activated_at", dom.adapters.tables.UtcDateTime(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_routing_rule_sets_version_positive")),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'retired')",
            name=op.f("ck_routing_rule_sets_status_known"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_routing_rule_sets")),
    )
    with op.batch_alter_table("routing_rule_sets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_rule_sets_one_active",
            ["status"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
    _seed(profiles)


def _seed(profiles: sa.Table) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "name": name,
            "version": 1,
            "status": "active",
            "body": {
                "description": description,
                "weights": {**WEIGHTS, **weights},
                "constraints": {**CONSTRAINTS, **constraints},
            },
            "created_at": now,
            "created_by": "dom (shipped)",
            "activated_at": now,
        }
        for name, description, weights, constraints in SHIPPED
    ]
    op.bulk_insert(profiles, rows)


def downgrade() -> None:
    with op.batch_alter_table("routing_rule_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_rule_sets_one_active")
    op.drop_table("routing_rule_sets")
    with op.batch_alter_table("sourcing_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_sourcing_profiles_one_active")
    op.drop_table("sourcing_profiles")
