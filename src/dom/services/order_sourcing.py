"""Routing an order's outstanding lines inside its transaction: shipping lines by the engine
under the order's profile (or as a batch wave planned them), pickup and curbside lines at the
store or transferred to it; allocation, the nodes' day, consolidation and release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from dom.adapters import inventory_store as store
from dom.adapters import order_store
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.inventory import Method as StockMethod
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Fulfilment, Order, Part
from dom.domain.sourcing.collection import shelf_picks, transfers_in
from dom.domain.sourcing.model import Order as RoutedOrder
from dom.domain.sourcing.model import OrderLine as RoutedLine
from dom.domain.sourcing.model import Plan, PlannedShipment
from dom.domain.sourcing.profiles import OrderFacts
from dom.ids import random_hex
from dom.services import sourcing
from dom.services.inventory import allocate_units
from dom.services.order_changes import Policy
from dom.services.order_records import order_document
from dom.services.order_stock import shift_stock, units_at


def source_in(
    connection: Connection,
    zips: ZipDirectory,
    found: Order,
    actor: str,
    policy: Policy,
    now: datetime,
    wave: Wave | None = None,
    deferred: Deferred | None = None,
) -> None:
    """Route the order's outstanding lines: shipping lines by the engine under the order's
    profile (or as the batch wave planned them), collected lines at the pickup store; allocate,
    count capacity, release. An order whose profile routes in waves is queued instead, the
    first time. With `deferred`, the decisions' rows and the capacity taken are left in it for
    the caller to write with the order, instead of written at once."""
    rows = None if deferred is None else deferred.decisions
    outstanding = found.outstanding_lines()
    added: list[Fulfilment] = []
    waiting: dict[str, str] = {}
    decisions: list[str] = []
    shipping = [line for line in outstanding if line.method is Method.SHIP]
    if shipping:
        request, routed, facts = shipping_request(zips, found, shipping)
        if wave is not None and wave.plan is not None:
            decided = sourcing.record_in(connection, wave.plan, request, actor, now, rows)
        else:
            chosen = sourcing.profile_for(connection, request, facts)
            if chosen[0].constraints.wave and wave is None and found.sourced_at is None:
                found.queue_for_wave(chosen[0].name, now, actor)
                return
            decided = sourcing.commit_in(
                connection,
                connection.engine,
                actor,
                found.channel,
                request,
                routed,
                facts,
                now,
                found.avoid,
                chosen,
                rows,
            )
        decisions.append(str(decided.id))
        added.extend(_fulfilments_of(decided.plan.shipments, now))
        waiting.update(_reasons(decided.plan))
    collected = [line for line in outstanding if line.method.at_store]
    if collected:
        transferring = _collection_request(connection, found, collected)
        if transferring is None:
            for method in (Method.PICKUP, Method.CURBSIDE):
                lines = [line for line in collected if line.method is method]
                if lines:
                    at_store, short = _collect_at_store(connection, found, lines, method, now)
                    added.extend(at_store)
                    waiting.update(short)
        else:
            decided = _collect_or_transfer(
                connection, found, collected, *transferring, actor, now, rows
            )
            decisions.append(str(decided.id))
            added.extend(_collected_at(decided.plan, found, collected, now))
            waiting.update(_reasons(decided.plan))
    current = network(connection)
    for new in added:
        day = sourcing.local_day(current.by_id[new.node_id], now)
        if deferred is None:
            order_store.add_capacity(connection, new.node_id, day, new.units, 1)
        else:
            deferred.take_capacity(new.node_id, day, new.units)
    if policy.consolidation_window:
        _consolidate(connection, found, added, now - policy.consolidation_window)
    found.add_fulfilments(added, waiting, now, actor, decisions)
    if policy.auto_release:
        found.release(now, "auto-release")


def _reasons(plan: Plan) -> dict[str, str]:
    """Why each line the plan leaves unfilled waits."""
    return {u.line_id: f"{u.reason.value}: {u.detail}" for u in plan.unfilled}


def _consolidate(
    connection: Connection, found: Order, added: Sequence[Fulfilment], since: datetime
) -> None:
    """Point each new shipping request at the customer's other requests to the same address at
    the same node, made since `since` and not yet started, so the node ships them together."""
    if found.customer.id is None or found.ship_to is None:
        return
    address = order_document(found)["ship_to"]
    for new in added:
        if new.method is not Method.SHIP or new.transfer_to is not None:
            continue
        new.ship_with = [
            other.id
            for other in order_store.mergeable_requests(
                connection, new.node_id, found.customer.id, found.id, since
            )
            if other.document_ship_to == address
        ]


def _collection_request(
    connection: Connection, found: Order, lines: Sequence[Any]
) -> tuple[sourcing.SourcingRequest, RoutedOrder, sourcing.Chosen] | None:
    """The collected lines as a request to route to the pickup store itself (a business, by
    ground or faster, by the order's promise date) and the profile it routes under, when that
    profile allows transfers to the store; None when it does not (or the store is not in the
    network)."""
    store_id = found.pickup_node_id
    assert store_id is not None
    store_node = network(connection).by_id.get(store_id)
    if store_node is None:
        return None
    request = sourcing.SourcingRequest(
        order_id=found.id,
        lines=tuple(RoutedLine(line.line_id, line.sku, line.quantity) for line in lines),
        zip_code=store_node.address.zip,
        residential=False,
        promise_by=found.promise_by,
        facts=_facts_of(found),
    )
    routed = RoutedOrder(
        found.id,
        request.lines,
        store_node.location,
        request.service_level,
        request.promise_by,
        residential=False,
    )
    facts = replace(
        request.facts, service_level=request.service_level, region=store_node.address.state
    )
    chosen = sourcing.profile_for(connection, request, facts)
    if not chosen[0].constraints.transfers_to_pickup:
        return None
    return request, routed, chosen


def _collect_or_transfer(
    connection: Connection,
    found: Order,
    lines: Sequence[Any],
    request: sourcing.SourcingRequest,
    routed: RoutedOrder,
    chosen: sourcing.Chosen,
    actor: str,
    now: datetime,
    rows: list[dict[str, Any]] | None,
) -> sourcing.Decision:
    """Collected lines routed in one plan: from the pickup store's shelf, transferred to it
    from other nodes, or a line split between them, as the profile weighs them; allocated
    (the shelf's units for pickup) and recorded like any decision."""
    store_id = found.pickup_node_id
    assert store_id is not None
    decided = sourcing.decide_collection_in(
        connection, request, routed, found.channel, store_id, now, found.avoid, chosen
    )
    return sourcing.record_collection_in(connection, decided, request, store_id, actor, now, rows)


def _collected_at(
    plan: Plan, found: Order, lines: Sequence[Any], now: datetime
) -> list[Fulfilment]:
    """The fulfilments of a collection plan: a request at the store per method for the units
    from its shelf, as `_collect_at_store` makes them, and a transfer per other node."""
    store_id = found.pickup_node_id
    assert store_id is not None
    method_of = {line.line_id: line.method for line in lines}
    picked = [line for pick in shelf_picks(plan, store_id) for line in pick.lines]
    at_store = [
        Fulfilment(
            _fulfilment_id(),
            store_id,
            method,
            Status.SOURCED,
            [Part(line.line_id, line.sku, line.quantity) for line in parts],
            now,
        )
        for method in (Method.PICKUP, Method.CURBSIDE)
        if (parts := [line for line in picked if method_of[line.line_id] is method])
    ]
    return at_store + _fulfilments_of(transfers_in(plan, store_id), now, store_id)


def arrive_at_store(
    connection: Connection, found: Order, transfer: Fulfilment, actor: str, now: datetime
) -> Fulfilment:
    """A transfer delivered to the pickup store: its units join the store's stock, held for
    this order by a pickup request there, released to the store at once."""
    store_id = transfer.transfer_to
    assert store_id is not None
    shift_stock(connection, units_at(store_id, transfer.parts), now)
    method = found.line(transfer.parts[0].line_id).method
    request = Fulfilment(
        _fulfilment_id(),
        store_id,
        method,
        Status.SOURCED,
        [Part(p.line_id, p.sku, p.quantity) for p in transfer.parts],
        now,
    )
    day = sourcing.local_day(network(connection).by_id[store_id], now)
    order_store.add_capacity(connection, store_id, day, request.units, 1)
    found.take_over(transfer.id, request, now, actor)
    found.release(now, actor)
    return request


@dataclass
class Deferred:
    """Rows a new order's routing leaves for the order's own insert (one statement on
    PostgreSQL): its decisions, and the units and orders it takes per node and local day."""

    decisions: list[dict[str, Any]] = field(default_factory=list)
    capacity: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)

    def take_capacity(self, node_id: str, day: date, units: int) -> None:
        taken_units, taken_orders = self.capacity.get((node_id, day), (0, 0))
        self.capacity[node_id, day] = (taken_units + units, taken_orders + 1)

    def capacity_rows(self) -> list[dict[str, Any]]:
        """The capacity taken, one row per node and day, as `order_store.add_capacity` counts."""
        return [
            {"node_id": node_id, "day": day, "units": units, "orders": count}
            for (node_id, day), (units, count) in self.capacity.items()
        ]


@dataclass
class Wave:
    """An order's place in a batch wave: the plan the wave made for its shipping lines (None:
    route it alone, the wave's units went elsewhere meanwhile)."""

    plan: sourcing.Decision | None


def shipping_request(
    zips: ZipDirectory, found: Order, lines: Sequence[Any]
) -> tuple[sourcing.SourcingRequest, RoutedOrder, OrderFacts]:
    assert found.ship_to is not None
    request = sourcing.SourcingRequest(
        order_id=found.id,
        lines=tuple(RoutedLine(line.line_id, line.sku, line.quantity) for line in lines),
        zip_code=found.ship_to.zip_code,
        residential=found.ship_to.residential,
        service_level=found.service_level,
        promise_by=found.promise_by,
        facts=_facts_of(found),
    )
    routed, facts = sourcing.order_of(zips, request)
    return request, routed, facts


def _facts_of(found: Order) -> OrderFacts:
    """What the profile rules look at."""
    return OrderFacts(
        channel=found.channel,
        segment=found.customer.segment,
        tags=frozenset(found.tags),
        free_shipping=found.free_shipping,
        value=found.value,
    )


def _fulfilments_of(
    shipments: Sequence[PlannedShipment], now: datetime, transfer_to: str | None = None
) -> list[Fulfilment]:
    return [
        Fulfilment(
            id=_fulfilment_id(),
            node_id=shipment.node_id,
            method=Method.SHIP,
            status=Status.SOURCED,
            parts=[Part(line.line_id, line.sku, line.quantity) for line in shipment.lines],
            created_at=now,
            carrier=shipment.carrier,
            service=shipment.service,
            ship_on=shipment.ship_on,
            deliver_on=shipment.deliver_on,
            transfer_to=transfer_to,
            planned_packages=shipment.packages,
        )
        for shipment in shipments
    ]


def _collect_at_store(
    connection: Connection,
    found: Order,
    lines: Sequence[Any],
    method: Method,
    now: datetime,
) -> tuple[list[Fulfilment], dict[str, str]]:
    """Collected lines come from the pickup store's own stock (its safety stock is for exactly
    these customers); a line the store cannot cover waits for supply there."""
    store_id = found.pickup_node_id
    assert store_id is not None
    node = network(connection).by_id.get(store_id)
    waiting: dict[str, str] = {}
    if node is None or node.status_at(now).value != "active":
        return [], {line.line_id: f"store {store_id} is paused" for line in lines}
    needed: dict[str, int] = {}
    for line in lines:
        needed[line.sku] = needed.get(line.sku, 0) + line.quantity
    locked = store.lock_positions(connection, [(sku, store_id) for sku in needed], now)
    left = {sku: locked[(sku, store_id)].available_for(StockMethod.PICKUP) for sku in needed}
    parts: list[Part] = []
    for line in lines:
        if (line.sku, store_id) in found.avoid:
            waiting[line.line_id] = f"store {store_id} gave it back: waiting for stock there"
        elif left[line.sku] >= line.quantity:
            left[line.sku] -= line.quantity
            parts.append(Part(line.line_id, line.sku, line.quantity))
        else:
            waiting[line.line_id] = (
                f"not_enough_stock: store {store_id} has {left[line.sku]} of {line.quantity}"
            )
    if not parts:
        return [], waiting
    allocate_units(connection, units_at(store_id, parts), now, StockMethod.PICKUP)
    request = Fulfilment(_fulfilment_id(), store_id, method, Status.SOURCED, parts, now)
    return [request], waiting


def _fulfilment_id() -> str:
    return "f_" + random_hex(8)
