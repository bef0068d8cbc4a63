"""The real-time sourcing engine: the best plan for one order under its profile, and why.

1. Nodes that cannot serve the order are set aside with the reason (paused, does not ship,
   outside the profile's node types, regions or distance, no capacity left today, no allowed
   service can meet the promise).
2. A line no single node can fill is split over nodes, backordered or the order rejected, as the
   profile says; a line nobody can fill gets the reason.
3. Nodes clearly worse for every line they hold are pruned (`KEEP_PER_LINE`, `KEEP_SHARED`).
4. An exact search over every way to group the lines into shipments: for each group, the best
   node and service; then the cheapest split into at most the allowed number of shipments, by
   dynamic programming over subsets of lines (`search.py`). Proven optimal over the nodes kept.
5. The explanation: the cost breakdown, the best alternatives (other nodes, more or fewer
   shipments), and the constraints that bind — with what would have to change for another
   plan to win.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from dom.domain.carriers import CarrierService, billable_weight
from dom.domain.catalog import Product
from dom.domain.geo import miles_between
from dom.domain.network import Capability, Handling, Node, NodeStatus, NodeType
from dom.domain.sourcing import search
from dom.domain.sourcing.model import (
    Alternative,
    Binding,
    Costs,
    Explanation,
    Offer,
    Order,
    OrderLine,
    Plan,
    PlannedShipment,
    ShipmentLine,
    SolveStatus,
    Unfilled,
    UnfilledLine,
)
from dom.domain.sourcing.profiles import Constraints, OnShort, Profile
from dom.domain.sourcing.rates import DateBook, RateBook

#: Service levels from slowest to fastest: an order may go by its level or a faster one.
LEVEL_RANK = {"ground": 0, "two_day": 1, "overnight": 2}
#: Up to this many lines (after splits) the search is exhaustive; beyond, greedy.
EXACT_LINES = 12
#: Nodes kept per line and node type: the nearest that can fill it.
KEEP_PER_LINE = 4
#: Nodes kept that can fill two lines or more: those that fill the most, nearest first.
KEEP_SHARED = 10
ALTERNATIVES = 3
#: Objectives closer than this are the same to an explanation.
HALF_CENT = 0.005
#: Nodes short of units asked "would you win with more?", nearest first.
WHAT_IF_NODES = 12
SHIPPING_CAPABILITIES = frozenset({Capability.SHIP, Capability.SHIP_FROM_STORE})


class Option(NamedTuple):
    """One way a node can ship: a service, with its dates and zone."""

    service: CarrierService
    zone: int
    ship_on: date
    deliver_on: date
    days: int  # from today until delivery


@dataclass
class NodeModel:
    """A node's costs for this order: what its shipments of any group of lines would cost."""

    offer: Offer
    miles: float
    options: list[Option]
    usable: dict[str, int]  # units per SKU it may give under the profile
    fixed: float = 0.0  # objective per shipment from here, whatever it carries
    line_costs: list[float] = field(default_factory=list)  # objective per work line
    holds: int = 0  # bit mask of the work lines it can fill in full

    @property
    def id(self) -> str:
        return self.offer.node.id


@dataclass(frozen=True)
class WorkLine:
    """A line, or the part of a line one node can fill when the line is split."""

    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class ShipmentChoice:
    objective: float
    option: Option
    costs: Costs
    packages: int
    billable_lb: int


@dataclass
class Candidates:
    """An order made ready to search: its work lines, the nodes kept, and what was set aside."""

    order: Order
    profile: Profile
    work: list[WorkLine]
    unfilled: list[UnfilledLine]
    kept: list[NodeModel]
    models: dict[str, NodeModel]  # every eligible node, kept or pruned
    excluded: dict[str, str]  # node → why it was not considered
    set_aside: dict[str, tuple[str, NodeModel]]  # left out by a profile rule, for what-ifs
    pruned: int
    rejected: bool  # a line is short and the profile refuses partial orders

    @property
    def limit(self) -> int:
        return self.profile.constraints.shipments_allowed or len(self.work)


def route(
    order: Order,
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profile: Profile,
    now: datetime,
    rates: RateBook | None = None,
    dates: DateBook | None = None,
) -> Plan:
    """The plan for `order` under `profile`: shipments, unfilled lines with reasons, and why.

    `rates` and `dates` memoize freight tables and ship dates: pass the same ones to many calls
    (with the same services and nodes) to save rebuilding them."""
    book = rates or RateBook()
    found = candidates(order, offers, products, services, profile, now, dates or DateBook())
    if found.rejected:
        return _rejected(order, profile, found.unfilled, found.excluded)
    by_level: dict[int, float] = {}
    bound: float | None = 0.0  # None: the plan's own objective (it is optimal)
    if len(found.work) > EXACT_LINES:
        blocks = greedy(found, products, book)
        status = SolveStatus.HEURISTIC
    else:
        table = search.ShipmentTable.build(found.kept, found.work, products, profile, book, order)
        solved = search.best_partition(table, found.limit)
        by_level = solved.by_level
        if solved.exact:
            blocks, status, bound = solved.blocks, SolveStatus.OPTIMAL, None
        else:
            blocks = greedy(found, products, book)
            status, bound = SolveStatus.HEURISTIC, solved.bound
    return finish(found, blocks, status, bound, by_level, products, book)


def candidates(
    order: Order,
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profile: Profile,
    now: datetime,
    calendar: DateBook,
) -> Candidates:
    """Set aside the nodes that cannot serve, place short lines, prune, and cost what is kept."""
    reach = _Reach(order, _allowed_services(services, order, profile), now, calendar)
    models: dict[str, NodeModel] = {}
    excluded: dict[str, str] = {}
    set_aside: dict[str, tuple[str, NodeModel]] = {}
    skus = reach.skus
    for offer in offers:
        available = offer.available
        for sku in skus:
            if available.get(sku, 0) > 0:
                break
        else:
            continue  # nothing to give: not a candidate, nothing to explain
        model, reason, rule = _model(offer, reach, profile)
        if reason is None and model is not None:
            models[offer.node.id] = model
            continue
        excluded[offer.node.id] = reason or "cannot serve this order"
        if rule is not None and model is not None:
            set_aside[offer.node.id] = (rule, model)
    holders = _holders(models, skus)
    work, unfilled = _work_lines(order, offers, models, holders, products, profile, excluded)
    rejected = profile.constraints.on_short is OnShort.REJECT and bool(unfilled)
    kept, pruned = _prune(models, holders, work, products)
    for model in kept:
        _cost_lines(model, work, products, profile)
    return Candidates(
        order, profile, work, unfilled, kept, models, excluded, set_aside, pruned, rejected
    )


def _holders(models: Mapping[str, NodeModel], skus: Sequence[str]) -> dict[str, list[NodeModel]]:
    """Per SKU, the eligible nodes with units of it they may give, in the order of `models`:
    a line looks only at these instead of at every node."""
    holders: dict[str, list[NodeModel]] = {sku: [] for sku in skus}
    for model in models.values():
        usable = model.usable
        for sku in skus:
            if usable[sku] > 0:
                holders[sku].append(model)
    return holders


def costed(found: Candidates, node_id: str, products: Mapping[str, Product]) -> NodeModel | None:
    """The model of an eligible node for the order, its lines costed, whether the search kept
    it or pruned it; None if the node cannot serve the order."""
    model = found.models.get(node_id)
    if model is not None and len(model.line_costs) != len(found.work):
        _cost_lines(model, found.work, products, found.profile)
    return model


def finish(
    found: Candidates,
    blocks: Sequence[tuple[str, tuple[int, ...]]],
    status: SolveStatus,
    bound: float | None,
    by_level: Mapping[int, float],
    products: Mapping[str, Product],
    book: RateBook,
    left_out_because: tuple[Unfilled, str] | None = None,
) -> Plan:
    """The plan from groups of work lines per node: true costs, unfilled lines, explanation.
    `bound` None means the blocks are proven optimal; work lines in no block are unfilled
    for `left_out_because` (by default: the profile's limit on shipments)."""
    order, profile, work = found.order, found.profile, found.work
    limit = found.limit
    placed = {i for _, lines in blocks for i in lines}
    left_out = [work[i] for i in range(len(work)) if i not in placed]
    if left_out_because is None:
        left_out_because = (
            (Unfilled.BACKORDERED, "no node can ship every line together")
            if profile.constraints.ship_complete
            else (Unfilled.TOO_MANY_SHIPMENTS, f"the profile allows {limit} shipment(s)")
        )
    unfilled = found.unfilled + [
        UnfilledLine(w.line_id, w.sku, w.quantity, *left_out_because) for w in left_out
    ]
    if left_out and profile.constraints.on_short is OnShort.REJECT:
        return _rejected(order, profile, unfilled, found.excluded)
    if profile.constraints.ship_complete and unfilled:
        return _waiting(order, profile, unfilled, found.excluded)
    by_id = {m.id: m for m in found.kept}
    for node_id, _ in blocks:  # a wave may ship from a node the search pruned
        if node_id not in by_id and (model := costed(found, node_id, products)) is not None:
            by_id[node_id] = model
    shipments, costs = _shipments(blocks, by_id, work, products, profile, book, order)
    if not shipments:
        status = SolveStatus.NOTHING_TO_SHIP
    chosen = Plan(
        order.id,
        profile.name,
        tuple(shipments),
        tuple(unfilled),
        costs,
        status,
        Explanation("", (), (), found.excluded, len(found.kept), found.pruned),
    )
    if bound is None or len(placed) < len(work):
        bound = costs.objective  # (fewer lines placed: no bound on those plans is claimed)
    explanation = _explain(chosen, found, by_level, products, book)
    return replace(chosen, explanation=explanation, bound=min(bound, costs.objective))


# ---- candidates ---------------------------------------------------------------------------------


def _allowed_services(
    services: Sequence[CarrierService], order: Order, profile: Profile
) -> tuple[CarrierService, ...]:
    c = profile.constraints
    wanted = LEVEL_RANK.get(order.service_level)
    return tuple(
        s
        for s in services
        if (c.carriers is None or s.carrier in c.carriers)
        and (c.services is None or s.key in c.services)
        and (
            s.service_level == order.service_level
            if wanted is None
            else LEVEL_RANK.get(s.service_level, -1) >= wanted
        )
    )


class _Reach:
    """How an order's parcels can go from a node: the services it may use and, per node, the
    options. A node's options follow from its ship dates and the distance band it falls in for
    every service, so nodes alike in both (most, in a network) share them: worked out once per
    order and band."""

    def __init__(
        self,
        order: Order,
        services: tuple[CarrierService, ...],
        now: datetime,
        calendar: DateBook,
    ) -> None:
        self.order, self.services, self.now, self.calendar = order, services, now, calendar
        self.today = now.date()
        self.skus = tuple(dict.fromkeys(line.sku for line in order.lines))
        #: every zone's upper bound: two distances with the same bounds below them are in the
        #: same zone of every service
        self.limits = sorted(
            {b.max_miles for s in services for b in s.zones if b.max_miles is not None}
        )
        self._known: dict[tuple[tuple[date | None, ...], int], list[Option]] = {}

    def options(self, node: Node, miles: float) -> list[Option]:
        """The services that can take the node's parcel, with their dates and zone."""
        leaving = self.calendar.ship_dates(node, self.now, self.services)
        key = (leaving, bisect_left(self.limits, miles))
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._options(leaving, miles)
        return list(found)

    def _options(self, leaving: tuple[date | None, ...], miles: float) -> list[Option]:
        promise, calendar, today = self.order.promise_by, self.calendar, self.today
        options = []
        for service, leaves in zip(self.services, leaving, strict=True):
            if leaves is None:
                continue
            band = service.zone_for(miles)
            arrives = calendar.arrival(leaves, band.transit_days)
            if promise is not None and arrives > promise:
                continue
            options.append(Option(service, band.zone, leaves, arrives, (arrives - today).days))
        return options


def _model(
    offer: Offer, reach: _Reach, profile: Profile
) -> tuple[NodeModel | None, str | None, str | None]:
    """The node's model, or why it is left out — and, when a profile rule left it out, which
    one (such a node is still costed, to tell what the rule costs)."""
    node = offer.node
    c = profile.constraints
    if node.status_at(reach.now) is not NodeStatus.ACTIVE:
        return None, "paused", None
    if node.capabilities.isdisjoint(SHIPPING_CAPABILITIES):
        return None, "does not ship parcels", None
    order = reach.order
    miles = miles_between(node.location, order.destination)
    options = reach.options(node, miles)
    if not options:
        why = (
            f"no allowed service delivers by {order.promise_by.isoformat()}"
            if order.promise_by is not None
            else "no allowed service ships from it"
        )
        return None, why, None
    keep = c.min_store_stock_left if node.type is NodeType.STORE else 0
    available = offer.available
    usable = {sku: n if (n := available.get(sku, 0) - keep) > 0 else 0 for sku in reach.skus}
    model = NodeModel(offer, miles, options, usable)
    restricted = c.node_types is not None or c.regions is not None  # a call saved per node
    if restricted and (placed := outside_places(node, c)) is not None:
        return model, *placed
    if c.max_distance_miles is not None and miles > c.max_distance_miles:
        return (
            model,
            f"{miles:.0f} miles is beyond the profile's {c.max_distance_miles:.0f}",
            "max_distance_miles",
        )
    if offer.orders_left_today is not None and offer.orders_left_today <= 0:
        return model, "no capacity left today", "capacity"
    return model, None, None


def outside_places(node: Node, c: Constraints) -> tuple[str, str] | None:
    """Why the profile's rules on node types and regions keep the node out, and which rule;
    None when they let it in."""
    if c.node_types is not None and node.type not in c.node_types:
        return f"node type {node.type.value} is not allowed by the profile", "node_types"
    if c.regions is not None and node.address.state not in c.regions:
        return f"region {node.address.state} is not allowed by the profile", "regions"
    return None


def _work_lines(
    order: Order,
    offers: Sequence[Offer],
    models: Mapping[str, NodeModel],
    holders: Mapping[str, Sequence[NodeModel]],
    products: Mapping[str, Product],
    profile: Profile,
    excluded: Mapping[str, str],
) -> tuple[list[WorkLine], list[UnfilledLine]]:
    """The lines to place: whole where one node can fill them, split in parts if allowed."""
    work: list[WorkLine] = []
    unfilled: list[UnfilledLine] = []
    for line in order.lines:
        needs = products[line.sku].handling
        sku = line.sku
        able = {
            m.id: m.usable[sku] for m in holders[sku] if not needs or m.offer.node.handles(needs)
        }
        if any(units >= line.quantity for units in able.values()):
            work.append(WorkLine(line.line_id, line.sku, line.quantity))
            continue
        have = sum(able.values())
        if not have:
            unfilled.append(_why_none(line, offers, models, excluded))
            continue
        if profile.constraints.on_short is not OnShort.SPLIT:
            reason = (
                Unfilled.REJECTED
                if profile.constraints.on_short is OnShort.REJECT
                else Unfilled.BACKORDERED
            )
            unfilled.append(
                UnfilledLine(
                    line.line_id,
                    line.sku,
                    line.quantity,
                    reason,
                    f"no node has all {line.quantity}; the most at one node is {max(able.values())}",
                )
            )
            continue
        remaining = line.quantity
        for units in sorted(able.values(), reverse=True):
            part = min(units, remaining)
            work.append(WorkLine(line.line_id, line.sku, part))
            remaining -= part
            if not remaining:
                break
        if remaining:
            unfilled.append(
                UnfilledLine(
                    line.line_id,
                    line.sku,
                    remaining,
                    Unfilled.NOT_ENOUGH,
                    f"{line.quantity - remaining} of {line.quantity} in stock at nodes that can ship it",
                )
            )
    return work, unfilled


def _why_none(
    line: OrderLine,
    offers: Sequence[Offer],
    models: Mapping[str, NodeModel],
    excluded: Mapping[str, str],
) -> UnfilledLine:
    holders = [o.node.id for o in offers if o.available.get(line.sku, 0) > 0]
    if not holders:
        reason, detail = Unfilled.NO_STOCK, "no node has any in stock"
    elif all(h in excluded and "delivers by" in excluded[h] for h in holders):
        reason, detail = (
            Unfilled.PROMISE_UNREACHABLE,
            "; ".join(f"{h}: {excluded[h]}" for h in holders[:3]),
        )
    else:
        reason = Unfilled.NO_CAPABLE_NODE
        detail = "; ".join(f"{h}: {excluded.get(h) or _unable(models.get(h))}" for h in holders[:3])
    return UnfilledLine(line.line_id, line.sku, line.quantity, reason, detail)


def _unable(model: NodeModel | None) -> str:
    if model is None:
        return "cannot serve this order"
    return "cannot handle it or keeps its units for the store"


def _cost_lines(
    model: NodeModel, work: Sequence[WorkLine], products: Mapping[str, Product], profile: Profile
) -> None:
    """The per-shipment and per-line parts of the node's objective."""
    w = profile.weights
    node = model.offer.node
    model.fixed = w.handling_cost * node.cost.per_order + w.split_penalty
    left = model.offer.units_left_today
    handling = w.handling_cost * node.cost.per_unit  # the same for every line: worked out once
    busy = w.capacity_balance / left if left else 0.0
    worth = model.offer.future_value

    def per_unit(sku: str) -> float:
        return handling + w.inventory_protection * worth.get(sku, 0.0) + busy

    model.line_costs = [per_unit(line.sku) * line.quantity for line in work]


def shipment_choice(
    model: NodeModel,
    lines: Sequence[int],
    work: Sequence[WorkLine],
    products: Mapping[str, Product],
    profile: Profile,
    book: RateBook,
    order: Order,
) -> ShipmentChoice | None:
    """The best service for the node to ship these work lines, with its costs; None if the
    node cannot (a line it lacks, or more units than its capacity left today)."""
    if any(not model.holds >> i & 1 for i in lines):
        return None
    units = sum(work[i].quantity for i in lines)
    per_sku: dict[str, int] = {}
    for i in lines:
        per_sku[work[i].sku] = per_sku.get(work[i].sku, 0) + work[i].quantity
    if any(n > model.usable.get(sku, 0) for sku, n in per_sku.items()):
        return None  # parts of a split line asking more of the node than it has
    left = model.offer.units_left_today
    if left is not None and units > left:
        return None
    w = profile.weights
    node = model.offer.node
    handling = node.cost.per_order + node.cost.per_unit * units
    capacity = w.capacity_balance * units / left if left else 0.0
    protection = w.inventory_protection * sum(
        model.offer.future_value.get(work[i].sku, 0.0) * work[i].quantity for i in lines
    )
    best: ShipmentChoice | None = None
    per_line = sum(model.line_costs[i] for i in lines)
    weighed: dict[float, int] = {}  # billable pounds per dimensional divisor: services share one
    for option in model.options:
        pounds = weighed.get(option.service.dim_divisor, -1)
        if pounds < 0:
            pounds = weighed[option.service.dim_divisor] = sum(
                _pounds(products[work[i].sku], option.service) * work[i].quantity for i in lines
            )
        freight, packages = book.freight(option.service, option.zone, pounds, order.residential)
        if math.isinf(freight):
            continue
        objective = (
            model.fixed + per_line + w.shipping_cost * freight + w.delivery_days * option.days
        )
        if best is None or objective < best.objective - 1e-9:
            costs = Costs(
                shipping=freight,
                handling=round(handling, 2),
                delivery_days=w.delivery_days * option.days,
                split_penalty=w.split_penalty,
                capacity=capacity,
                protection=protection,
                objective=objective,
            )
            best = ShipmentChoice(objective, option, costs, packages, pounds)
    return best


def _pounds(product: Product, service: CarrierService) -> int:
    if product.dimensions is None:
        return 0
    return billable_weight(product.dimensions, service.dim_divisor)


def _prune(
    models: Mapping[str, NodeModel],
    holders: Mapping[str, Sequence[NodeModel]],
    work: Sequence[WorkLine],
    products: Mapping[str, Product],
) -> tuple[list[NodeModel], int]:
    """Keep, per line, the nearest nodes of each type that can fill it (within a type, handling
    costs alike and freight grows with distance), and the nodes that can fill the most lines,
    nearest first. The rest could only win by a quirk of the rate tables."""
    for model in models.values():
        model.holds = 0
    for bit, sku, units, needs in _asks(work, products):
        # A part of a line asks for at least one unit: only the SKU's holders can fill it.
        pool = holders[sku] if units > 0 else models.values()
        for model in pool:
            if model.usable.get(sku, 0) >= units and (not needs or model.offer.node.handles(needs)):
                model.holds |= bit
    able = sorted((m for m in models.values() if m.holds), key=lambda m: (m.miles, m.id))
    keep: dict[str, NodeModel] = {}
    kept_per: dict[tuple[int, NodeType], int] = {}  # per (line, node type)
    for m in able:
        kind = m.offer.node.type
        rest = m.holds
        while rest:  # the lines it can fill, lowest first
            low = rest & -rest
            rest ^= low
            index = low.bit_length() - 1
            if kept_per.get((index, kind), 0) < KEEP_PER_LINE:
                kept_per[index, kind] = kept_per.get((index, kind), 0) + 1
                keep[m.id] = m
    shared = sorted(
        (m for m in able if m.holds & (m.holds - 1)), key=lambda m: -m.holds.bit_count()
    )
    keep.update((m.id, m) for m in shared[:KEEP_SHARED])
    return sorted(keep.values(), key=lambda m: m.id), len(able) - len(keep)


def _fills(model: NodeModel, work: Sequence[WorkLine], products: Mapping[str, Product]) -> int:
    """Bit mask of the work lines the node can fill in full."""
    return _holds(model, _asks(work, products))


def _asks(
    work: Sequence[WorkLine], products: Mapping[str, Product]
) -> list[tuple[int, str, int, frozenset[Handling]]]:
    """Per work line: its bit, SKU, units and the handling it needs."""
    return [(1 << i, w.sku, w.quantity, products[w.sku].handling) for i, w in enumerate(work)]


def _holds(model: NodeModel, asks: Sequence[tuple[int, str, int, frozenset[Handling]]]) -> int:
    """Bit mask of the work lines (as `_asks` lists them) the node can fill in full."""
    usable, node = model.usable, model.offer.node
    return sum(
        bit
        for bit, sku, units, needs in asks
        if usable.get(sku, 0) >= units and (not needs or node.handles(needs))
    )


def greedy(
    found: Candidates, products: Mapping[str, Product], book: RateBook
) -> list[tuple[str, tuple[int, ...]]]:
    """Cheapest objective per line first, until every line is placed or shipments run out;
    each node ships once."""
    kept, work, profile, order, limit = (
        found.kept,
        found.work,
        found.profile,
        found.order,
        found.limit,
    )
    open_lines = set(range(len(work)))
    blocks: list[tuple[str, tuple[int, ...]]] = []
    while open_lines and len(blocks) < limit:
        best: tuple[float, str, tuple[int, ...]] | None = None
        used = {node for node, _ in blocks}
        for m in kept:
            if m.id in used:
                continue
            lines = _fitting(m, [i for i in open_lines if m.holds >> i & 1], work)
            if not lines:
                continue
            choice = shipment_choice(m, lines, work, products, profile, book, order)
            if choice is None:
                continue
            score = (choice.objective / len(lines), m.id, lines)
            if best is None or score < best:
                best = score
        if best is None:
            break
        blocks.append((best[1], best[2]))
        open_lines -= set(best[2])
    return blocks


def _fitting(model: NodeModel, lines: Sequence[int], work: Sequence[WorkLine]) -> tuple[int, ...]:
    """Of these work lines, the ones the node can ship together, largest first: a part of a
    split line beyond the node's usable units of its SKU, or a line beyond its units left
    today, is left out. Greedy offers a node these rather than skip a node that cannot give
    them all (it would then leave units unfilled that the node could ship)."""
    left = model.offer.units_left_today
    room = math.inf if left is None else left
    kept: list[int] = []
    taken: dict[str, int] = {}
    for i in sorted(lines, key=lambda i: (-work[i].quantity, i)):  # largest first: the most units
        sku, quantity = work[i].sku, work[i].quantity
        if taken.get(sku, 0) + quantity <= model.usable.get(sku, 0) and quantity <= room:
            taken[sku] = taken.get(sku, 0) + quantity
            room -= quantity
            kept.append(i)
    return tuple(sorted(kept))


def _shipments(
    blocks: Sequence[tuple[str, tuple[int, ...]]],
    by_id: Mapping[str, NodeModel],
    work: Sequence[WorkLine],
    products: Mapping[str, Product],
    profile: Profile,
    book: RateBook,
    order: Order,
) -> tuple[list[PlannedShipment], Costs]:
    shipments: list[PlannedShipment] = []
    total = Costs()
    for node_id, lines in sorted(blocks):
        model = by_id[node_id]
        choice = shipment_choice(model, lines, work, products, profile, book, order)
        assert choice is not None, "the search only returns shipments a node can make"
        shipments.append(
            PlannedShipment(
                node_id,
                tuple(ShipmentLine(work[i].line_id, work[i].sku, work[i].quantity) for i in lines),
                choice.option.service.carrier,
                choice.option.service.service,
                choice.packages,
                choice.billable_lb,
                round(model.miles, 1),
                choice.option.ship_on,
                choice.option.deliver_on,
                choice.costs,
            )
        )
        total = total + choice.costs
    if shipments:
        # The first shipment is free of the split penalty: only extra ones pay it.
        first = profile.weights.split_penalty
        total = Costs(
            total.shipping,
            total.handling,
            total.delivery_days,
            total.split_penalty - first,
            total.capacity,
            total.protection,
            total.objective - first,
        )
    return shipments, total


def _rejected(
    order: Order, profile: Profile, unfilled: Sequence[UnfilledLine], excluded: Mapping[str, str]
) -> Plan:
    short = {u.line_id for u in unfilled}
    lines = list(unfilled) + [
        UnfilledLine(
            line.line_id,
            line.sku,
            line.quantity,
            Unfilled.REJECTED,
            "another line is short and the profile refuses partial orders",
        )
        for line in order.lines
        if line.line_id not in short
    ]
    why = f"rejected: {len(short)} line(s) short and profile {profile.name} ships complete orders only"
    return Plan(
        order.id,
        profile.name,
        (),
        tuple(lines),
        Costs(),
        SolveStatus.NOTHING_TO_SHIP,
        Explanation(why, (), (), excluded, 0, 0),
    )


def _waiting(
    order: Order, profile: Profile, unfilled: Sequence[UnfilledLine], excluded: Mapping[str, str]
) -> Plan:
    """Ship-complete and something is missing: every line waits, each with its reason."""
    short = {u.line_id: u for u in unfilled}
    lines = [
        short.get(line.line_id)
        or UnfilledLine(
            line.line_id,
            line.sku,
            line.quantity,
            Unfilled.BACKORDERED,
            "waits to ship complete with the lines that are short",
        )
        for line in order.lines
    ]
    why = f"waiting: profile {profile.name} ships complete and {len(short)} line(s) cannot go now"
    return Plan(
        order.id,
        profile.name,
        (),
        tuple(lines),
        Costs(),
        SolveStatus.NOTHING_TO_SHIP,
        Explanation(why, (), (), excluded, 0, 0),
    )


# ---- explanation --------------------------------------------------------------------------------


def _explain(
    chosen: Plan,
    found: Candidates,
    by_level: Mapping[int, float],
    products: Mapping[str, Product],
    book: RateBook,
) -> Explanation:
    kept, models, set_aside, work = found.kept, found.models, found.set_aside, found.work
    profile, order, limit = found.profile, found.order, found.limit
    base = chosen.explanation
    if not chosen.shipments:
        return Explanation(
            "nothing can ship: every line is unfilled (see the reasons per line)",
            (),
            (),
            base.excluded,
            base.candidates,
            base.pruned,
        )
    objective = chosen.costs.objective
    latest = chosen.deliver_on
    assert latest is not None
    everything = list(range(len(work)))
    chosen_nodes = {s.node_id for s in chosen.shipments}
    alternatives: list[Alternative] = []
    singles = []
    for m in kept:
        if m.id in chosen_nodes and len(chosen.shipments) == 1:
            continue
        choice = shipment_choice(m, everything, work, products, profile, book, order)
        if choice is not None:
            singles.append((choice.objective, m.id, choice))
    for value, node_id, choice in sorted(singles)[:ALTERNATIVES]:
        alternatives.append(
            Alternative(
                f"everything from {node_id} by {choice.option.service.key}",
                (node_id,),
                round(value, 2),
                round(value - objective, 2),
                (choice.option.deliver_on - latest).days,
            )
        )
    for level, value in sorted(by_level.items()):
        # A level's value is a bound (`Solved.by_level`): below the optimum it is no plan.
        if (
            level != len(chosen.shipments)
            and math.isfinite(value)
            and level <= limit
            and value >= objective - HALF_CENT
        ):
            alternatives.append(
                Alternative(
                    f"in at most {level} shipment(s): no plan costs less",
                    (),
                    round(value, 2),
                    round(value - objective, 2),
                    0,
                )
            )
    binding: list[Binding] = []
    unlimited = by_level.get(len(work))
    if (
        profile.constraints.shipments_allowed is not None
        and limit < len(work)  # else no limit binds, and `unlimited` is only a bound
        and unlimited is not None
        and unlimited < objective - HALF_CENT
    ):
        binding.append(
            Binding(
                "max_shipments",
                "",
                round(objective - unlimited, 2),
                f"allow more than {limit} shipment(s)",
            )
        )
    for node_id, (rule, model) in set_aside.items():
        _cost_lines(model, work, products, profile)
        model.holds = _fills(model, work, products)
        choice = shipment_choice(model, everything, work, products, profile, book, order)
        if choice is not None and choice.objective < objective - HALF_CENT:
            binding.append(
                Binding(
                    rule,
                    node_id,
                    round(objective - choice.objective, 2),
                    _would_win(node_id, rule),
                )
            )
    binding += _short_nodes(models, work, products, profile, book, order, objective, chosen_nodes)
    binding.sort(key=lambda b: -b.saving)
    first = chosen.shipments[0]
    shipped = (
        f"{len(chosen.shipments)} shipments from {', '.join(s.node_id for s in chosen.shipments)}"
        if len(chosen.shipments) > 1
        else f"one shipment from {first.node_id} by {first.carrier}/{first.service}"
    )
    why = (
        f"{shipped}: ${chosen.costs.shipping:.2f} shipping + ${chosen.costs.handling:.2f} "
        f"handling, delivered by {latest.isoformat()}; the lowest {profile.name} objective "
        f"({objective:.2f}) of every way to ship from the {base.candidates} candidate nodes"
    )
    return Explanation(
        why, tuple(alternatives), tuple(binding[:5]), base.excluded, base.candidates, base.pruned
    )


def _would_win(node_id: str, rule: str) -> str:
    return {
        "capacity": f"{node_id} wins if its capacity for today were not exhausted",
        "node_types": f"{node_id} wins if the profile allowed its node type",
        "regions": f"{node_id} wins if the profile allowed its region",
        "max_distance_miles": f"{node_id} wins if the profile's distance limit were higher",
    }.get(rule, f"{node_id} wins without the {rule} rule")


def _short_nodes(
    models: Mapping[str, NodeModel],
    work: Sequence[WorkLine],
    products: Mapping[str, Product],
    profile: Profile,
    book: RateBook,
    order: Order,
    objective: float,
    chosen_nodes: set[str],
) -> list[Binding]:
    """Nodes that would ship everything for less if they had the units they lack."""
    found = []
    everything = list(range(len(work)))
    full = (1 << len(work)) - 1
    partial = heapq.nsmallest(
        WHAT_IF_NODES,
        (m for m in models.values() if m.holds != full and m.id not in chosen_nodes),
        key=lambda m: m.miles,
    )
    for m in partial:
        _cost_lines(m, work, products, profile)
        missing = {
            w.sku: w.quantity - m.usable.get(w.sku, 0)
            for w in work
            if m.usable.get(w.sku, 0) < w.quantity
        }
        if any(not m.offer.node.handles(products[w.sku].handling) for w in work):
            continue
        needed = {w.sku: 0 for w in work}
        for w in work:
            needed[w.sku] += w.quantity
        usable = {sku: max(m.usable.get(sku, 0), n) for sku, n in needed.items()}
        stocked = NodeModel(m.offer, m.miles, m.options, usable, m.fixed, m.line_costs, full)
        choice = shipment_choice(stocked, everything, work, products, profile, book, order)
        if choice is None or choice.objective >= objective - HALF_CENT:
            continue
        kept_back = profile.constraints.min_store_stock_left and any(
            m.offer.available.get(sku, 0) >= m.usable.get(sku, 0) + units
            for sku, units in missing.items()
        )
        units = ", ".join(f"{n} more of {sku}" for sku, n in sorted(missing.items()))
        found.append(
            Binding(
                "min_store_stock_left" if kept_back else "stock",
                m.id,
                round(objective - choice.objective, 2),
                f"{m.id} wins with {units}",
            )
        )
    return sorted(found, key=lambda b: -b.saving)[:ALTERNATIVES]
