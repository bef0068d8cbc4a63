"""Orders over HTTP: capture, follow, hold and release, cancel; and the node's steps on its
fulfilment requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.api.idempotency import RESPONSES, IdempotencyKeyDep, Produced, run_once
from dom.domain.access import Action
from dom.domain.orders.lifecycle import HoldKind, Status
from dom.domain.orders.model import Address, Customer, Fulfilment, Order, OrderLine, Package
from dom.schemas.orders import (
    CancelIn,
    OrderIn,
    OrderPageView,
    OrderView,
    PackIn,
    PickIn,
    RejectIn,
    RequestView,
    ShipIn,
    TrackingView,
)
from dom.services import fulfilment, notifications, order_changes, orders, tracking
from dom.services.plan_records import plain

router = APIRouter(tags=["orders"])

Step = Callable[[Connection, Order, Fulfilment, datetime], None]


async def policy(request: Request) -> order_changes.Policy:
    # A coroutine: FastAPI sends a plain function dependency to the thread pool (see deps.py).
    return order_changes.Policy.from_settings(request.app.state.settings)


PolicyDep = Annotated[order_changes.Policy, Depends(policy)]


def draft_of(body: OrderIn) -> Order:
    ship_to = body.ship_to
    return Order(
        id=orders.new_order_id(),
        channel=body.channel,
        external_id=body.external_id,
        customer=Customer(**body.customer.model_dump()),
        lines=tuple(
            OrderLine(
                line.line_id or str(index + 1),
                line.sku,
                line.quantity,
                line.unit_price,
                line.method,
            )
            for index, line in enumerate(body.lines)
        ),
        created_at=datetime.now(UTC),
        ship_to=None
        if ship_to is None
        else Address(
            ship_to.name,
            ship_to.line1,
            ship_to.city,
            ship_to.state,
            ship_to.zip,
            ship_to.line2,
            ship_to.residential,
        ),
        pickup_node_id=body.pickup_node_id,
        service_level=body.service_level,
        promise_by=body.promise_by,
        free_shipping=body.free_shipping,
        gift=body.gift,
        tags=tuple(body.tags),
    )


def fulfilment_view(
    order_id: str, found: Fulfilment, expected: Mapping[str, date] | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = plain(found)
    view["order_id"] = order_id
    view["expected_on"] = (expected or {}).get(found.id, found.deliver_on)
    view["ready_at"] = found.ready_at
    view["at_risk_since"] = found.at_risk_since
    view["created_at"] = found.created_at
    return view


def address_view(address: Address | None) -> dict[str, Any] | None:
    """The address as it came in: `zip`, like the input."""
    if address is None:
        return None
    view: dict[str, Any] = plain(address)
    view["zip"] = view.pop("zip_code")
    return view


def order_view(
    found: Order, expected: Mapping[str, date] | None = None, tracking_url: str | None = None
) -> dict[str, Any]:
    return {
        "id": found.id,
        "channel": found.channel,
        "external_id": found.external_id,
        "status": found.status,
        "customer": plain(found.customer),
        "ship_to": address_view(found.ship_to),
        "pickup_node_id": found.pickup_node_id,
        "service_level": found.service_level,
        "promise_by": found.promise_by,
        "free_shipping": found.free_shipping,
        "gift": found.gift,
        "tags": list(found.tags),
        "holds": sorted(found.holds),
        "value": found.value,
        "lines": [
            plain(line)
            | {
                "status": found.line_status(line.line_id),
                "cancelled": found.cancelled.get(line.line_id, 0),
                "backordered": found.outstanding(line.line_id) if found.sourced_at else 0,
                "waiting_because": found.waiting.get(line.line_id),
            }
            for line in found.lines
        ],
        "fulfilments": [fulfilment_view(found.id, f, expected) for f in found.fulfilments],
        "tracking_url": tracking_url,
        "decisions": found.decisions,
        "created_at": found.created_at,
        "sourced_at": found.sourced_at,
        "history": [
            {"at": e.at, "actor": e.actor, "event": e.event, "detail": plain(e.detail)}
            for e in found.history
        ],
    }


def request_view(found: fulfilment.Request) -> dict[str, Any]:
    owner = found.order
    return {
        "kind": "purchase_order" if found.purchase_order else "fulfilment_request",
        "fulfilment": fulfilment_view(owner.id, found.fulfilment),
        "order_id": owner.id,
        "channel": owner.channel,
        "external_id": owner.external_id,
        "ship_to": address_view(owner.ship_to),
        "customer_name": owner.customer.name,
        "gift": owner.gift,
    }


async def track_key(request: Request) -> str:
    """The master key tracking links derive from, read once per process (in the thread pool:
    it may be read from the database)."""
    state = request.app.state
    if getattr(state, "track_key", None) is None:
        state.track_key = await run_in_threadpool(
            notifications.master_key, state.engine, state.settings.secret_key
        )
    key: str = state.track_key
    return key


TrackKeyDep = Annotated[str, Depends(track_key)]


def full_view(engine: Any, found: Order, key: str, request: Request) -> dict[str, Any]:
    """An order as customer service sees it: with expected dates and the customer's link."""
    link = tracking_link(request, key, found)
    return order_view(found, tracking.expected_dates(engine, found), link)


def tracking_link(request: Request, key: str, found: Order) -> str:
    return str(request.base_url).rstrip("/") + tracking.tracking_path(key, found.id)


@router.post(
    "/v1/orders",
    response_model=OrderView,
    status_code=201,
    summary="Capture an order: validated, recorded, sourced and released unless held",
    description="The same channel and external id again returns the first order (200). Every "
    "bad line is listed at once and nothing is written.",
    responses=RESPONSES | {200: {"description": "the channel sent this order before"}},
)
def capture(
    body: OrderIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    rules: PolicyDep,
    key: TrackKeyDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        captured = orders.capture(engine, principal, zips, draft_of(body), body.holds, rules)
        if not captured.created:
            earlier = orders.order(engine, principal, captured.order.id)
            return Produced(200, full_view(engine, earlier, key, request))
        # Just routed: nothing is late yet, and the order in hand is the whole of it.
        return Produced(
            201, order_view(captured.order, None, tracking_link(request, key, captured.order))
        )

    return run_once(engine, principal, idempotency_key, request, body, 201, produce, OrderView)


@router.get("/v1/orders", response_model=OrderPageView, summary="Orders, newest first")
def list_orders(
    engine: EngineDep,
    principal: PrincipalDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: str | None = Query(default=None, description="the `next_before` of the last page"),
) -> dict[str, Any]:
    page = orders.orders(engine, principal, status, limit, before)
    return {"orders": [order_view(o) for o in page.orders], "next_before": page.next_before}


@router.get(
    "/v1/orders/{order_id}",
    response_model=OrderView,
    summary="An order: status per line, fulfilment requests with tracking, promised and "
    "expected delivery, the customer's tracking link, and the full history",
)
def get_order(
    order_id: str, engine: EngineDep, principal: PrincipalDep, key: TrackKeyDep, request: Request
) -> dict[str, Any]:
    return full_view(engine, orders.order(engine, principal, order_id), key, request)


@router.get(
    "/v1/track/{order_id}",
    response_model=TrackingView,
    tags=["tracking"],
    summary="For the customer, with the token from their link (no API key): status, parcels "
    "with tracking numbers, promised and expected delivery, what happened",
    responses={404: {"description": "no such order, or the token is not its own"}},
)
def track(
    order_id: str,
    engine: EngineDep,
    key: TrackKeyDep,
    token: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    found: dict[str, Any] = plain(tracking.track(engine, key, order_id, token))
    return found


@router.get(
    "/v1/orders/{order_id}/events",
    summary="The events the order published (webhooks and customer messages are made of them)",
)
def order_events(order_id: str, engine: EngineDep, principal: PrincipalDep) -> list[Any]:
    return orders.outbox_events(engine, principal, order_id)


@router.post(
    "/v1/orders/{order_id}/holds/{kind}/release",
    response_model=OrderView,
    summary="Clear a payment, fraud or address hold; the last one sends the order to sourcing",
)
def release_hold(
    order_id: str,
    kind: HoldKind,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    rules: PolicyDep,
) -> dict[str, Any]:
    orders.release_hold(engine, principal, zips, order_id, kind, rules)
    return order_view(orders.order(engine, principal, order_id))


@router.post(
    "/v1/orders/{order_id}/release",
    response_model=OrderView,
    summary="Send the sourced fulfilment requests to their nodes (auto-release off)",
)
def release(order_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    orders.release(engine, principal, order_id)
    return order_view(orders.order(engine, principal, order_id))


@router.post(
    "/v1/orders/{order_id}/source",
    response_model=OrderView,
    summary="Route what the order still waits for (backorders are also retried by the worker)",
)
def source(
    order_id: str, engine: EngineDep, principal: PrincipalDep, zips: ZipsDep, rules: PolicyDep
) -> dict[str, Any]:
    principal.require(Action.MANAGE_ORDERS)
    orders.order(engine, principal, order_id)  # the caller may see it
    orders.source(engine, zips, order_id, principal.name, rules)
    return order_view(orders.order(engine, principal, order_id))


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=OrderView,
    summary="Cancel the order or some lines: units and capacity are freed",
)
def cancel(
    order_id: str, body: CancelIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    orders.cancel(engine, principal, order_id, body.line_ids, body.reason)
    return order_view(orders.order(engine, principal, order_id))


# ---- node operations ----------------------------------------------------------------------


@router.get(
    "/v1/fulfilments",
    response_model=list[RequestView],
    tags=["fulfilment"],
    summary="Open fulfilment requests, oldest first (a node key: its own node's)",
)
def open_requests(
    engine: EngineDep,
    principal: PrincipalDep,
    node_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return [request_view(r) for r in fulfilment.requests(engine, principal, node_id, limit)]


def _run(engine: Any, principal: Any, fulfilment_id: str, act: Step) -> dict[str, Any]:
    return request_view(fulfilment.operate(engine, principal, fulfilment_id, act))


@router.post(
    "/v1/fulfilments/{fulfilment_id}/acknowledge",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="The node has the request",
)
def acknowledge(fulfilment_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return _run(engine, principal, fulfilment_id, fulfilment.acknowledge(principal.name))


@router.post(
    "/v1/fulfilments/{fulfilment_id}/reject",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="Give lines back: routed again without this node (not_found and damaged are "
    "written off its stock)",
)
def reject(
    fulfilment_id: str,
    body: RejectIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    rules: PolicyDep,
) -> dict[str, Any]:
    act = fulfilment.reject(zips, rules, principal.name, body.line_ids, body.reason)
    return _run(engine, principal, fulfilment_id, act)


@router.post(
    "/v1/fulfilments/{fulfilment_id}/pick",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="Confirm the pick; a short pick is written off here and routed again elsewhere",
)
def pick(
    fulfilment_id: str,
    body: PickIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    rules: PolicyDep,
) -> dict[str, Any]:
    act = fulfilment.confirm_pick(zips, rules, principal.name, body.picked)
    return _run(engine, principal, fulfilment_id, act)


@router.post(
    "/v1/fulfilments/{fulfilment_id}/pack",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="Pack the picked units into packages",
)
def pack(
    fulfilment_id: str, body: PackIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    packages = [Package(dict(p.lines), p.weight_lb) for p in body.packages]
    return _run(engine, principal, fulfilment_id, fulfilment.pack(principal.name, packages))


@router.post(
    "/v1/fulfilments/{fulfilment_id}/ship",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="Hand the packages to the carrier, one tracking number each",
)
def ship(
    fulfilment_id: str, body: ShipIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    act = fulfilment.ship(principal.name, body.carrier, body.service, body.tracking)
    return _run(engine, principal, fulfilment_id, act)


def _simple_step(path: str, wanted: Status, summary: str) -> None:
    def endpoint(fulfilment_id: str, engine: EngineDep, principal: PrincipalDep) -> Any:
        return _run(engine, principal, fulfilment_id, fulfilment.step(principal.name, wanted))

    endpoint.__name__ = path.replace("-", "_")
    router.post(
        f"/v1/fulfilments/{{fulfilment_id}}/{path}",
        response_model=RequestView,
        tags=["fulfilment"],
        summary=summary,
    )(endpoint)


_simple_step("ready-for-pickup", Status.READY_FOR_PICKUP, "Packed and waiting at the counter")
_simple_step("customer-arrived", Status.CUSTOMER_ARRIVED, "Curbside: the customer is outside")
_simple_step("in-transit", Status.IN_TRANSIT, "The carrier reports the parcels under way")
_simple_step("delivered", Status.DELIVERED, "The carrier reports the delivery")


@router.post(
    "/v1/fulfilments/{fulfilment_id}/hand-over",
    response_model=RequestView,
    tags=["fulfilment"],
    summary="The customer collected it (in store or at the car)",
)
def hand_over(fulfilment_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return _run(engine, principal, fulfilment_id, fulfilment.hand_over(principal.name))
