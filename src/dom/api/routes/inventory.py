"""/v1/inventory and /v1/reservations: stock events, positions, holds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.api.idempotency import IdempotencyKeyDep, run_once
from dom.domain.errors import InvalidField, InvalidInput, Problem
from dom.domain.inventory import InventoryEvent, Method, Position
from dom.domain.promise import CartLine
from dom.schemas.inventory import (
    AvailabilityView,
    CartPromiseView,
    EventsIn,
    EventsOut,
    ExclusionsIn,
    ExclusionsOut,
    ExtendIn,
    HistoryEntry,
    NodeSyncIn,
    NodeSyncOut,
    PositionView,
    PromiseIn,
    PromiseView,
    ReservationIn,
    ReservationOut,
    SafetyStockIn,
    SupplyIn,
    SupplyView,
    TotalsView,
)
from dom.services import inventory, promising, supply

router = APIRouter(tags=["inventory"])


def position_view(position: Position) -> dict[str, Any]:
    return {**asdict(position), "available": position.available}


@router.post(
    "/v1/inventory/events",
    response_model=EventsOut,
    summary="Record inventory events (snapshot, adjustment, receipt, shrink, damage), all or none",
)
def record_events(
    body: EventsIn,
    engine: EngineDep,
    principal: PrincipalDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        requests = []
        problems: list[Problem] = []
        for index, item in enumerate(body.events):
            try:
                event = InventoryEvent(
                    item.kind,
                    item.sku,
                    item.node_id,
                    item.quantity,
                    item.source,
                    item.source_time,
                    item.reason,
                )
            except InvalidField as error:
                problems.append(Problem(f"events.{index}.{error.field}", error.reason))
                continue
            requests.append(inventory.EventRequest(item.idempotency_key, event, item.supply_id))
        if problems:
            raise InvalidInput(problems)
        outcomes = inventory.record_events(engine, principal, requests)
        return {
            "outcomes": [
                {
                    **{k: v for k, v in asdict(o).items() if k != "position"},
                    "position": position_view(o.position),
                }
                for o in outcomes
            ]
        }

    return run_once(engine, principal, idempotency_key, request, body, 200, produce, EventsOut)


@router.post(
    "/v1/inventory/nodes/{node_id}/sync",
    response_model=NodeSyncOut,
    summary="Full count of a node in one atomic call (unlisted SKUs count as zero)",
)
def sync_node(
    node_id: str,
    body: NodeSyncIn,
    engine: EngineDep,
    principal: PrincipalDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        synced = inventory.sync_node(
            engine,
            principal,
            node_id,
            _counted(body),
            source=body.source,
            source_time=body.source_time,
            idempotency_key=body.idempotency_key,
        )
        return {
            "node_id": node_id,
            "positions": synced.positions,
            "applied": synced.applied,
            "replayed": synced.replayed,
            "uncovered": synced.uncovered,
        }

    return run_once(engine, principal, idempotency_key, request, body, 200, produce, NodeSyncOut)


def _counted(body: NodeSyncIn) -> dict[str, int]:
    """The count as SKU → units, from whichever form the body has (exactly one)."""
    if body.quantities is not None:
        if body.counts is not None:
            raise InvalidField("quantities", "give counts or quantities, not both")
        return body.quantities
    if body.counts is None:
        raise InvalidField("counts", "a full count needs counts (or quantities)")
    counted: dict[str, int] = {}
    for index, count in enumerate(body.counts):
        sku = count["sku"]
        if sku in counted:
            raise InvalidInput([Problem(f"counts.{index}.sku", f"{sku} is counted twice")])
        counted[sku] = count["quantity"]
    return counted


@router.get(
    "/v1/inventory/positions", response_model=list[PositionView], summary="Positions by SKU or node"
)
def list_positions(
    engine: EngineDep,
    principal: PrincipalDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    node_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    if sku is None and node_id is None and principal.node_id is None:
        raise InvalidInput([Problem("sku", "give a sku, a node_id or both")])
    found = inventory.positions(engine, principal, sku=sku, node_id=node_id, limit=limit)
    return [position_view(p) for p in found]


@router.get(
    "/v1/inventory/positions/{sku}/{node_id}/history",
    response_model=list[HistoryEntry],
    summary="A position's audit history, newest first",
)
def position_history(
    sku: str,
    node_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return inventory.position_history(engine, principal, sku, node_id, limit)


@router.post(
    "/v1/reservations",
    response_model=ReservationOut,
    status_code=201,
    summary="Hold stock for a cart or an order until it expires",
    responses={409: {"description": "not enough stock: every short line is listed"}},
)
def reserve(
    body: ReservationIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        destination = None
        if body.zip is not None:
            place = zips.destination(body.zip)
            if place is None:
                raise InvalidField("zip", f"unknown ZIP code {body.zip}")
            destination = place.location
        request = inventory.ReservationRequest(
            reference=body.reference,
            lines=tuple(
                inventory.HoldLine(line.sku, line.node_id, line.quantity) for line in body.lines
            ),
            expires_at=body.expires_at,
            partial=body.partial,
            method=body.method,
            channel=body.channel,
            destination=destination,
        )
        return asdict(inventory.reserve(engine, principal, request))

    return run_once(engine, principal, idempotency_key, request, body, 201, produce, ReservationOut)


@router.delete(
    "/v1/reservations/{reservation_id}", status_code=204, summary="Release a reservation"
)
def release(reservation_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    inventory.release(engine, principal, reservation_id)
    return Response(status_code=204)


@router.post("/v1/reservations/{reservation_id}/extend", summary="Move a live reservation's expiry")
def extend(
    reservation_id: str, body: ExtendIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    expires_at = inventory.extend(engine, principal, reservation_id, body.expires_at)
    return {"id": reservation_id, "expires_at": expires_at.isoformat()}


@router.post(
    "/v1/reservations/{reservation_id}/allocate",
    summary="Convert a live reservation into allocations (committed to an order)",
)
def allocate(reservation_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    lines = inventory.allocate(engine, principal, reservation_id)
    return {"id": reservation_id, "allocated": [asdict(line) for line in lines]}


@router.get(
    "/v1/availability",
    response_model=list[AvailabilityView],
    summary="Units promisable now, per SKU, across the network and per node",
)
def availability(
    engine: EngineDep,
    principal: PrincipalDep,
    sku: Annotated[list[str], Query(min_length=1, max_length=500, description="repeat for many")],
    method: Method = Method.SHIP,
    channel: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    found = inventory.availability(engine, principal, sku, method=method, channel=channel)
    # Built by hand: `asdict` copies recursively, and a hundred SKUs bring thousands of nodes.
    return [
        {
            "sku": a.sku,
            "available": a.available,
            "nodes": [{"node_id": n.node_id, "available": n.available} for n in a.nodes],
        }
        for a in found
    ]


@router.put(
    "/v1/inventory/positions/{sku}/{node_id}/safety-stock",
    response_model=PositionView,
    summary="Keep units of a position back from shipping (pickup at the node may still use them)",
)
def set_safety_stock(
    sku: str, node_id: str, body: SafetyStockIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return position_view(inventory.set_safety_stock(engine, principal, sku, node_id, body.quantity))


@router.put(
    "/v1/channels/{channel}/excluded-nodes",
    response_model=ExclusionsOut,
    summary="Leave nodes out of a channel's availability (its distribution group)",
)
def exclude_nodes(
    channel: str, body: ExclusionsIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return {
        "channel": channel,
        "node_ids": inventory.exclude_nodes(engine, principal, channel, body.node_ids),
    }


@router.get("/v1/channels/{channel}/excluded-nodes", response_model=ExclusionsOut)
def excluded_nodes(channel: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"channel": channel, "node_ids": inventory.excluded_nodes(engine, principal, channel)}


@router.post(
    "/v1/inbound-supply",
    response_model=list[SupplyView],
    status_code=201,
    summary="Announce inbound supply: purchase orders, transfers, advance ship notices",
)
def add_supply(
    body: SupplyIn,
    engine: EngineDep,
    principal: PrincipalDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        lines = [
            supply.SupplyLine(
                line.kind,
                line.reference,
                line.sku,
                line.node_id,
                line.quantity,
                line.expected_on,
                line.from_node_id,
            )
            for line in body.lines
        ]
        return [asdict(s) for s in supply.add_supply(engine, principal, lines)]

    return run_once(
        engine, principal, idempotency_key, request, body, 201, produce, list[SupplyView]
    )


@router.get("/v1/inbound-supply", response_model=list[SupplyView], summary="Open inbound supply")
def open_supply(
    engine: EngineDep,
    principal: PrincipalDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    node_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    return [asdict(s) for s in supply.open_supply(engine, principal, sku=sku, node_id=node_id)]


@router.get(
    "/v1/atp",
    response_model=PromiseView,
    summary="Time-phased available-to-promise: from which day a quantity can be promised",
)
def atp(
    engine: EngineDep,
    principal: PrincipalDep,
    sku: Annotated[str, Query(min_length=1, max_length=64)],
    quantity: Annotated[int, Query(gt=0)],
    node_id: Annotated[str | None, Query(max_length=64)] = None,
    method: Method = Method.SHIP,
    channel: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    found = supply.promise(
        engine, principal, sku, quantity, node_id=node_id, method=method, channel=channel
    )
    return asdict(found)


@router.post(
    "/v1/promise",
    response_model=CartPromiseView,
    summary="Delivery promise for a cart: per service level, the date, the cost and the nodes",
    description="Reads only; nothing is held. Give a ship-to `zip` or a `pickup_store`.",
)
def promise_cart(
    body: PromiseIn, engine: EngineDep, principal: PrincipalDep, zips: ZipsDep
) -> dict[str, Any]:
    cart = [CartLine(line.sku, line.quantity) for line in body.lines]
    if len({line.sku for line in cart}) != len(cart):
        raise InvalidInput([Problem("lines", "each SKU once, please: add the quantities up")])
    found = promising.promise_cart(
        engine,
        principal,
        zips,
        cart,
        zip_code=body.zip,
        pickup_store=body.pickup_store,
        residential=body.residential,
        channel=body.channel,
    )
    return asdict(found)


@router.get(
    "/v1/inventory/totals", response_model=list[TotalsView], summary="Network totals per SKU"
)
def network_totals(
    engine: EngineDep,
    principal: PrincipalDep,
    sku: Annotated[list[str], Query(min_length=1, max_length=500, description="repeat for many")],
) -> list[dict[str, Any]]:
    return [asdict(t) for t in inventory.network_totals(engine, principal, sku)]


@router.get(
    "/v1/inventory/low-stock",
    response_model=list[PositionView],
    summary="Positions at or below a threshold of units available to ship, emptiest first",
)
def low_stock(
    engine: EngineDep,
    principal: PrincipalDep,
    threshold: Annotated[int, Query(ge=0)] = 0,
    node_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    found = inventory.low_stock(
        engine, principal, threshold=threshold, node_id=node_id, limit=limit
    )
    return [position_view(p) for p in found]
