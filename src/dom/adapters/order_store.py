"""Orders, their fulfilment requests, history and outbox, and capacity used, in the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dom.adapters import bulk
from dom.adapters.tables import (
    capacity_used,
    fulfilments,
    order_events,
    orders,
    outbox,
    sourcing_decisions,
)


class StaleOrder(Exception):
    """Another writer changed the order since it was read; the caller reads it again."""


# The statements every order runs are built once (per dialect where they differ): building a
# statement costs SQLAlchemy several times what running a built one does.
_BY_EXTERNAL = select(orders.c.id).where(
    orders.c.channel == bindparam("channel"), orders.c.external_id == bindparam("external_id")
)
_ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
_UPDATE_ORDER = (
    update(orders)
    .where(orders.c.id == bindparam("order_id"), orders.c.version == bindparam("version"))
    .values(
        version=bindparam("next_version"),
        status=bindparam("status"),
        updated_at=bindparam("updated_at"),
        document=bindparam("document"),
    )
)
_INSERT_FULFILMENTS = insert(fulfilments)
_INSERT_HISTORY = insert(order_events)
_INSERT_OUTBOX = insert(outbox)
_FULFILMENTS_OF = (
    select(fulfilments)
    .where(fulfilments.c.order_id == bindparam("order_id"))
    .order_by(fulfilments.c.created_at, fulfilments.c.id)
)


def insert_new_order(
    connection: Connection,
    order: dict[str, Any],
    requests: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    decisions: Sequence[dict[str, Any]] = (),
    capacity: Sequence[dict[str, Any]] = (),
) -> None:
    """A new order with its fulfilment requests, history, outbox events, the routing
    decisions made for it and the capacity it takes (rows as `add_capacity` takes, one per
    node and day): on PostgreSQL one statement (`bulk.insert_together`)."""
    bulk.insert_together(
        connection,
        [
            (orders, [order]),
            (fulfilments, requests),
            (order_events, history),
            (outbox, events),
            (sourcing_decisions, decisions),
            (capacity_used, capacity),
        ],
        {capacity_used: _ADD_CAPACITY},
    )
    if connection.dialect.name != "postgresql":
        for row in capacity:
            add_capacity(connection, row["node_id"], row["day"], row["units"], row["orders"])


def order_id_by_external(connection: Connection, channel: str, external_id: str) -> str | None:
    found = connection.execute(
        _BY_EXTERNAL, {"channel": channel, "external_id": external_id}
    ).scalar()
    return None if found is None else str(found)


def lock_order(connection: Connection, order_id: str) -> Any:
    """The order's row, locked until the transaction ends (PostgreSQL; SQLite locks the file)."""
    query = _ORDER.with_for_update() if connection.dialect.name == "postgresql" else _ORDER
    return connection.execute(query, {"order_id": order_id}).first()


def get_order(connection: Connection, order_id: str) -> Any:
    return connection.execute(_ORDER, {"order_id": order_id}).first()


def update_order(
    connection: Connection, order_id: str, version: int, values: dict[str, Any]
) -> None:
    """A new status, time and document, if the order is still at `version`."""
    done = connection.execute(
        _UPDATE_ORDER,
        {"order_id": order_id, "version": version, "next_version": version + 1, **values},
    )
    if done.rowcount != 1:
        raise StaleOrder(order_id)


def fulfilments_of(connection: Connection, order_id: str) -> list[Any]:
    return list(connection.execute(_FULFILMENTS_OF, {"order_id": order_id}))


def orders_by_ids(connection: Connection, order_ids: Collection[str]) -> dict[str, Any]:
    """The rows of these orders, by id, in one query."""
    if not order_ids:
        return {}
    query = select(orders).where(orders.c.id.in_(sorted(order_ids))).order_by(orders.c.id)
    return {row.id: row for row in connection.execute(query)}


def fulfilments_of_orders(connection: Connection, order_ids: Sequence[str]) -> dict[str, list[Any]]:
    """Each order's fulfilment requests, oldest first, in one query."""
    found: dict[str, list[Any]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    query = (
        select(fulfilments)
        .where(fulfilments.c.order_id.in_(sorted(set(order_ids))))
        .order_by(fulfilments.c.created_at, fulfilments.c.id)
    )
    for row in connection.execute(query):
        found[row.order_id].append(row)
    return found


def get_fulfilment(connection: Connection, fulfilment_id: str) -> Any:
    return connection.execute(select(fulfilments).where(fulfilments.c.id == fulfilment_id)).first()


def save_fulfilments(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new requests and update changed ones (rows carry every column)."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    existing = set(connection.execute(_EXISTING_FULFILMENTS, {"ids": ids}).scalars())
    new = [row for row in rows if row["id"] not in existing]
    if new:
        connection.execute(_INSERT_FULFILMENTS, new)
    changed = [{**row, "fulfilment_id": row["id"]} for row in rows if row["id"] in existing]
    if changed:
        connection.execute(_UPDATE_FULFILMENT, changed)


_EXISTING_FULFILMENTS = select(fulfilments.c.id).where(
    fulfilments.c.id.in_(bindparam("ids", expanding=True))
)
_UPDATE_FULFILMENT = (
    update(fulfilments)
    .where(fulfilments.c.id == bindparam("fulfilment_id"))
    .values(
        {
            column: bindparam(column)
            for column in ("order_id", "node_id", "method", "status", "updated_at", "document")
        }
    )
)


def open_fulfilments(
    connection: Connection, node_id: str | None, statuses: Sequence[str], limit: int
) -> list[Any]:
    query = select(fulfilments).where(fulfilments.c.status.in_(statuses))
    if node_id is not None:
        query = query.where(fulfilments.c.node_id == node_id)
    query = query.order_by(fulfilments.c.created_at, fulfilments.c.id).limit(limit)
    return list(connection.execute(query))


def insert_entries(
    connection: Connection, history: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
) -> None:
    """An order's new history entries and their outbox events, in the caller's transaction."""
    if history:
        connection.execute(_INSERT_HISTORY, list(history))
    if events:
        connection.execute(_INSERT_OUTBOX, list(events))


def history_of(connection: Connection, order_id: str) -> list[Any]:
    query = (
        select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.id)
    )
    return list(connection.execute(query))


def list_orders(
    connection: Connection,
    status: str | None,
    channel: str | None,
    limit: int,
    before: str | None = None,
) -> list[Any]:
    query = select(orders)
    if status is not None:
        query = query.where(orders.c.status == status)
    if channel is not None:
        query = query.where(orders.c.channel == channel)
    if before is not None:
        query = query.where(orders.c.id < before)
    return list(connection.execute(query.order_by(orders.c.id.desc()).limit(limit)))


def order_ids_with_status(connection: Connection, status: str, limit: int) -> list[str]:
    query = (
        select(orders.c.id)
        .where(orders.c.status == status)
        .order_by(orders.c.created_at, orders.c.id)
        .limit(limit)
    )
    return [str(found) for found in connection.execute(query).scalars()]


# ---- capacity -----------------------------------------------------------------------------------


def add_capacity(connection: Connection, node_id: str, day: date, units: int, count: int) -> None:
    """Count units and orders a node took on (negative: gave back) on its local day."""
    connection.execute(
        _add_capacity_statement(connection.dialect.name),
        {"node_id": node_id, "day": day, "units": units, "orders": count},
    )


#: `add_capacity` as `bulk.insert_together` writes it on PostgreSQL
_ADD_CAPACITY = (
    "ON CONFLICT (node_id, day) DO UPDATE SET "
    "units = greatest(capacity_used.units + excluded.units, 0), "
    "orders = greatest(capacity_used.orders + excluded.orders, 0)"
)


@cache
def _add_capacity_statement(dialect: str) -> Any:
    on_postgres = dialect == "postgresql"
    insert_ = postgresql.insert if on_postgres else sqlite.insert
    at_least = func.greatest if on_postgres else func.max  # SQLite's max of two values
    table = capacity_used
    statement = insert_(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.node_id, table.c.day],
        set_={
            "units": at_least(table.c.units + statement.excluded.units, 0),
            "orders": at_least(table.c.orders + statement.excluded.orders, 0),
        },
    )


_CAPACITY_ON = select(
    capacity_used.c.node_id, capacity_used.c.day, capacity_used.c.units, capacity_used.c.orders
).where(capacity_used.c.day.in_(bindparam("days", expanding=True)))


def capacity_on(connection: Connection, days: dict[str, date]) -> dict[str, tuple[int, int]]:
    """Units and orders taken on per node, each on its own local day."""
    if not days:
        return {}
    rows = connection.execute(_CAPACITY_ON, {"days": sorted(set(days.values()))})
    return {
        node_id: (units, count) for node_id, day, units, count in rows if days.get(node_id) == day
    }


def outbox_after(connection: Connection, after_id: int, limit: int) -> list[Any]:
    query = select(outbox).where(outbox.c.id > after_id).order_by(outbox.c.id).limit(limit)
    return list(connection.execute(query))


def outbox_of(connection: Connection, order_id: str) -> list[Any]:
    query = select(outbox).where(outbox.c.order_id == order_id).order_by(outbox.c.id)
    return list(connection.execute(query))


# ---- monitoring ---------------------------------------------------------------------------------


def orders_by_status(connection: Connection) -> dict[str, int]:
    query = select(orders.c.status, func.count()).group_by(orders.c.status)
    return {status: int(n) for status, n in connection.execute(query)}


def fulfilments_by_node_and_status(connection: Connection) -> dict[tuple[str, str], int]:
    query = select(fulfilments.c.node_id, fulfilments.c.status, func.count()).group_by(
        fulfilments.c.node_id, fulfilments.c.status
    )
    return {(node, status): int(n) for node, status, n in connection.execute(query)}


def rejects_by_node(connection: Connection) -> dict[str, int]:
    """Lines nodes gave back: whole requests rejected and lines rejected from a request."""
    query = (
        select(fulfilments.c.node_id, func.count())
        .select_from(
            order_events.join(
                fulfilments, fulfilments.c.id == order_events.c.detail["fulfilment"].as_string()
            )
        )
        .where(order_events.c.event.in_(("fulfilment.rejected", "fulfilment.lines_rejected")))
        .group_by(fulfilments.c.node_id)
    )
    return {node: int(n) for node, n in connection.execute(query)}


def mergeable_requests(
    connection: Connection, node_id: str, customer_id: str, order_id: str, since: datetime
) -> list[Any]:
    """Shipping requests of this customer's other orders at the node, not yet started."""
    query = (
        select(fulfilments.c.id, orders.c.document["ship_to"].label("document_ship_to"))
        .join(orders, orders.c.id == fulfilments.c.order_id)
        .where(
            fulfilments.c.node_id == node_id,
            fulfilments.c.method == "ship",
            fulfilments.c.status.in_(("sourced", "released")),
            fulfilments.c.created_at >= since,
            orders.c.customer_id == customer_id,
            orders.c.id != order_id,
        )
        .order_by(fulfilments.c.created_at)
    )
    return list(connection.execute(query))
