"""What the worker does with orders every few seconds: backorders sourced again, uncollected
pickups expired, queued orders routed in a batch wave, late requests moved or reported at risk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Order
from dom.domain.orders.risk import NOT_YET_SHIPPED, expected_delivery, is_late
from dom.services import sourcing, waves
from dom.services.order_changes import Policy, change, loaded
from dom.services.order_records import fulfilment_from_row
from dom.services.order_sourcing import Wave, shipping_request, source_in
from dom.services.order_stock import free
from dom.services.orders import source


def retry_waiting(
    engine: Engine,
    zips: ZipDirectory,
    policy: Policy,
    now: datetime | None = None,
    limit: int = 200,
) -> int:
    """Source backordered orders again (supply may have arrived); returns how many gained a
    node. (An order is recorded and sourced in one transaction: none waits unsourced.)"""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        waiting = order_store.order_ids_with_status(connection, Status.BACKORDERED.value, limit)
    moved = 0
    for order_id in waiting:
        found = source(engine, zips, order_id, "backorder job", policy, moment)
        moved += found.status is not Status.BACKORDERED
    return moved


def expire_pickups(engine: Engine, policy: Policy, now: datetime | None = None) -> int:
    """Cancel and restock pickups not collected within the policy's time."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        rows = order_store.open_fulfilments(
            connection, None, (Status.READY_FOR_PICKUP.value,), 1000
        )
    expired = 0
    for row in rows:
        ready_at = row.document["ready_at"]
        if ready_at is None or datetime.fromisoformat(ready_at) + policy.pickup_expiry > moment:
            continue

        def apply(connection: Connection, found: Order, fulfilment_id: str = row.id) -> None:
            target = found.fulfilment(fulfilment_id)
            if target.status is not Status.READY_FOR_PICKUP:
                return
            reason = f"not collected within {policy.pickup_expiry}"
            parts = found.expire(target.id, reason, moment, "pickup expiry job")
            free(connection, [(target, p) for p in parts], moment)

        change(engine, row.order_id, apply, moment)
        expired += 1
    return expired


def route_queued(
    engine: Engine,
    zips: ZipDirectory,
    policy: Policy,
    now: datetime | None = None,
    time_limit: float = 30.0,
) -> int:
    """Route the orders queued for a batch wave jointly (one MIP), then commit each order's plan
    in its own transaction; an order whose planned units went meanwhile is routed alone.
    Returns how many orders the wave took."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        ids = order_store.order_ids_with_status(connection, Status.QUEUED.value, waves.MAX_ORDERS)
        queued = loaded(connection, list(order_store.orders_by_ids(connection, ids).values()))
    requests = [
        shipping_request(zips, found, shipping)[0]
        for found in queued
        if (shipping := [x for x in found.outstanding_lines() if x.method is Method.SHIP])
    ]
    plans: dict[str, sourcing.Decision] = {}
    if requests:
        outcome = waves.route_orders(
            engine, LOCAL_OPERATOR, zips, requests, time_limit=time_limit, now=moment
        )
        plans = {decided.order_id: decided for decided in outcome.decisions}
    for found in queued:
        change(engine, found.id, _routed_in_wave(zips, policy, plans.get(found.id), moment), moment)
    return len(queued)


def _routed_in_wave(
    zips: ZipDirectory, policy: Policy, plan: sourcing.Decision | None, now: datetime
) -> Callable[[Connection, Order], None]:
    wave = Wave(plan)

    def apply(connection: Connection, found: Order) -> None:
        if not found.queued or not found.ready_to_source:
            return  # cancelled, or held, since the wave read it
        try_plan = wave.plan
        wave.plan = None  # a retry (its units were gone) routes the order alone
        source_in(connection, zips, found, "batch wave", policy, now, Wave(try_plan))

    return apply


class _NotBetter(Exception):
    """Routing the late request elsewhere would not deliver sooner: keep it where it is."""


@dataclass(frozen=True)
class LateOutcome:
    moved: int  # late requests taken back and routed to a node that delivers sooner
    flagged: int  # late requests newly reported at risk (order.at_risk)


def watch_late(
    engine: Engine, zips: ZipDirectory, policy: Policy, now: datetime | None = None
) -> LateOutcome:
    """Requests not shipped by their cutoff: one the node has not started is routed again
    without it when another node delivers sooner (within the promise, if there is one); every
    other late request is reported at risk, once."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        current = network(connection)
        rows = order_store.open_fulfilments(
            connection, None, [s.value for s in NOT_YET_SHIPPED], 10_000
        )
    moved = flagged = 0
    for row in rows:
        request = fulfilment_from_row(row)
        node = current.by_id.get(request.node_id)
        if node is None or not is_late(request, node, moment):
            continue
        expected = expected_delivery(request, node, moment)
        if request.status in (Status.SOURCED, Status.RELEASED):
            try:
                change(
                    engine,
                    row.order_id,
                    _move_late(zips, policy, request.id, expected, moment),
                    moment,
                )
                moved += 1
                continue
            except _NotBetter:
                pass

        flagged += change(engine, row.order_id, _flag_late(request.id, expected, moment), moment)
    return LateOutcome(moved, flagged)


def _flag_late(
    request_id: str, expected: date | None, now: datetime
) -> Callable[[Connection, Order], bool]:
    def apply(connection: Connection, found: Order) -> bool:
        return found.flag_at_risk(request_id, expected, now, "late job")

    return apply


def _move_late(
    zips: ZipDirectory, policy: Policy, request_id: str, expected: date | None, now: datetime
) -> Callable[[Connection, Order], None]:
    def apply(connection: Connection, found: Order) -> None:
        target = found.fulfilment(request_id)
        before = len(found.fulfilments)
        parts = found.withdraw(
            target.id, "late: routed to a node that delivers sooner", now, "late job"
        )
        free(connection, [(target, p) for p in parts], now)
        found.avoid.update((p.sku, target.node_id) for p in parts)
        source_in(connection, zips, found, "late job", policy, now)
        added = found.fulfilments[before:]
        sooner = [f.deliver_on for f in added if f.deliver_on is not None]
        limit = found.promise_by or expected
        if (
            found.outstanding_lines()
            or not sooner
            or (expected is not None and max(sooner) >= expected)
            or (limit is not None and max(sooner) > limit)
        ):
            raise _NotBetter  # rolls the whole attempt back

    return apply
