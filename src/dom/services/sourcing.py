"""Route an order: choose its profile, read what each node can give, run the engine; on commit,
allocate the plan's units in the same transaction as its record, or try again from a fresh read
if a racing writer took them first."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from dom.adapters import inventory_store as store
from dom.adapters import order_store, sourcing_store
from dom.adapters import repositories as repo
from dom.adapters.database import reading, writing
from dom.adapters.network_cache import Network, network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.catalog import Product
from dom.domain.errors import InvalidInput, NotFound, Problem
from dom.domain.inventory import InsufficientStock, Method
from dom.domain.network import Node
from dom.domain.sourcing.collection import route_collection, shelf_picks, transfers_in
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.model import (
    Costs,
    Offer,
    Order,
    OrderLine,
    Plan,
    PlannedShipment,
    ShipmentLine,
)
from dom.domain.sourcing.profiles import OrderFacts, Profile, select_profile
from dom.ids import random_hex
from dom.services import forecasts
from dom.services import profiles as registry
from dom.services.inventory import allocate_units, check_names, deallocate_units, eligible_among
from dom.services.plan_records import plain, plan_from_record, plan_to_record

#: A profile, its version, and the selection rule that chose it (None: fallback or asked for).
Chosen = tuple[Profile, int, str | None]

#: Attempts to commit a plan when racing writers keep taking the units it chose.
COMMIT_TRIES = 3


@dataclass(frozen=True)
class SourcingRequest:
    """An order as the routing engine needs it, with the facts profile rules look at."""

    order_id: str
    lines: tuple[OrderLine, ...]
    zip_code: str
    residential: bool = True
    service_level: str = "ground"
    promise_by: date | None = None
    facts: OrderFacts = field(default_factory=OrderFacts)
    #: route under this profile (its active version) instead of the one the rules select
    profile: str | None = None
    #: with `profile`: this version of it, a draft included — a dry run before activation
    profile_version: int | None = None


@dataclass(frozen=True)
class Decision:
    """A routing decision: the plan, the profile that made it and why that profile."""

    id: str | None  # None for a dry run: nothing was recorded or allocated
    order_id: str
    plan: Plan
    profile: str
    profile_version: int
    rule: str | None  # the selection rule that chose the profile; None: fallback or asked
    committed: bool
    decided_at: datetime
    history: tuple[Rerouted, ...] = ()


@dataclass(frozen=True)
class Rerouted:
    """Lines a node gave back (rejected, short-picked, paused), routed again without it."""

    at: datetime
    node_id: str
    line_ids: tuple[str, ...]
    reason: str
    to: tuple[str, ...]  # the nodes they were routed to; empty: left unfilled


def plan(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    request: SourcingRequest,
    now: datetime | None = None,
) -> Decision:
    """Route the order and say why; nothing is held, allocated or recorded."""
    principal.require(Action.READ_INVENTORY)
    moment = now or datetime.now(UTC)
    order, facts = order_of(zips, request)
    with reading(engine) as connection:
        return _decide(connection, engine, principal, request, order, facts, moment)


def commit(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    request: SourcingRequest,
    now: datetime | None = None,
) -> Decision:
    """Route the order and allocate its plan atomically with the decision's record."""
    principal.require(Action.RESERVE)
    if request.profile_version is not None:
        raise InvalidInput(
            [Problem("profile_version", "only a dry run may use a profile version not active")]
        )
    moment = now or datetime.now(UTC)
    order, facts = order_of(zips, request)
    for attempt in range(1, COMMIT_TRIES + 1):
        try:
            with writing(engine) as connection:
                channel = principal.channel or facts.channel
                return commit_in(
                    connection, engine, principal.name, channel, request, order, facts, moment
                )
        except InsufficientStock:
            if attempt == COMMIT_TRIES:
                raise
    raise AssertionError("unreachable")


def commit_in(
    connection: Connection,
    engine: Engine,
    actor: str,
    channel: str | None,
    request: SourcingRequest,
    order: Order,
    facts: OrderFacts,
    now: datetime,
    avoid: Collection[tuple[str, str]] = (),
    chosen: Chosen | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> Decision:
    """Route and allocate in the caller's transaction, and record the decision; `avoid` names
    (SKU, node) pairs the plan may not use (a node gave those units back); `chosen` is the
    profile if the caller chose it already; `rows` as for `record_in`."""
    decided = decide_in(connection, engine, request, order, facts, channel, now, avoid, chosen)
    return record_in(connection, decided, request, actor, now, rows)


def record_in(
    connection: Connection,
    decided: Decision,
    request: SourcingRequest,
    actor: str,
    now: datetime,
    rows: list[dict[str, Any]] | None = None,
) -> Decision:
    """Allocate a plan made elsewhere (a wave's, say) and record its decision, in the caller's
    transaction; InsufficientStock if its units are gone meanwhile. With `rows`, the
    decision's row is added to them for the caller to write with its own, instead."""
    decided = replace(decided, id=random_hex(8), committed=True)
    allocate_units(connection, units_of(decided.plan), now)
    _write_decision(connection, decided, request, actor, rows)
    return decided


def record_collection_in(
    connection: Connection,
    decided: Decision,
    request: SourcingRequest,
    store_id: str,
    actor: str,
    now: datetime,
    rows: list[dict[str, Any]] | None = None,
) -> Decision:
    """As `record_in`, for a plan of collected lines at `store_id` (`decide_collection_in`):
    the units picked from its shelf are allocated for pickup there, the units transferred to
    it for shipping at their nodes."""
    decided = replace(decided, id=random_hex(8), committed=True)
    plan = decided.plan
    allocate_units(connection, shipment_units(shelf_picks(plan, store_id)), now, Method.PICKUP)
    allocate_units(connection, shipment_units(transfers_in(plan, store_id)), now)
    _write_decision(connection, decided, request, actor, rows)
    return decided


def _write_decision(
    connection: Connection,
    decided: Decision,
    request: SourcingRequest,
    actor: str,
    rows: list[dict[str, Any]] | None,
) -> None:
    row = decision_row_by(decided, actor) | {"request": request_record(request)}
    if rows is None:
        sourcing_store.insert_decision(connection, row)
    else:
        rows.append(row)


def release(engine: Engine, principal: Principal, decision_id: str) -> Decision:
    """Give a committed decision's units back (the order was cancelled before release)."""
    principal.require(Action.RESERVE)
    moment = datetime.now(UTC)
    with writing(engine) as connection:
        row = sourcing_store.lock_decision(connection, decision_id)
        if row is None or not row.committed:
            raise NotFound("committed decision", decision_id)
        decided = decision_from_row(row)
        deallocate_units(connection, units_of(decided.plan), moment)
        sourcing_store.mark_released(connection, decision_id, moment)
    return replace(decided, committed=False)


def reroute(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    decision_id: str,
    node_id: str,
    line_ids: Sequence[str] | None,
    reason: str,
    now: datetime | None = None,
) -> Decision:
    """A node gives lines back (not found, damaged, short-picked, paused): release them there
    and route only them again, without that node; the rest of the plan stands."""
    principal.require(Action.RESERVE)
    moment = now or datetime.now(UTC)
    if not reason.strip():
        raise InvalidInput([Problem("reason", "say why the node gives the lines back")])
    for attempt in range(1, COMMIT_TRIES + 1):
        try:
            with writing(engine) as connection:
                return _reroute_once(
                    connection, engine, zips, decision_id, node_id, line_ids, reason, moment
                )
        except InsufficientStock:
            if attempt == COMMIT_TRIES:
                raise
    raise AssertionError("unreachable")


def _reroute_once(
    connection: Connection,
    engine: Engine,
    zips: ZipDirectory,
    decision_id: str,
    node_id: str,
    line_ids: Sequence[str] | None,
    reason: str,
    now: datetime,
) -> Decision:
    row = sourcing_store.lock_decision(connection, decision_id)
    if row is None or not row.committed or row.request is None:
        raise NotFound("committed decision", decision_id)
    decided = decision_from_row(row)
    at_node = [s for s in decided.plan.shipments if s.node_id == node_id]
    if not at_node:
        raise InvalidInput(
            [Problem("node_id", f"decision {decision_id} ships nothing from {node_id}")]
        )
    held = [line for s in at_node for line in s.lines]
    wanted = set(line_ids) if line_ids is not None else {line.line_id for line in held}
    unknown = sorted(wanted - {line.line_id for line in held})
    if unknown:
        raise InvalidInput(
            [Problem("line_ids", f"{', '.join(unknown)} do not ship from {node_id}")]
        )
    given_back = [line for line in held if line.line_id in wanted]
    kept = [line for line in held if line.line_id not in wanted]
    deallocate_units(connection, _line_units(node_id, given_back), now)
    request = request_from_record(row.request)
    profile = profile_version_of(connection, decided)
    current = network(connection)
    skus = sorted({line.sku for line in given_back})
    available = offers(connection, current, skus, request.facts.channel, now)
    elsewhere = protected(
        connection, [profile], [o for o in available if o.node.id != node_id], skus, now
    )
    skus_held = sorted({line.sku for line in held})
    products = {p.sku: p for p in repo.get_products(connection, skus_held)}
    again, _ = order_of(zips, replace(request, lines=_order_lines(given_back)))
    routed = route(
        again, elsewhere, products, current.services, profile, now, current.rates, current.dates
    )
    allocate_units(connection, units_of(routed), now)
    remaining = _remaining(request, node_id, kept, products, current, profile, zips, now)
    plan = _merged(decided.plan, node_id, remaining, routed)
    history = (
        *decided.history,
        Rerouted(
            now, node_id, tuple(sorted(wanted)), reason, tuple(s.node_id for s in routed.shipments)
        ),
    )
    sourcing_store.update_decision(
        connection,
        decision_id,
        {
            "plan": plan_to_record(plan),
            "objective": plan.costs.objective,
            "status": plan.status.value,
            "history": [plain(h) for h in history],
        },
    )
    return replace(decided, plan=plan, history=history)


def _line_units(node_id: str, lines: Sequence[ShipmentLine]) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = {}
    for line in lines:
        units[(line.sku, node_id)] = units.get((line.sku, node_id), 0) + line.quantity
    return units


def _order_lines(lines: Sequence[ShipmentLine]) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(line.line_id, line.sku, line.quantity) for line in lines)


def _remaining(
    request: SourcingRequest,
    node_id: str,
    kept: Sequence[ShipmentLine],
    products: Mapping[str, Product],
    current: Network,
    profile: Profile,
    zips: ZipDirectory,
    now: datetime,
) -> Plan | None:
    """The node's shipment of the lines it kept, priced again (its units stay allocated)."""
    if not kept:
        return None
    order, _ = order_of(zips, replace(request, lines=_order_lines(kept)))
    units = {sku: n for (sku, _), n in _line_units(node_id, kept).items()}
    offer = Offer(current.by_id[node_id], units)
    return route(
        order, [offer], products, current.services, profile, now, current.rates, current.dates
    )


def _merged(before: Plan, node_id: str, remaining: Plan | None, routed: Plan) -> Plan:
    others = [s for s in before.shipments if s.node_id != node_id]
    kept = list(remaining.shipments) if remaining is not None else []
    shipments = (*others, *kept, *routed.shipments)
    costs = sum((s.costs for s in shipments), Costs())
    credit = before.costs.split_penalty - sum(s.costs.split_penalty for s in before.shipments)
    costs = replace(
        costs, split_penalty=costs.split_penalty + credit, objective=costs.objective + credit
    )
    explanation = replace(
        routed.explanation,
        why=f"{len(routed.shipments)} re-routed shipment(s) without {node_id}: "
        + routed.explanation.why,
    )
    return replace(
        before,
        shipments=shipments,
        unfilled=(*before.unfilled, *routed.unfilled),
        costs=costs,
        status=routed.status if routed.shipments else before.status,
        explanation=explanation,
        bound=min(before.bound, costs.objective),
    )


def decision(engine: Engine, principal: Principal, decision_id: str) -> Decision:
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        row = sourcing_store.get_decision(connection, decision_id)
    if row is None:
        raise NotFound("decision", decision_id)
    return decision_from_row(row)


# ---- reading the network ----------------------------------------------------------------------


def order_of(zips: ZipDirectory, request: SourcingRequest) -> tuple[Order, OrderFacts]:
    problems: list[Problem] = []
    if not request.order_id.strip():
        problems.append(Problem("order_id", "is required"))
    if not request.lines:
        problems.append(Problem("lines", "route at least one line"))
    seen: set[str] = set()
    for index, line in enumerate(request.lines):
        if line.quantity <= 0:
            problems.append(Problem(f"lines.{index}.quantity", "must be a positive whole number"))
        if line.line_id in seen:
            problems.append(Problem(f"lines.{index}.line_id", f"{line.line_id!r} appears twice"))
        seen.add(line.line_id)
    place = zips.destination(request.zip_code)
    if place is None:
        problems.append(Problem("zip", f"unknown ZIP code {request.zip_code}"))
    if problems:
        raise InvalidInput(problems)
    assert place is not None
    order = Order(
        request.order_id,
        request.lines,
        place.location,
        request.service_level,
        request.promise_by,
        request.residential,
    )
    facts = replace(request.facts, service_level=request.service_level, region=place.state)
    return order, facts


def _decide(
    connection: Connection,
    engine: Engine,
    principal: Principal,
    request: SourcingRequest,
    order: Order,
    facts: OrderFacts,
    now: datetime,
) -> Decision:
    channel = principal.channel or facts.channel
    return decide_in(connection, engine, request, order, facts, channel, now)


def decide_in(
    connection: Connection,
    engine: Engine,
    request: SourcingRequest,
    order: Order,
    facts: OrderFacts,
    channel: str | None,
    now: datetime,
    avoid: Collection[tuple[str, str]] = (),
    chosen: Chosen | None = None,
) -> Decision:
    """The plan under the order's profile, from what the channel's nodes can give now (each
    unit priced with its future value where it is, if the profile protects inventory)."""
    profile, version, rule = chosen or profile_for(connection, request, facts)
    skus = sorted({line.sku for line in order.lines})
    products = _products(connection, skus)
    current = network(connection)
    available = offers(connection, current, skus, channel, now)
    if avoid:
        available = _without(available, avoid)
    available = protected(connection, [profile], available, skus, now)
    found = route(
        order, available, products, current.services, profile, now, current.rates, current.dates
    )
    return Decision(None, order.id, found, profile.name, version, rule, False, now)


def decide_collection_in(
    connection: Connection,
    request: SourcingRequest,
    order: Order,
    channel: str | None,
    store_id: str,
    now: datetime,
    avoid: Collection[tuple[str, str]],
    chosen: Chosen,
) -> Decision:
    """The plan for collected lines at the store `store_id` under the chosen profile: its
    shelf's units for pickup weighed against transfers from every other node the channel may
    ship from (each unit priced with its future value where it is, if the profile protects
    inventory); `avoid` as for `commit_in`, the store's own pairs included."""
    profile, version, rule = chosen
    skus = sorted({line.sku for line in order.lines})
    products = _products(connection, skus)
    current = network(connection)
    store_node = current.by_id[store_id]
    on_shelf = store.available_units(connection, now, skus, Method.PICKUP, [store_id])
    shelf = Offer(
        store_node,
        {sku: units for (sku, _), units in on_shelf.items() if (sku, store_id) not in avoid},
    )
    others = [o for o in offers(connection, current, skus, channel, now) if o.node.id != store_id]
    if avoid:
        others = _without(others, avoid)
    shelf, *transfers = protected(connection, [profile], [shelf, *others], skus, now)
    found = route_collection(
        order, shelf, transfers, products, current.services, profile, now, current.rates
    )
    return Decision(None, order.id, found, profile.name, version, rule, False, now)


def _products(connection: Connection, skus: Sequence[str]) -> dict[str, Product]:
    """The products of these SKUs; InvalidInput naming every unknown one."""
    products = repo.products_by_sku(connection, skus)
    if len(products) < len(skus):
        check_names(connection, skus, [], "lines")  # names every unknown SKU
    return products


def protected(
    connection: Connection,
    profiles: Iterable[Profile],
    available: Sequence[Offer],
    skus: Sequence[str],
    now: datetime,
) -> list[Offer]:
    """The offers with each unit's future value at its node when one of the profiles protects
    inventory (a profile that does not weighs the values at zero; when none does, nothing is
    read)."""
    if not any(profile.weights.inventory_protection > 0 for profile in profiles):
        return list(available)
    return forecasts.protected(connection, available, skus, now)


def _without(available: Sequence[Offer], avoid: Collection[tuple[str, str]]) -> list[Offer]:
    """Offers with the avoided (SKU, node) pairs taken out."""
    kept = []
    for offer in available:
        stock = {sku: n for sku, n in offer.available.items() if (sku, offer.node.id) not in avoid}
        if stock:
            kept.append(replace(offer, available=stock))
    return kept


def profile_for(
    connection: Connection,
    request: SourcingRequest,
    facts: OrderFacts,
    routing: registry.Routing | None = None,
) -> Chosen:
    """The profile an order routes under: asked for, or chosen by the rules of `routing` (the
    active ones, read on `connection`, if not given; a wave reads them once for all its
    orders)."""
    if request.profile_version is not None:
        if request.profile is None:
            raise InvalidInput([Problem("profile", "name the profile whose version to try")])
        try:
            tried = registry.profile_version_in(
                connection, request.profile, request.profile_version
            )
        except NotFound as missing:
            raise InvalidInput([Problem("profile_version", str(missing))]) from missing
        return tried, request.profile_version, None
    routing = routing or registry.active_routing_in(connection)
    if request.profile is not None:
        if request.profile not in routing.profiles:
            raise InvalidInput([Problem("profile", f"no active profile named {request.profile!r}")])
        return routing.profiles[request.profile], routing.versions[request.profile], None
    chosen = select_profile(routing.rules, routing.fallback, facts)
    return routing.profiles[chosen.profile], routing.versions[chosen.profile], chosen.rule


def offers(
    connection: Connection,
    current: Network,
    skus: Sequence[str],
    channel: str | None,
    now: datetime,
    extra: Mapping[tuple[str, str], int] | None = None,
) -> list[Offer]:
    """What each shipping node can give of these SKUs now, within the channel's group, plus
    `extra` units per (SKU, node) (those the orders being routed again already hold)."""
    nodes = current.by_id
    eligible = eligible_among(nodes.values(), Method.SHIP, now)
    if channel is not None:
        eligible -= store.excluded_nodes(connection, channel)
    found = store.available_units(connection, now, skus, Method.SHIP, eligible)
    for key, units in (extra or {}).items():
        if key[1] in eligible:
            found[key] = found.get(key, 0) + units
    stock: dict[str, dict[str, int]] = {}
    for (sku, node_id), units in found.items():
        stock.setdefault(node_id, {})[sku] = units
    zones = {nodes[node_id].timezone for node_id in stock}  # a handful for hundreds of nodes
    dates = {zone: now.astimezone(ZoneInfo(zone)).date() for zone in zones}
    days = {node_id: dates[nodes[node_id].timezone] for node_id in stock}
    used = order_store.capacity_on(connection, days)
    return [
        Offer(
            nodes[node_id],
            available,
            units_left_today=max(0, nodes[node_id].capacity.units_per_day - units),
            orders_left_today=max(0, nodes[node_id].capacity.orders_per_day - count),
        )
        for node_id, available in sorted(stock.items())
        for units, count in [used.get(node_id, (0, 0))]
    ]


def local_day(node: Node, moment: datetime) -> date:
    """The node's calendar day at this moment: capacity is counted per local day."""
    return moment.astimezone(ZoneInfo(node.timezone)).date()


def units_of(plan: Plan) -> dict[tuple[str, str], int]:
    return shipment_units(plan.shipments)


def shipment_units(shipments: Iterable[PlannedShipment]) -> dict[tuple[str, str], int]:
    """Units per (SKU, node) the shipments take."""
    units: dict[tuple[str, str], int] = {}
    for shipment in shipments:
        for line in shipment.lines:
            key = (line.sku, shipment.node_id)
            units[key] = units.get(key, 0) + line.quantity
    return units


# ---- records --------------------------------------------------------------------------------


def profile_version_of(connection: Connection, decided: Decision) -> Profile:
    """The very profile version a decision was made under."""
    return registry.profile_version_in(connection, decided.profile, decided.profile_version)


def decision_row(decided: Decision, principal: Principal) -> dict[str, Any]:
    return decision_row_by(decided, principal.name)


def decision_row_by(decided: Decision, actor: str) -> dict[str, Any]:
    assert decided.id is not None
    return {
        "id": decided.id,
        "order_id": decided.order_id,
        "profile": decided.profile,
        "profile_version": decided.profile_version,
        "rule": decided.rule,
        "status": decided.plan.status.value,
        "objective": decided.plan.costs.objective,
        "committed": decided.committed,
        "plan": plan_to_record(decided.plan),
        "decided_at": decided.decided_at,
        "decided_by": actor,
        "released_at": None,
    }


def decision_from_row(row: Any) -> Decision:
    return Decision(
        row.id,
        row.order_id,
        plan_from_record(row.plan),
        row.profile,
        row.profile_version,
        row.rule,
        bool(row.committed),
        row.decided_at,
        tuple(
            Rerouted(
                datetime.fromisoformat(h["at"]),
                h["node_id"],
                tuple(h["line_ids"]),
                h["reason"],
                tuple(h["to"]),
            )
            for h in row.history or ()
        ),
    )


def request_record(request: SourcingRequest) -> dict[str, Any]:
    record: dict[str, Any] = plain(request)
    record["facts"]["tags"] = sorted(request.facts.tags)
    return record


def request_from_record(record: Mapping[str, Any]) -> SourcingRequest:
    facts = dict(record["facts"])
    facts["tags"] = frozenset(facts["tags"])
    return SourcingRequest(
        order_id=record["order_id"],
        lines=tuple(OrderLine(**line) for line in record["lines"]),
        zip_code=record["zip_code"],
        residential=record["residential"],
        service_level=record["service_level"],
        promise_by=date.fromisoformat(record["promise_by"]) if record["promise_by"] else None,
        facts=OrderFacts(**facts),
        profile=record["profile"],
        profile_version=record["profile_version"],
    )
