"""What an order's fulfilment does to stock: freeing allocated units and the capacity they
used, units leaving with a shipment or arriving with a transfer, and write-offs of units a
node could not find or found damaged."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from dom.adapters import inventory_store as store
from dom.adapters import order_store
from dom.adapters.network_cache import network
from dom.domain.access import Principal, Role
from dom.domain.inventory import EventKind, InventoryEvent
from dom.domain.orders.lifecycle import DROPPED
from dom.domain.orders.model import Fulfilment, Order, Part
from dom.services import sourcing
from dom.services.inventory import EventRequest, deallocate_units, record_in

#: Why a node gives units back, and whether the units are gone from its stock.
WRITE_OFF = {"not_found": EventKind.SHRINK, "damaged": EventKind.DAMAGE}


def give_back(
    connection: Connection,
    found: Order,
    target: Fulfilment,
    parts: Sequence[Part],
    reason: str,
    now: datetime,
) -> None:
    """Free units a node gave back; write them off if they are gone; never route them there
    again for this order."""
    free(connection, [(target, p) for p in parts], now)
    kind = WRITE_OFF.get(reason)
    if kind is not None:
        _write_off(connection, target, parts, kind, now)
    found.avoid.update((p.sku, target.node_id) for p in parts)


def free(connection: Connection, taken: Sequence[tuple[Fulfilment, Part]], now: datetime) -> None:
    """Deallocate the parts' units at their nodes and give back the capacity they used (and the
    request's place in its node's day when the request is dropped)."""
    units: Counter[tuple[str, str]] = Counter()
    per_request: Counter[str] = Counter()
    requests: dict[str, Fulfilment] = {}
    for found, part in taken:
        units[(part.sku, found.node_id)] += part.quantity
        per_request[found.id] += part.quantity
        requests[found.id] = found
    if units:
        deallocate_units(connection, units, now)
    current = network(connection)
    for request_id, count in per_request.items():
        found = requests[request_id]
        day = sourcing.local_day(current.by_id[found.node_id], found.created_at)
        dropped = int(found.status in DROPPED)
        order_store.add_capacity(connection, found.node_id, day, -count, -dropped)


def units_at(node_id: str, parts: Iterable[Part], sign: int = 1) -> Counter[tuple[str, str]]:
    """Units per (SKU, node) of these parts (negated with `sign=-1`)."""
    units: Counter[tuple[str, str]] = Counter()
    for part in parts:
        units[(part.sku, node_id)] += sign * part.quantity
    return units


def shift_stock(
    connection: Connection, units: Mapping[tuple[str, str], int], now: datetime
) -> None:
    """Committed units arrive at (positive) or leave (negative) their nodes: on hand and
    allocated move together."""
    locked = store.lock_positions(connection, units, now)
    store.save_positions(
        connection,
        [
            replace(p, on_hand=p.on_hand + units[key], allocated=p.allocated + units[key])
            for key, p in sorted(locked.items())
        ],
        now,
    )


#: Who the inventory history names for a node's write-off.
FULFILMENT = Principal("dom-fulfilment", "dom fulfilment", Role.ADMIN)


def _write_off(
    connection: Connection,
    target: Fulfilment,
    parts: Sequence[Part],
    kind: EventKind,
    now: datetime,
) -> None:
    """Units a node could not find or found damaged leave its on hand, recorded as shrink or
    damage events like any other (audit history included)."""
    units = Counter[str]()
    for part in parts:
        units[part.sku] += part.quantity
    requests = [
        EventRequest(
            f"fulfilment:{target.id}:{sku}:{kind.value}:{secrets.token_hex(4)}",
            InventoryEvent(
                kind,
                sku,
                target.node_id,
                quantity,
                "dom fulfilment",
                now,
                f"fulfilment {target.id}: {kind.value} at pick",
            ),
        )
        for sku, quantity in sorted(units.items())
    ]
    record_in(connection, FULFILMENT, requests, now)
