"""Inventory positions: what a node holds of a SKU, what is promised out of it, and the rules
that keep those numbers honest.

A position's units are on hand; of those, some are reserved (holds for carts and orders, which
expire) and some allocated (committed to orders). Safety stock is kept back from availability.
Invariants: no quantity is negative, and reserved + allocated never exceeds on hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from dom.domain.errors import DomError, InvalidField


class Method(StrEnum):
    """How a customer gets the units: shipped, or collected at the store that holds them."""

    SHIP = "ship"
    PICKUP = "pickup"  # in store or curbside: the units never leave the store's own customers


class EventKind(StrEnum):
    SNAPSHOT = "snapshot"  # "the count is N as of T": cycle count, WMS sync
    ADJUSTMENT = "adjustment"  # a signed delta with a reason code
    RECEIPT = "receipt"  # units received into stock
    SHRINK = "shrink"  # units lost (theft, miscount)
    DAMAGE = "damage"  # units damaged out of sellable stock


@dataclass(frozen=True)
class Position:
    sku: str
    node_id: str
    on_hand: int = 0
    reserved: int = 0
    allocated: int = 0
    safety_stock: int = 0
    snapshot_at: datetime | None = None

    @property
    def committed(self) -> int:
        return self.reserved + self.allocated

    @property
    def available(self) -> int:
        """What can still be promised for shipping: on hand less commitments and safety stock."""
        return self.available_for(Method.SHIP)

    def available_for(self, method: Method) -> int:
        """Safety stock protects a store's shelf for its walk-in and pickup customers: it is held
        back from shipping, not from pickup at that store."""
        kept_back = self.safety_stock if method is Method.SHIP else 0
        return max(0, self.on_hand - self.committed - kept_back)

    def broken_invariants(self) -> list[str]:
        broken = [
            f"{name} is negative"
            for name in ("on_hand", "reserved", "allocated", "safety_stock")
            if getattr(self, name) < 0
        ]
        if self.committed > self.on_hand:
            broken.append("reserved + allocated exceeds on hand")
        return broken


@dataclass(frozen=True)
class InventoryEvent:
    """A change reported by a warehouse or store system, with where and when it happened."""

    kind: EventKind
    sku: str
    node_id: str
    quantity: int
    source: str
    source_time: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.source_time.tzinfo is None:
            raise InvalidField("source_time", "must carry a time zone")
        if self.kind is EventKind.SNAPSHOT and self.quantity < 0:
            raise InvalidField("quantity", "a counted quantity cannot be negative")
        if self.kind is EventKind.ADJUSTMENT:
            if self.quantity == 0:
                raise InvalidField("quantity", "an adjustment must change something")
            if not self.reason:
                raise InvalidField("reason", "an adjustment needs a reason code")
        if (
            self.kind in (EventKind.RECEIPT, EventKind.SHRINK, EventKind.DAMAGE)
            and self.quantity <= 0
        ):
            raise InvalidField("quantity", "must be a positive whole number")

    @property
    def delta(self) -> int:
        """The signed change of on hand this event asks for (snapshots are absolute)."""
        if self.kind in (EventKind.SHRINK, EventKind.DAMAGE):
            return -self.quantity
        return self.quantity


class StockShort(DomError):
    """A change would leave fewer units on hand than are already promised."""

    code = "insufficient_stock"
    title = "Not enough stock"

    def __init__(self, position: Position, detail: str) -> None:
        self.position = position
        super().__init__(detail)


@dataclass(frozen=True)
class Applied:
    """What an event did: the position after it, whether it moved, and why not."""

    position: Position
    moved: bool
    note: str | None = None
    #: units of commitments a short count left without stock (to re-route)
    uncovered: int = 0


def apply_event(position: Position, event: InventoryEvent) -> Applied:
    """The position after `event`, refusing a delta that would break a commitment.

    A snapshot is the truth as of its time: an older one than the last applied is recorded but
    moves nothing, and so is a delta timed before the last snapshot (the count already holds it).
    A count below commitments is accepted; the commitments it cannot cover are returned as
    `uncovered` and the caller releases or re-routes them.
    """
    if event.kind is EventKind.SNAPSHOT:
        return apply_count(position, event.quantity, event.source_time)
    last = position.snapshot_at
    if last is not None and event.source_time <= last:
        return Applied(position, False, f"already counted by the snapshot of {last.isoformat()}")
    on_hand = position.on_hand + event.delta
    if on_hand < position.committed:
        raise StockShort(
            position,
            f"{event.kind.value} of {event.delta:+d} would leave {on_hand} on hand for "
            f"{position.committed} committed ({position.reserved} reserved, "
            f"{position.allocated} allocated) of {event.sku} at {event.node_id}",
        )
    return Applied(replace(position, on_hand=on_hand), True)


def apply_count(position: Position, quantity: int, counted_at: datetime) -> Applied:
    """The position after a count of `quantity` units as of `counted_at` (a snapshot event):
    the truth unless an applied count is newer; commitments it cannot cover are `uncovered`."""
    last = position.snapshot_at
    if last is not None and counted_at < last:
        return Applied(position, False, f"older than the snapshot of {last.isoformat()}")
    counted = Position(
        position.sku,
        position.node_id,
        quantity,
        position.reserved,
        position.allocated,
        position.safety_stock,
        counted_at,
    )
    return Applied(counted, True, uncovered=max(0, position.committed - quantity))


@dataclass(frozen=True)
class Shortage:
    """One line of a reservation that could not be held in full."""

    sku: str
    node_id: str | None  # None: no eligible node has any of it
    requested: int
    available: int


class InsufficientStock(DomError):
    """Every short line of a reservation, reported at once."""

    code = "insufficient_stock"
    title = "Not enough stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        lines = ", ".join(
            f"{s.sku} at {s.node_id or 'any node'}: {s.requested} asked, {s.available} available"
            for s in shortages
        )
        super().__init__(f"{len(shortages)} line(s) short: {lines}")


class SupplyKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    TRANSFER = "transfer"
    ADVANCE_SHIP_NOTICE = "asn"


@dataclass(frozen=True)
class Supply:
    """Units still to arrive at a node on an inbound line."""

    id: str
    kind: SupplyKind
    sku: str
    node_id: str
    remaining: int
    expected_on: date


def promise_date(
    available_now: int, supply: Iterable[Supply], quantity: int, today: date
) -> date | None:
    """The first day from which `quantity` can be promised: today if it is on the shelf, else the
    day the inbound line arrives that brings the running total up to it; None if nothing will.

    Each unit is counted once: what is on hand now, then each line's remaining units in the
    order they are due. A line already overdue counts from today, not from its past date.
    """
    if quantity <= 0:
        raise InvalidField("quantity", "must be a positive whole number")
    if available_now >= quantity:
        return today
    total = available_now
    for line in sorted(supply, key=lambda s: (s.expected_on, s.id)):
        total += line.remaining
        if total >= quantity:
            return max(today, line.expected_on)
    return None


def place_lines(
    lines: Mapping[str, int],
    available: Mapping[tuple[str, str], int],
    miles: Mapping[str, float] | None = None,
) -> dict[str, str | None]:
    """Choose a node for each line (SKU → quantity) that names none: as few nodes as possible,
    each holding its lines in full, nearest first when the destination is known (else the node
    with more of the cart's units first). A line no single node can hold in full gets None.

    Greedy set cover: take the node that can hold the most of the lines still open, until no
    node holds any of them. `available` counts units per (SKU, node) at eligible nodes only.
    """
    holders: dict[str, set[str]] = {}
    units: dict[str, int] = {}
    for (sku, node), count in available.items():
        if sku in lines and count >= lines[sku]:
            holders.setdefault(node, set()).add(sku)
            units[node] = units.get(node, 0) + count

    def preference(node: str) -> tuple[float, float, str]:
        distance = miles.get(node, math.inf) if miles is not None else 0.0
        return (distance, -units[node], node)

    placed: dict[str, str | None] = dict.fromkeys(lines)
    open_lines = set(lines)
    while open_lines:
        best = min(
            (node for node in holders if holders[node] & open_lines),
            key=lambda node: (-len(holders[node] & open_lines), *preference(node)),
            default=None,
        )
        if best is None:
            break
        for sku in holders[best] & open_lines:
            placed[sku] = best
        open_lines -= holders[best]
    return placed
