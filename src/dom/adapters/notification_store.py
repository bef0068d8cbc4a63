"""Webhook subscriptions and deliveries, customer messages, their templates, the relay's cursor
and the master key, in the database."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from dom.adapters.tables import (
    customer_messages,
    message_templates,
    nodes,
    outbox,
    relay_cursor,
    secret_keys,
    webhook_deliveries,
    webhook_subscriptions,
)

PENDING = "pending"

# ---- the master key -----------------------------------------------------------------------------


def master_key(connection: Connection) -> str:
    """The database's master key; made now if the migration's row is missing."""
    found = connection.execute(select(secret_keys.c.key).where(secret_keys.c.id == 1)).scalar()
    if found is not None:
        return str(found)
    made = secrets.token_hex(32)
    connection.execute(insert(secret_keys).values(id=1, key=made))
    return made


# ---- subscriptions ------------------------------------------------------------------------------


def insert_subscription(connection: Connection, row: dict[str, Any]) -> None:
    connection.execute(insert(webhook_subscriptions).values(**row))


def subscriptions(connection: Connection) -> list[Any]:
    query = select(webhook_subscriptions).order_by(
        webhook_subscriptions.c.created_at, webhook_subscriptions.c.id
    )
    return list(connection.execute(query))


def active_subscriptions(connection: Connection) -> list[Any]:
    query = (
        select(webhook_subscriptions)
        .where(webhook_subscriptions.c.active.is_(True))
        .order_by(webhook_subscriptions.c.id)
    )
    return list(connection.execute(query))


def set_active(connection: Connection, subscription_id: str, active: bool) -> Any:
    """Pause or resume; the subscription's row after the change, None if there is none."""
    connection.execute(
        update(webhook_subscriptions)
        .where(webhook_subscriptions.c.id == subscription_id)
        .values(active=active)
    )
    query = select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
    return connection.execute(query).first()


def delete_subscription(connection: Connection, subscription_id: str) -> bool:
    done = connection.execute(
        delete(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
    )
    return done.rowcount == 1


# ---- the relay's cursor -------------------------------------------------------------------------


def lock_cursor(connection: Connection) -> Any:
    """The relay's cursor, locked until the transaction ends: one fan-out at a time
    (PostgreSQL locks the row; SQLite's writers are serialized already)."""
    query = select(relay_cursor).where(relay_cursor.c.id == 1)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    found = connection.execute(query).first()
    if found is not None:
        return found
    connection.execute(insert(relay_cursor).values(id=1, last_outbox_id=0, gap_since=None))
    return connection.execute(query).first()


def move_cursor(connection: Connection, last_outbox_id: int, gap_since: datetime | None) -> None:
    connection.execute(
        update(relay_cursor)
        .where(relay_cursor.c.id == 1)
        .values(last_outbox_id=last_outbox_id, gap_since=gap_since)
    )


# ---- deliveries and messages --------------------------------------------------------------------


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(table), list(rows))


def due_ids(connection: Connection, table: Table, now: datetime, limit: int) -> list[int]:
    """Pending rows whose next attempt is due, oldest first; on PostgreSQL rows another worker
    is claiming right now are skipped rather than waited for."""
    query = (
        select(table.c.id)
        .where(table.c.status == PENDING, table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [int(found) for found in connection.execute(query).scalars()]


def claim(
    connection: Connection, table: Table, row_id: int, now: datetime, until: datetime
) -> bool:
    """Lease a due row until `until` and count the attempt; False: another worker has it."""
    done = connection.execute(
        update(table)
        .where(table.c.id == row_id, table.c.status == PENDING, table.c.next_attempt_at <= now)
        .values(next_attempt_at=until, attempts=table.c.attempts + 1)
    )
    return done.rowcount == 1


def finish(
    connection: Connection, table: Table, row_id: int, lease: datetime, values: dict[str, Any]
) -> bool:
    """Record an attempt's outcome, if the lease is still ours (it did not run out and another
    worker take the row)."""
    done = connection.execute(
        update(table)
        .where(table.c.id == row_id, table.c.status == PENDING, table.c.next_attempt_at == lease)
        .values(**values)
    )
    return done.rowcount == 1


def claimed_deliveries(connection: Connection, ids: Sequence[int]) -> list[Any]:
    """Claimed deliveries with what to send: the subscription's URL and the outbox payload."""
    query = (
        select(
            webhook_deliveries,
            webhook_subscriptions.c.url,
            outbox.c.payload,
        )
        .join(
            webhook_subscriptions,
            webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
        )
        .join(outbox, outbox.c.id == webhook_deliveries.c.outbox_id)
        .where(webhook_deliveries.c.id.in_(list(ids)))
        .order_by(webhook_deliveries.c.id)
    )
    return list(connection.execute(query))


def rows_by_id(connection: Connection, table: Table, ids: Sequence[int]) -> list[Any]:
    query = select(table).where(table.c.id.in_(list(ids))).order_by(table.c.id)
    return list(connection.execute(query))


def get_row(connection: Connection, table: Table, row_id: int) -> Any:
    return connection.execute(select(table).where(table.c.id == row_id)).first()


def deliveries(
    connection: Connection, status: str | None, subscription_id: str | None, limit: int
) -> list[Any]:
    query = select(webhook_deliveries)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    if subscription_id is not None:
        query = query.where(webhook_deliveries.c.subscription_id == subscription_id)
    return list(connection.execute(query.order_by(webhook_deliveries.c.id.desc()).limit(limit)))


def replay(connection: Connection, table: Table, row_id: int, now: datetime) -> bool:
    """Send the row again from now on, with a fresh count of attempts."""
    done = connection.execute(
        update(table)
        .where(table.c.id == row_id)
        .values(status=PENDING, attempts=0, next_attempt_at=now)
    )
    return done.rowcount == 1


def messages_of(connection: Connection, order_id: str) -> list[Any]:
    query = (
        select(customer_messages)
        .where(customer_messages.c.order_id == order_id)
        .order_by(customer_messages.c.id)
    )
    return list(connection.execute(query))


# ---- templates ----------------------------------------------------------------------------------


def templates(connection: Connection) -> dict[str, Any]:
    return {row.event: row for row in connection.execute(select(message_templates))}


def save_template(connection: Connection, row: dict[str, Any]) -> None:
    """Insert or replace the template of one event."""
    connection.execute(delete(message_templates).where(message_templates.c.event == row["event"]))
    connection.execute(insert(message_templates).values(**row))


def delete_template(connection: Connection, event: str) -> None:
    connection.execute(delete(message_templates).where(message_templates.c.event == event))


def node_places(connection: Connection, node_ids: Sequence[str]) -> dict[str, Any]:
    """Name and address of these nodes, for the messages that send customers there."""
    if not node_ids:
        return {}
    query = select(
        nodes.c.id, nodes.c.name, nodes.c.address_line1, nodes.c.city, nodes.c.state, nodes.c.zip
    ).where(nodes.c.id.in_(sorted(set(node_ids))))
    return {row.id: row for row in connection.execute(query)}


# ---- the console's overview ---------------------------------------------------------------------


def delivery_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """How many deliveries each subscription has, per status."""
    query = select(
        webhook_deliveries.c.subscription_id, webhook_deliveries.c.status, func.count()
    ).group_by(webhook_deliveries.c.subscription_id, webhook_deliveries.c.status)
    counts: dict[str, dict[str, int]] = {}
    for subscription_id, status, n in connection.execute(query):
        counts.setdefault(subscription_id, {})[status] = int(n)
    return counts


def recent_messages(connection: Connection, limit: int) -> list[Any]:
    """Customer messages of every order, newest first."""
    query = select(customer_messages).order_by(customer_messages.c.id.desc()).limit(limit)
    return list(connection.execute(query))
