"""The database schema as SQLAlchemy Core tables; Alembic migrations must match it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC without zone (portable across SQLite and PostgreSQL), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


nodes = Table(
    "nodes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(32), nullable=False, index=True),
    Column("address_line1", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("state", String(2), nullable=False),
    Column("zip", String(5), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("capabilities", JSON, nullable=False),
    Column("handling", JSON, nullable=False),
    Column("capacity_orders", Integer, nullable=False),
    Column("capacity_units", Integer, nullable=False),
    Column("capacity_labour_hours", Float, nullable=False),
    Column("operating_days", JSON, nullable=False),
    Column("holidays", JSON, nullable=False),
    Column("cutoff", String(5), nullable=False),
    Column("processing_days", Integer, nullable=False),
    Column("cost_per_order", Float, nullable=False),
    Column("cost_per_unit", Float, nullable=False),
    Column("pause_reason", String(200)),
    Column("pause_starts_at", UtcDateTime),
    Column("pause_ends_at", UtcDateTime),
    CheckConstraint("capacity_orders >= 0", name="capacity_orders_not_negative"),
    CheckConstraint("capacity_units >= 0", name="capacity_units_not_negative"),
    CheckConstraint("capacity_labour_hours >= 0", name="capacity_labour_not_negative"),
    CheckConstraint("processing_days >= 0", name="processing_days_not_negative"),
    CheckConstraint("cost_per_order >= 0 AND cost_per_unit >= 0", name="costs_not_negative"),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("length_in", Float),
    Column("width_in", Float),
    Column("height_in", Float),
    Column("weight_lb", Float),
    Column("handling", JSON, nullable=False),
    Column("ship_alone", Boolean, nullable=False),
    Column("stock_tracked", Boolean, nullable=False),
)

carrier_services = Table(
    "carrier_services",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("service_level", String(32), nullable=False),
    Column("dim_divisor", Float, nullable=False),
    Column("residential_surcharge", Float, nullable=False),
    Column("fuel_surcharge_pct", Float, nullable=False),
    Column("pickup_days", JSON, nullable=False),
    CheckConstraint("dim_divisor > 0", name="dim_divisor_positive"),
)

carrier_zones = Table(
    "carrier_zones",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("zone", Integer, primary_key=True),
    Column("max_miles", Float),
    Column("transit_days", Integer, nullable=False),
    ForeignKeyConstraint(
        ["carrier", "service"],
        ["carrier_services.carrier", "carrier_services.service"],
        ondelete="CASCADE",
    ),
)

carrier_rates = Table(
    "carrier_rates",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("zone", Integer, primary_key=True),
    Column("weight_lb", Integer, primary_key=True),
    Column("price", Float, nullable=False),
    ForeignKeyConstraint(
        ["carrier", "service"],
        ["carrier_services.carrier", "carrier_services.service"],
        ondelete="CASCADE",
    ),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE")),
    Column("channel", String(64)),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, default=lambda: datetime.now(UTC)),
    Column("revoked_at", UtcDateTime),
    CheckConstraint("role <> 'node' OR node_id IS NOT NULL", name="node_key_names_node"),
    CheckConstraint("role <> 'channel' OR channel IS NOT NULL", name="channel_key_names_channel"),
)

#: `ix_positions_stocked` answers availability from the index alone: the positions that hold
#: stock (about a third of them), with the quantities availability subtracts, in (SKU, node)
#: order. Reads must say `on_hand > 0` to use it (implied by anything available, but the
#: planners need it said).
positions = Table(
    "positions",
    metadata,
    Column("sku", String(64), ForeignKey("products.sku", ondelete="CASCADE"), primary_key=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("allocated", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("snapshot_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("allocated >= 0", name="allocated_not_negative"),
    CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    CheckConstraint("reserved + allocated <= on_hand", name="commitments_within_on_hand"),
    Index(
        "ix_positions_stocked",
        "sku",
        "node_id",
        "on_hand",
        "reserved",
        "allocated",
        "safety_stock",
        sqlite_where=text("on_hand > 0"),
        postgresql_where=text("on_hand > 0"),
    ),
    #: a node's positions in SKU order: full counts lock, read and write them all
    Index("ix_positions_node", "node_id", "sku"),
)

#: Reservation lines. `positions.reserved` is the sum of these rows' quantities; reads of
#: availability count only rows whose `expires_at` is still ahead, writers delete expired rows
#: of the positions they touch.
holds = Table(
    "holds",
    metadata,
    Column("reservation_id", String(32), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("node_id", String(64), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("reference", String(100), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["sku", "node_id"], ["positions.sku", "positions.node_id"], ondelete="CASCADE"
    ),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_holds_position_expiry", "sku", "node_id", "expires_at"),
)

#: The audit history of every position: each event as received, applied or not, and why.
inventory_events = Table(
    "inventory_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("request_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("reason", String(100)),
    Column("source", String(100), nullable=False),
    Column("source_time", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("applied", Boolean, nullable=False),
    Column("note", String(300)),
    Column("on_hand_after", Integer, nullable=False),
    Column("uncovered", Integer, nullable=False),
    Index("ix_inventory_events_position", "sku", "node_id", "id"),
)

#: Distribution groups: nodes left out of a channel's availability (a marketplace that may not
#: sell store stock, say).
channel_exclusions = Table(
    "channel_exclusions",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
)

#: Stock on its way to a node: purchase orders, transfers from another node, advance ship
#: notices. Receipts against a line raise `received`; what is still to come counts toward
#: time-phased available-to-promise from `expected_on`.
inbound_supply = Table(
    "inbound_supply",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("sku", String(64), ForeignKey("products.sku", ondelete="CASCADE"), nullable=False),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("from_node_id", String(64), ForeignKey("nodes.id", ondelete="SET NULL")),
    Column("quantity", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("expected_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("received >= 0 AND received <= quantity", name="received_within_quantity"),
    Index("ix_inbound_supply_position", "sku", "node_id", "expected_on"),
)

#: Requests sent with an `Idempotency-Key` header, per API key: claimed while in flight, then the
#: response to replay to a retry. Kept for a day.
idempotent_requests = Table(
    "idempotent_requests",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("status_code", Integer),  # NULL while the first request is in flight
    Column("response", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_idempotent_requests_created_at", "created_at"),
)

#: Sourcing profiles, one row per version: a draft is saved, activated (the active version of its
#: name retires), and never edited; `body` holds the profile's description, weights and
#: constraints in the API's document shape. The partial index keeps one active version per name.
sourcing_profiles = Table(
    "sourcing_profiles",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("activated_at", UtcDateTime),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
    Index(
        "ix_sourcing_profiles_one_active",
        "name",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

#: Versions of the rules that choose a profile per order: `body` holds `rules` (in order) and
#: the `fallback` profile. At most one version is active (the partial index).
routing_rule_sets = Table(
    "routing_rule_sets",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("activated_at", UtcDateTime),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
    Index(
        "ix_routing_rule_sets_one_active",
        "status",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

#: Routing decisions: the plan the engine chose for an order, under which profile and why.
#: A committed decision's units are allocated; releasing it gives them back.
sourcing_decisions = Table(
    "sourcing_decisions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("order_id", String(100), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("profile_version", Integer, nullable=False),
    Column("rule", String(100)),
    Column("status", String(20), nullable=False),
    Column("objective", Float, nullable=False),
    Column("committed", Boolean, nullable=False),
    Column("plan", JSON, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("decided_by", String(100), nullable=False),
    Column("released_at", UtcDateTime),
    Column("request", JSON),  # the order as routed, to route its lines again
    Column("history", JSON),  # re-routings: when, from which node, which lines, why
    Index("ix_sourcing_decisions_order_id", "order_id"),
)

#: A token that changes whenever a node or a carrier service is written, in the same
#: transaction: processes keep their last read of the network until it changes.
network_version = Table(
    "network_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", String(32), nullable=False),
)

#: Orders: the columns queries filter on, and the aggregate itself as a document (lines,
#: customer, address, holds, cancellations, backorder reasons). `version` guards writers.
orders = Table(
    "orders",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("external_id", String(100), nullable=False),
    Column("status", String(24), nullable=False),
    Column("customer_id", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Index("ix_orders_channel_external_id", "channel", "external_id", unique=True),
    Index("ix_orders_status_created_at", "status", "created_at"),
)

#: Fulfilment requests: what one node is asked to ship or hand over for one order.
fulfilments = Table(
    "fulfilments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", String(64), ForeignKey("nodes.id"), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("document", JSON, nullable=False),
    Index("ix_fulfilments_node_id_status", "node_id", "status"),
    Index("ix_fulfilments_order_id", "order_id"),
)

#: Each order's history: what happened, when, who or which rule did it, and the details.
order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(32), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("event", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_order_events_order_id", "order_id", "id"),
)

#: The transactional outbox: events written with the change that caused them, delivered by
#: `dom worker` after commit. `event_id` stays the same on every redelivery.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("order_id", String(32), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
)

#: Units and orders each node has taken on per local day, against its daily capacity.
capacity_used = Table(
    "capacity_used",
    metadata,
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("units", Integer, nullable=False),
    Column("orders", Integer, nullable=False),
)

# ---- notifications ------------------------------------------------------------------------------

#: The master key webhook signing secrets derive from, when DOM_SECRET_KEY is not set: one row,
#: a random value written by the migration, so every process on the database signs alike.
secret_keys = Table(
    "secret_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key", String(64), nullable=False),
)

#: Webhook subscriptions: where to POST which events (`["*"]`: every event). The signing
#: secret is not stored: it is HMAC-SHA256(master key, id), shown once at creation.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("description", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
)

#: One outbox event for one subscription: pending until delivered or dead. A worker leases a
#: due row by moving `next_attempt_at` forward; the payload is the outbox row's, unchanged.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        String(32),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("event", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status_known"),
    Index(
        "ix_webhook_deliveries_subscription_id_event_id", "subscription_id", "event_id", unique=True
    ),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

#: Customer messages rendered from an outbox event and the order's template, leased and retried
#: like webhook deliveries.
customer_messages = Table(
    "customer_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("order_id", String(32), nullable=False),
    Column("to", String(200), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status_known"),
    Index("ix_customer_messages_order_id", "order_id"),
    Index("ix_customer_messages_status_next_attempt_at", "status", "next_attempt_at"),
)

#: Edited message templates, per event; events without a row use the defaults in code.
message_templates = Table(
    "message_templates",
    metadata,
    Column("event", String(64), primary_key=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(100), nullable=False),
)

#: The relay's place in the outbox (one row): events up to `last_outbox_id` were fanned out.
#: `gap_since`: when the relay first saw a hole in the ids after it (a transaction still in
#: flight on PostgreSQL, or one rolled back), to wait for it a while and then step over it.
relay_cursor = Table(
    "relay_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_outbox_id", Integer, nullable=False),
    Column("gap_since", UtcDateTime),
)

# ---- demand forecasts -----------------------------------------------------------------------

#: Demand forecasts for inventory protection, one row per computation; `forecast_state` points
#: at the one routing uses. Besides the cells, what `Forecast.rate`'s prior needs: the history
#: weight and the estimate's settings here, per-SKU network rates and per-node shares and mean
#: extra costs in the tables below. `id` is random, so a process may cache by it.
demand_forecasts = Table(
    "demand_forecasts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("computed_at", UtcDateTime, nullable=False),
    Column("days", Integer, nullable=False),
    Column("lines", Integer, nullable=False),  # demand lines the history held
    Column("units", Integer, nullable=False),
    Column("weight", Float, nullable=False),  # Σ weight(age) over the days of history
    Column("half_life_days", Float, nullable=False),
    Column("prior_days", Float, nullable=False),
    Column("prior_units", Float, nullable=False),
    Column("line_cap", Integer, nullable=False),
    CheckConstraint("days >= 1", name="days_positive"),
)


def _part_of_forecast() -> Column[str]:
    """The key column of a forecast's rows: they go when their forecast goes."""
    return Column(
        "forecast_id",
        String(32),
        ForeignKey("demand_forecasts.id", ondelete="CASCADE"),
        primary_key=True,
    )


#: Per (SKU, node): Σ weight × units and Σ weight × units × extra cost (SKU first: routing
#: reads an order's SKUs).
forecast_cells = Table(
    "forecast_cells",
    metadata,
    _part_of_forecast(),
    Column("sku", String(64), primary_key=True),
    Column("node_id", String(64), primary_key=True),
    Column("weighted_units", Float, nullable=False),
    Column("weighted_cost", Float, nullable=False),
)

#: Per SKU: its network demand, units per day.
forecast_skus = Table(
    "forecast_skus",
    metadata,
    _part_of_forecast(),
    Column("sku", String(64), primary_key=True),
    Column("rate", Float, nullable=False),
)

#: Per node: its share of all demand and its mean extra cost per unit.
forecast_nodes = Table(
    "forecast_nodes",
    metadata,
    _part_of_forecast(),
    Column("node_id", String(64), primary_key=True),
    Column("share", Float, nullable=False),
    Column("mean_cost", Float, nullable=False),
)

#: One row: the forecast routing uses (NULL: none, the history was empty) and when the last
#: refresh ran. A refresh updates this row first, so refreshes queue behind each other.
forecast_state = Table(
    "forecast_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("forecast_id", String(32), ForeignKey("demand_forecasts.id")),
    Column("refreshed_at", UtcDateTime),
)
