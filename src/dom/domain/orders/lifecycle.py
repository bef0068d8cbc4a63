"""The state machines: what a fulfilment request may become next, and how an order's and a
line's status roll up from their parts."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from dom.domain.errors import Conflict


class Method(StrEnum):
    """How the customer gets a line."""

    SHIP = "ship"
    PICKUP = "pickup"  # collected in store
    CURBSIDE = "curbside"  # brought out to the customer's car at the store
    DIGITAL = "digital"  # nothing to pick or ship: fulfilled when the order is sourced

    @property
    def at_store(self) -> bool:
        return self in (Method.PICKUP, Method.CURBSIDE)


class HoldKind(StrEnum):
    PAYMENT = "payment"
    FRAUD = "fraud"
    ADDRESS = "address"


class Status(StrEnum):
    """Statuses of fulfilment requests; orders and lines use the same words, rolled up."""

    CREATED = "created"
    ON_HOLD = "on_hold"
    QUEUED = "queued"  # waits for the next batch wave (its profile routes in waves)
    BACKORDERED = "backordered"
    SOURCED = "sourced"  # routed and allocated, not yet sent to the node
    RELEASED = "released"  # sent to the node
    ACKNOWLEDGED = "acknowledged"
    PICKING = "picking"  # the pick is confirmed, packing to follow
    PACKED = "packed"
    READY_FOR_PICKUP = "ready_for_pickup"
    CUSTOMER_ARRIVED = "customer_arrived"  # curbside: the customer is in the car park
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    FULFILLED = "fulfilled"  # digital lines
    EXPIRED = "expired"  # not collected in time: cancelled and restocked
    REJECTED = "rejected"  # the node gave every line back; they were routed again
    CANCELLED = "cancelled"


#: Where a fulfilment request may go from each status.
NEXT: dict[Status, frozenset[Status]] = {
    Status.SOURCED: frozenset({Status.RELEASED, Status.CANCELLED}),
    Status.RELEASED: frozenset({Status.ACKNOWLEDGED, Status.REJECTED, Status.CANCELLED}),
    Status.ACKNOWLEDGED: frozenset({Status.PICKING, Status.REJECTED, Status.CANCELLED}),
    Status.PICKING: frozenset({Status.PACKED, Status.REJECTED, Status.CANCELLED}),
    Status.PACKED: frozenset({Status.SHIPPED, Status.READY_FOR_PICKUP, Status.CANCELLED}),
    Status.READY_FOR_PICKUP: frozenset(
        {Status.CUSTOMER_ARRIVED, Status.PICKED_UP, Status.EXPIRED, Status.CANCELLED}
    ),
    Status.CUSTOMER_ARRIVED: frozenset({Status.PICKED_UP, Status.CANCELLED}),
    Status.SHIPPED: frozenset({Status.IN_TRANSIT, Status.DELIVERED}),
    Status.IN_TRANSIT: frozenset({Status.DELIVERED}),
}

#: A request in one of these statuses is finished: nothing may change it any more.
FINAL = frozenset(
    {
        Status.DELIVERED,
        Status.PICKED_UP,
        Status.FULFILLED,
        Status.EXPIRED,
        Status.REJECTED,
        Status.CANCELLED,
    }
)

#: Statuses in which the node holds the units for the customer: its allocation stands.
HOLDING = frozenset(
    {
        Status.SOURCED,
        Status.RELEASED,
        Status.ACKNOWLEDGED,
        Status.PICKING,
        Status.PACKED,
        Status.READY_FOR_PICKUP,
        Status.CUSTOMER_ARRIVED,
    }
)

#: A part that ends here took nothing to the customer: the roll-up leaves it out.
DROPPED = frozenset({Status.EXPIRED, Status.REJECTED, Status.CANCELLED})

#: The roll-up order: an order is as far along as its least advanced live part.
PROGRESS = (
    Status.CREATED,
    Status.ON_HOLD,
    Status.QUEUED,
    Status.BACKORDERED,
    Status.SOURCED,
    Status.RELEASED,
    Status.ACKNOWLEDGED,
    Status.PICKING,
    Status.PACKED,
    Status.READY_FOR_PICKUP,
    Status.CUSTOMER_ARRIVED,
    Status.SHIPPED,
    Status.IN_TRANSIT,
    Status.FULFILLED,
    Status.PICKED_UP,
    Status.DELIVERED,
)
_RANK = {status: rank for rank, status in enumerate(PROGRESS)}


class IllegalTransition(Conflict):
    """A command that the current status does not allow (ship before pack, cancel a delivery)."""

    code = "illegal_transition"
    title = "Not allowed in this status"

    def __init__(self, what: str, current: Status, wanted: Status) -> None:
        self.current = current
        self.wanted = wanted
        allowed = ", ".join(sorted(NEXT.get(current, frozenset()))) or "nothing: it is final"
        super().__init__(
            f"{what} is {current.value} and cannot become {wanted.value} (allowed: {allowed})"
        )


def check_move(what: str, current: Status, wanted: Status) -> None:
    if wanted not in NEXT.get(current, frozenset()):
        raise IllegalTransition(what, current, wanted)


def rolled_up(parts: Iterable[Status]) -> Status | None:
    """The least advanced of the live parts; None when every part was dropped."""
    live = [status for status in parts if status not in DROPPED]
    if not live:
        return None
    return min(live, key=_RANK.__getitem__)
