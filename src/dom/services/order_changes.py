"""How every command on an order runs: lock the order, apply the change, save it with its
history entries and their outbox events in one transaction (inventory moves in that same
transaction), and try again from a fresh read when a racing writer got there first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from dom.adapters import order_store
from dom.adapters.database import writing
from dom.config import Settings
from dom.domain.errors import NotFound
from dom.domain.inventory import InsufficientStock
from dom.domain.orders.model import Order
from dom.ids import random_hex
from dom.services.order_records import entry_rows, fulfilment_row, order_from_rows, order_row

T = TypeVar("T")

#: Attempts at a command when a racing writer changed the order or took the units first.
TRIES = 4


@dataclass(frozen=True)
class Policy:
    """How the automation behaves; from the settings."""

    auto_release: bool = True
    pickup_expiry: timedelta = timedelta(hours=72)
    #: a customer's requests to one address at one node within this time ship together (0: off)
    consolidation_window: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            auto_release=settings.auto_release,
            pickup_expiry=timedelta(hours=settings.pickup_expiry_hours),
            consolidation_window=timedelta(minutes=settings.consolidation_minutes),
        )


def change(
    engine: Engine, order_id: str, apply: Callable[[Connection, Order], T], now: datetime
) -> T:
    """Lock the order, apply the command, save it with its events; again from a fresh read if
    a racing writer took the units the command chose."""
    for attempt in range(1, TRIES + 1):
        try:
            with writing(engine) as connection:
                row = order_store.lock_order(connection, order_id)
                if row is None:
                    raise NotFound("order", order_id)
                found = order_from_rows(row, order_store.fulfilments_of(connection, order_id))
                result = apply(connection, found)
                save(connection, found, now)
                return result
        except (InsufficientStock, order_store.StaleOrder):
            if attempt == TRIES:
                raise
    raise AssertionError("unreachable")


def save(connection: Connection, found: Order, now: datetime) -> None:
    if not found.new_entries:
        return
    row = order_row(found, now)
    order_store.update_order(
        connection,
        found.id,
        found.version,
        {k: row[k] for k in ("status", "updated_at", "document")},
    )
    order_store.save_fulfilments(
        connection, [fulfilment_row(found.id, f, now) for f in found.fulfilments]
    )
    save_entries(connection, found)


def save_entries(connection: Connection, found: Order) -> None:
    order_store.insert_entries(connection, *take_entry_rows(found))


def take_entry_rows(found: Order) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The history and outbox rows of the order's new entries, which are then no longer new."""
    entries = list(found.new_entries)
    rows = entry_rows(found, entries, [random_hex(16) for _ in entries])
    found.new_entries.clear()
    return rows


def loaded(connection: Connection, rows: Sequence[Any]) -> list[Order]:
    """Orders from their rows, with every one's fulfilment requests read in one query."""
    requests = order_store.fulfilments_of_orders(connection, [row.id for row in rows])
    return [order_from_rows(row, requests.get(row.id, [])) for row in rows]
