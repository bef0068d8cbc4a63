"""Small sourcing worlds built in memory, and a brute-force reference for the engine.

The reference shares no code with the engine: it enumerates every assignment of whole lines to
nodes (or to nothing), prices each shipment from the carrier's rate table with its own parcel
rule, and keeps the assignment that ships the most lines, then the lowest objective.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

import numpy as np

from dom.adapters.highs import relax_with_highs, solve_with_highs
from dom.domain.carriers import CarrierService, billable_weight
from dom.domain.catalog import Dimensions, Product
from dom.domain.geo import Coordinates, miles_between
from dom.domain.network import (
    MON_TO_FRI,
    Address,
    Calendar,
    Capability,
    Capacity,
    Handling,
    HandlingCost,
    Node,
    NodeStatus,
    NodeType,
)
from dom.domain.promise import add_business_days, ship_date
from dom.domain.sourcing.model import Offer, Order, OrderLine
from dom.domain.sourcing.profiles import Constraints, OnShort, Profile, Weights
from dom.domain.sourcing.solver import Floats, LinearProgram, Relaxation
from dom.domain.sourcing.wave import WaveResult, route_wave
from dom.services.carrier_defaults import default_services

#: Real places: (ZIP, state, latitude, longitude, time zone).
PLACES = (
    ("10001", "NY", 40.75, -73.99, "America/New_York"),
    ("43217", "OH", 39.83, -82.93, "America/New_York"),
    ("60614", "IL", 41.92, -87.65, "America/Chicago"),
    ("30301", "GA", 33.75, -84.39, "America/New_York"),
    ("75201", "TX", 32.79, -96.80, "America/Chicago"),
    ("80202", "CO", 39.75, -104.99, "America/Denver"),
    ("94105", "CA", 37.79, -122.39, "America/Los_Angeles"),
    ("98101", "WA", 47.61, -122.33, "America/Los_Angeles"),
    ("89502", "NV", 39.50, -119.78, "America/Los_Angeles"),
    ("33101", "FL", 25.78, -80.19, "America/New_York"),
)
SERVICES = tuple(default_services())
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday morning in the US, before cutoffs


def node(
    node_id: str,
    place: int,
    kind: NodeType = NodeType.DISTRIBUTION_CENTRE,
    *,
    handling: frozenset[Handling] = frozenset(),
    cost: HandlingCost | None = None,
    cutoff: time = time(17, 0),
) -> Node:
    zip_code, state, lat, lon, zone = PLACES[place]
    capability = Capability.SHIP if kind is not NodeType.STORE else Capability.SHIP_FROM_STORE
    return Node(
        id=node_id,
        name=node_id,
        type=kind,
        address=Address("1 Main St", "Town", state, zip_code),
        location=Coordinates(lat, lon),
        timezone=zone,
        capabilities=frozenset({capability}),
        handling=handling,
        capacity=Capacity(1000, 5000, 100),
        calendar=Calendar(MON_TO_FRI, cutoff=cutoff),
        cost=cost
        or (HandlingCost(3.0, 0.25) if kind is not NodeType.STORE else HandlingCost(6.0, 0.5)),
    )


def product(sku: str, pounds: float = 2.0, side: float = 10.0, **changes: object) -> Product:
    return Product(sku, sku, Dimensions(side, side, side / 2, pounds), **changes)  # type: ignore[arg-type]


def destination(place: int) -> Coordinates:
    _, _, lat, lon, _ = PLACES[place]
    return Coordinates(lat, lon)


def random_world(
    rng: random.Random,
) -> tuple[Order, list[Offer], dict[str, Product], Profile]:
    """A small random instance: 2-6 nodes (at most 4 of a type), 1-4 lines."""
    kinds = [NodeType.DISTRIBUTION_CENTRE] * 4 + [NodeType.STORE] * 4
    rng.shuffle(kinds)
    count = rng.randint(2, 6)
    skus = [f"S{i}" for i in range(rng.randint(1, 4))]
    products = {
        sku: product(sku, rng.choice([0.5, 2.0, 9.0, 30.0]), rng.choice([6.0, 12.0, 20.0]))
        for sku in skus
    }
    offers = []
    for index in range(count):
        n = node(
            f"n{index}",
            rng.randrange(len(PLACES)),
            kinds[index],
            cost=HandlingCost(rng.choice([1.0, 3.0, 6.0]), rng.choice([0.0, 0.25, 1.0])),
        )
        available = {sku: rng.choice([0, 0, 1, 2, 3, 5]) for sku in skus}
        offers.append(
            Offer(
                n,
                available,
                units_left_today=rng.choice([None, None, 3, 8]),
                future_value={sku: rng.choice([0.0, 2.0]) for sku in skus},
            )
        )
    lines = tuple(OrderLine(f"l{i}", sku, rng.randint(1, 3)) for i, sku in enumerate(skus))
    order = Order(
        "o1",
        lines,
        destination(rng.randrange(len(PLACES))),
        service_level=rng.choice(["ground", "ground", "two_day"]),
        residential=rng.random() < 0.5,
    )
    profile = Profile(
        "random",
        weights=Weights(
            shipping_cost=rng.choice([0.5, 1.0]),
            handling_cost=rng.choice([0.0, 1.0, 2.0]),
            delivery_days=rng.choice([0.0, 3.0, 20.0]),
            split_penalty=rng.choice([0.0, 2.0]),
            capacity_balance=rng.choice([0.0, 10.0]),
            inventory_protection=rng.choice([0.0, 1.0]),
        ),
        constraints=Constraints(max_shipments=rng.choice([None, 1, 2]), on_short=OnShort.BACKORDER),
    )
    return order, offers, products, profile


def random_wave(
    rng: random.Random,
) -> tuple[list[Order], list[Offer], dict[str, Product], Profile]:
    """2-6 orders with the lines of a `random_world`, each to a random place."""
    order, offers, products, profile = random_world(rng)
    orders = [
        Order(f"o{i}", order.lines, destination(rng.randrange(10)), order.service_level)
        for i in range(rng.randint(2, 6))
    ]
    return orders, offers, products, profile


def wave_with_relaxation(rng: random.Random) -> tuple[WaveResult, LinearProgram | None]:
    """A `random_wave` routed by `route_wave` with HiGHS and its LP relaxation, and the
    program it relaxed (None if it relaxed none)."""
    orders, offers, products, profile = random_wave(rng)
    programs: list[LinearProgram] = []

    def relax(program: LinearProgram, *, time_limit: float, **options: Any) -> Relaxation:
        programs.append(program)
        return relax_with_highs(program, time_limit=time_limit, **options)

    profiles = {o.id: profile for o in orders}
    result = route_wave(
        orders, offers, products, SERVICES, profiles, NOW, solve_with_highs, relax=relax
    )
    return result, programs[0] if programs else None


def brute_force(
    order: Order,
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profile: Profile,
    now: datetime,
) -> tuple[int, float]:
    """(lines shipped, objective) of the best assignment of whole lines to nodes."""
    w = profile.weights
    limit = 1 if profile.constraints.ship_complete else profile.constraints.max_shipments
    rank = {"ground": 0, "two_day": 1, "overnight": 2}
    usable_services = [
        s for s in services if rank.get(s.service_level, -1) >= rank[order.service_level]
    ]
    eligible = [
        o
        for o in offers
        if o.node.status_at(now) is NodeStatus.ACTIVE
        and (o.orders_left_today is None or o.orders_left_today > 0)
    ]
    lines = order.lines

    def holds(offer: Offer, line: OrderLine) -> bool:
        return (
            offer.available.get(line.sku, 0) >= line.quantity
            and products[line.sku].handling <= offer.node.handling
        )

    shipment_cost: dict[tuple[str, frozenset[int]], float] = {}

    def cost(offer: Offer, group: frozenset[int]) -> float:
        key = (offer.node.id, group)
        if key in shipment_cost:
            return shipment_cost[key]
        units = sum(lines[i].quantity for i in group)
        left = offer.units_left_today
        best = math.inf
        if left is None or units <= left:
            per_unit = sum(
                lines[i].quantity
                * (
                    w.handling_cost * offer.node.cost.per_unit
                    + w.inventory_protection * offer.future_value.get(lines[i].sku, 0.0)
                    + (w.capacity_balance / left if left else 0.0)
                )
                for i in group
            )
            fixed = w.handling_cost * offer.node.cost.per_order + w.split_penalty
            miles = miles_between(offer.node.location, order.destination)
            for service in usable_services:
                leaves = ship_date(offer.node, now, frozenset(d.value for d in service.pickup_days))
                if leaves is None:
                    continue
                band = service.zone_for(miles)
                arrives = add_business_days(leaves, band.transit_days)
                pounds = sum(
                    billable_weight(products[lines[i].sku].dimensions, service.dim_divisor)  # type: ignore[arg-type]
                    * lines[i].quantity
                    for i in group
                )
                freight = _freight(service, band.zone, pounds, order.residential)
                days = (arrives - now.date()).days
                best = min(
                    best, fixed + per_unit + w.shipping_cost * freight + w.delivery_days * days
                )
        shipment_cost[key] = best
        return best

    choices = [[None, *[o for o in eligible if holds(o, line)]] for line in lines]
    best_found: tuple[int, float] = (0, 0.0)
    for assignment in itertools.product(*choices):
        groups: dict[str, tuple[Offer, set[int]]] = {}
        for i, offer in enumerate(assignment):
            if offer is not None:
                groups.setdefault(offer.node.id, (offer, set()))[1].add(i)
        if limit is not None and len(groups) > limit:
            continue
        total = sum(cost(offer, frozenset(g)) for offer, g in groups.values())
        if groups:
            total -= w.split_penalty
        shipped = sum(1 for o in assignment if o is not None)
        if math.isinf(total):
            continue
        if (shipped, -total) > (best_found[0], -best_found[1]):
            best_found = (shipped, total)
    return best_found


def _freight(service: CarrierService, zone: int, pounds: int, residential: bool) -> float:
    if pounds == 0:
        return 0.0
    largest = max(weight for _, weight in service.rates)
    parcels = math.ceil(pounds / largest)
    each = math.ceil(pounds / parcels)
    price = service.price_in_zone(zone, each, residential=residential)
    return math.inf if price is None else parcels * price


def whole_plan(program: LinearProgram, values: Floats) -> bool:
    """Every 0/1 column of `program` 0 or 1 in `values`, every other a whole number (the
    shipments beyond an order's first): a plan, not a relaxation's fractions."""
    binary = np.asarray(program.integer, dtype=bool)
    return set(np.unique(values[binary])) <= {0.0, 1.0} and np.array_equal(values, np.round(values))
