"""Collection at a store, with transfers: pickup and curbside lines routed in one engine call
whose destination is the pickup store itself, when the order's profile allows transfers.

The store's own shelf is a candidate like any node, but it hands over at the counter: no
freight, no transit, ready on the store's own calendar, its units those it may give for pickup
(safety stock is kept for exactly these customers). Every other node is a transfer candidate,
shipping to the store's address as to a business. So the engine weighs the shelf against a
transfer by the profile's objective (cost, speed, the future value of the store's last units),
splits a line between them when no one of them has it all, respects the promise date and
explains the plan like any other — with its search unchanged: the shelf is a carrier service
only the store can use (`ShelfDates`), and the profile's rules on where units come from and by
which carrier judge the transfers, not the shelf (`_widened_for_shelf`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import cache

from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.catalog import Product
from dom.domain.network import EVERY_DAY, Capability, Node, NodeType
from dom.domain.promise import ready_date
from dom.domain.sourcing.engine import outside_places, route
from dom.domain.sourcing.model import Offer, Order, Plan, PlannedShipment
from dom.domain.sourcing.profiles import Constraints, Profile
from dom.domain.sourcing.rates import DateBook, RateBook

SHELF_CARRIER = "store"
SHELF_SERVICE = "shelf"
#: A parcel "from the shelf" weighs what a carrier's would: only the package count reads it.
SHELF_MAX_LB = 150
SHELF_DIM_DIVISOR = 139.0


@cache
def shelf_service(level: str) -> CarrierService:
    """The store's own shelf as a carrier service of the order's level: any distance, no
    freight, no transit days. One per level, so rate tables built for it are kept once."""
    return CarrierService(
        carrier=SHELF_CARRIER,
        service=SHELF_SERVICE,
        name="From the store's own shelf",
        service_level=level,
        dim_divisor=SHELF_DIM_DIVISOR,
        residential_surcharge=0.0,
        fuel_surcharge_pct=0.0,
        pickup_days=EVERY_DAY,
        zones=(ZoneBand(1, None, 0),),
        rates={(1, pounds): 0.0 for pounds in range(1, SHELF_MAX_LB + 1)},
    )


class ShelfDates(DateBook):
    """Ship dates as a DateBook works them out, except that the store hands over from its shelf
    only, on the day it has the order ready (its own calendar and cutoff: no carrier), and no
    other node has a shelf for this order."""

    def __init__(self, shelf: CarrierService, store_id: str) -> None:
        super().__init__()
        self.shelf, self.store_id = shelf, store_id

    def ship_dates(
        self, node: Node, now: datetime, services: tuple[CarrierService, ...]
    ) -> tuple[date | None, ...]:
        if node.id == self.store_id:
            ready = ready_date(node, now)
            return tuple(ready if service is self.shelf else None for service in services)
        found = super().ship_dates(node, now, services)
        return tuple(
            None if service is self.shelf else day
            for service, day in zip(services, found, strict=True)
        )


def route_collection(
    order: Order,
    shelf: Offer,
    transfers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profile: Profile,
    now: datetime,
    rates: RateBook | None = None,
) -> Plan:
    """The plan for collected lines at the store of `shelf` (its units for pickup, each with
    its future value there): from the shelf, transferred from the nodes of `transfers` (their
    units for shipping, the store not among them) or both, under `profile`. Shipments from the
    store are picks from its shelf (`shelf_picks`); every other one is a transfer to it."""
    store = shelf.node
    from_shelf = shelf_service(order.service_level)
    rules = _widened_for_shelf(profile.constraints, from_shelf, store)
    allowed, kept_out = _judging_transfers(transfers, profile.constraints, rules)
    plan = route(
        replace(order, destination=store.location, residential=False),
        [_at_counter(shelf, profile), *allowed],
        products,
        (from_shelf, *services),
        replace(profile, constraints=rules),
        now,
        rates,
        ShelfDates(from_shelf, store.id),
    )
    if not kept_out:
        return plan
    excluded = {**kept_out, **plan.explanation.excluded}
    return replace(plan, explanation=replace(plan.explanation, excluded=excluded))


def shelf_picks(plan: Plan, store_id: str) -> tuple[PlannedShipment, ...]:
    """The plan's picks from the store's own shelf."""
    return tuple(s for s in plan.shipments if s.node_id == store_id)


def transfers_in(plan: Plan, store_id: str) -> tuple[PlannedShipment, ...]:
    """The plan's transfers to the store from other nodes."""
    return tuple(s for s in plan.shipments if s.node_id != store_id)


def _at_counter(shelf: Offer, profile: Profile) -> Offer:
    """The shelf as the engine places it: a node that hands over (the engine places only nodes
    that ship), uncounted against the store's shipping capacity, and with the units the profile
    keeps at a store added back — those are kept for the store's own customers, which a pickup
    customer is, so the engine's deduction leaves exactly the pickup units."""
    store = shelf.node
    keep = profile.constraints.min_store_stock_left if store.type is NodeType.STORE else 0
    return Offer(
        replace(store, capabilities=store.capabilities | {Capability.SHIP_FROM_STORE}),
        {sku: units + keep for sku, units in shelf.available.items() if units > 0},
        future_value=shelf.future_value,
    )


def _widened_for_shelf(c: Constraints, shelf: CarrierService, store: Node) -> Constraints:
    """The profile's rules on node types, regions, carriers and services, widened to let the
    shelf in: they say where units may be shipped from and how, which a pick from the shelf is
    not (`_judging_transfers` keeps out the transfers the widening would let in)."""
    return replace(
        c,
        node_types=None if c.node_types is None else c.node_types | {store.type},
        regions=None if c.regions is None else c.regions | {store.address.state},
        carriers=None if c.carriers is None else c.carriers | {shelf.carrier},
        services=None if c.services is None else c.services | {shelf.key},
    )


def _judging_transfers(
    transfers: Sequence[Offer], rules: Constraints, widened: Constraints
) -> tuple[list[Offer], dict[str, str]]:
    """The transfer candidates, less the nodes the profile's rules keep out and their widening
    for the shelf would let in (node id → why); the engine judges the rest as always."""
    allowed: list[Offer] = []
    kept_out: dict[str, str] = {}
    for offer in transfers:
        outside = outside_places(offer.node, rules)
        if outside is not None and outside_places(offer.node, widened) is None:
            kept_out[offer.node.id] = outside[0]
        else:
            allowed.append(offer)
    return allowed, kept_out
