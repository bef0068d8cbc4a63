"""Node operations: what a warehouse system, a store app or a dropship vendor does with its
fulfilment requests (pick list, acknowledge, reject, pick, pack, ship, ready for pickup,
curbside arrival, hand-over), each under the order's lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, NotFound, Problem
from dom.domain.network import NodeType
from dom.domain.orders.lifecycle import HOLDING, Status
from dom.domain.orders.model import Fulfilment, Order
from dom.services.order_changes import Policy, change, loaded
from dom.services.order_sourcing import arrive_at_store, source_in
from dom.services.order_stock import give_back, shift_stock, units_at

REJECT_REASONS = frozenset({"not_found", "damaged", "no_capacity", "cannot_handle", "other"})


@dataclass(frozen=True)
class Request:
    """A fulfilment request as its node sees it: the pick list and where it goes."""

    fulfilment: Fulfilment
    order: Order
    #: a dropship vendor receives its requests as purchase orders, through the same API
    purchase_order: bool = False


#: What a node has to work on: released to it and not yet gone.
OPEN = tuple(sorted(s.value for s in HOLDING - {Status.SOURCED}))


def requests(
    engine: Engine, principal: Principal, node_id: str | None, limit: int
) -> list[Request]:
    """Open fulfilment requests, oldest first: a node key sees its own node's only."""
    principal.require(Action.FULFIL)
    if principal.node_id is not None:
        if node_id is not None:
            principal.require_node(node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        rows = order_store.open_fulfilments(connection, node_id, OPEN, limit)
        owners = order_store.orders_by_ids(connection, {row.order_id for row in rows})
        whole = {found.id: found for found in loaded(connection, list(owners.values()))}
        vendors = _vendors(connection)
    return [
        Request(whole[row.order_id].fulfilment(row.id), whole[row.order_id], row.node_id in vendors)
        for row in rows
    ]


def _vendors(connection: Connection) -> set[str]:
    return {node.id for node in network(connection).nodes if node.type is NodeType.DROPSHIP_VENDOR}


def operate(
    engine: Engine,
    principal: Principal,
    fulfilment_id: str,
    act: Callable[[Connection, Order, Fulfilment, datetime], None],
    now: datetime | None = None,
) -> Request:
    """Run a node's step on one of its fulfilment requests, under the order's lock."""
    principal.require(Action.FULFIL)
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        row = order_store.get_fulfilment(connection, fulfilment_id)
    if row is None or not principal.sees_node(row.node_id):
        raise NotFound("fulfilment", fulfilment_id)

    def apply(connection: Connection, found: Order) -> Request:
        target = found.fulfilment(fulfilment_id)
        act(connection, found, target, moment)
        return Request(target, found, target.node_id in _vendors(connection))

    return change(engine, row.order_id, apply, moment)


def acknowledge(actor: str) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, Status.ACKNOWLEDGED, now, actor)

    return act


def reject(
    zips: ZipDirectory,
    policy: Policy,
    actor: str,
    line_ids: Sequence[str] | None,
    reason: str,
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The node gives lines back: freed there (written off if not found or damaged) and routed
    again without it."""
    if reason not in REJECT_REASONS:
        raise InvalidInput(
            [Problem("reason", f"one of {', '.join(sorted(REJECT_REASONS))}, not {reason!r}")]
        )

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        parts = found.reject(target.id, line_ids, reason, now, actor)
        give_back(connection, found, target, parts, reason, now)
        source_in(connection, zips, found, "re-sourcing", policy, now)

    return act


def confirm_pick(
    zips: ZipDirectory, policy: Policy, actor: str, picked: dict[str, int]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The node confirms its pick; what it could not find is written off there and the
    remainder routed again without it."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        short = found.confirm_pick(target.id, picked, now, actor)
        if short:
            give_back(connection, found, target, short, "not_found", now)
            source_in(connection, zips, found, "re-sourcing", policy, now)

    return act


def step(
    actor: str, wanted: Status, **detail: Any
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """A plain move: ready for pickup, customer arrived, in transit, delivered (a transfer
    delivered to its store becomes a pickup request there)."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, wanted, now, actor, **detail)
        if wanted is Status.DELIVERED and target.transfer_to is not None:
            arrive_at_store(connection, found, target, actor, now)

    return act


def pack(
    actor: str, packages: list[Any]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.pack(target.id, packages, now, actor)

    return act


def ship(
    actor: str, carrier: str, service: str, tracking: Sequence[str]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The parcels leave: the node's allocated units leave its stock."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.ship(target.id, carrier, service, tracking, now, actor)
        shift_stock(connection, units_at(target.node_id, target.parts, sign=-1), now)

    return act


def hand_over(actor: str) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The customer collected it, in store or at the car: the units leave the store's stock."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, Status.PICKED_UP, now, actor)
        shift_stock(connection, units_at(target.node_id, target.parts, sign=-1), now)

    return act
