"""Order tracking for customers: a link that needs no API key, only a token derived from the
order id and the master key (nothing to store, nothing to leak from the database alone), and
what it shows — status, parcels with tracking numbers, promised against expected delivery and
the customer-facing history."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.domain.errors import NotFound
from dom.domain.network import Node
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Order
from dom.domain.orders.risk import expected_delivery
from dom.services.order_records import entry_from_row, order_from_rows

#: What a customer is told about; the rest of the history is for the retailer.
CUSTOMER_EVENTS = frozenset(
    {
        "order.created",
        "order.sourced",
        "order.backordered",
        "order.at_risk",
        "order.cancelled",
        "lines.cancelled",
        "fulfilment.shipped",
        "fulfilment.in_transit",
        "fulfilment.delivered",
        "fulfilment.ready_for_pickup",
        "fulfilment.picked_up",
    }
)


def tracking_token(master_key: str, order_id: str) -> str:
    return hmac.new(master_key.encode(), f"track:{order_id}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def tracking_path(master_key: str, order_id: str) -> str:
    return f"/v1/track/{order_id}?token={tracking_token(master_key, order_id)}"


@dataclass(frozen=True)
class Parcel:
    method: Method
    status: Status
    carrier: str | None
    tracking: tuple[str, ...]
    promised_on: date | None  # the delivery date planned when it was routed
    expected_on: date | None  # that date, pushed back if the node is late
    pickup_at: str | None  # the store, for pickup and curbside


@dataclass(frozen=True)
class Moment:
    at: datetime
    event: str


@dataclass(frozen=True)
class Tracking:
    external_id: str
    status: Status
    promise_by: date | None
    parcels: list[Parcel]
    history: list[Moment]


def track(
    engine: Engine, master_key: str, order_id: str, token: str, now: datetime | None = None
) -> Tracking:
    """What the customer may see of the order; a wrong token reads as an unknown order."""
    if not hmac.compare_digest(token, tracking_token(master_key, order_id)):
        raise NotFound("order", order_id)
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        row = order_store.get_order(connection, order_id)
        if row is None:
            raise NotFound("order", order_id)
        found = order_from_rows(row, order_store.fulfilments_of(connection, order_id))
        history = [entry_from_row(r) for r in order_store.history_of(connection, order_id)]
        nodes = network(connection).by_id
    return Tracking(
        found.external_id,
        found.status,
        found.promise_by,
        _parcels(found, nodes, moment),
        [Moment(e.at, e.event) for e in history if e.event in CUSTOMER_EVENTS],
    )


def _parcels(found: Order, nodes: Mapping[str, Node], now: datetime) -> list[Parcel]:
    parcels = []
    for request in found.carrying():
        if request.transfer_to is not None:
            continue
        node = nodes.get(request.node_id)
        parcels.append(
            Parcel(
                request.method,
                request.status,
                request.carrier,
                tuple(p.tracking for p in request.packages if p.tracking),
                request.deliver_on,
                expected_delivery(request, node, now) if node else request.deliver_on,
                node.name if node is not None and request.method.at_store else None,
            )
        )
    return parcels


def expected_dates(engine: Engine, found: Order, now: datetime | None = None) -> dict[str, date]:
    """Each request's expected delivery: as planned, or pushed back if its node is late."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        nodes = network(connection).by_id
    dates = {}
    for request in found.fulfilments:
        node = nodes.get(request.node_id)
        expected = expected_delivery(request, node, moment) if node else request.deliver_on
        if expected is not None:
            dates[request.id] = expected
    return dates
