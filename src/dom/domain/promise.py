"""Delivery promises: when a cart can arrive by each service level, from where, at what cost.

Pure rules over plain data. Dates follow the node's calendar and its order cutoff in its own
time zone, its processing days, the carrier's pickup days and the transit days of the zone the
destination falls in. Transit days are business days (Monday to Friday), as parcel carriers
count them, and carriers neither pick up nor deliver on their holidays (`holidays`). The engine
that chooses among many plans is the sourcing engine's job; a promise takes the best single
node, or else splits greedily over the fewest nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dom.domain.carriers import CarrierService, billable_weight
from dom.domain.catalog import Dimensions, Product
from dom.domain.geo import Coordinates, miles_between
from dom.domain.holidays import is_carrier_holiday
from dom.domain.network import WEEKDAYS, Node, Weekday

#: A promise never looks further ahead than this for a working day.
HORIZON_DAYS = 60


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    node_id: str
    lines: tuple[CartLine, ...]
    carrier: str
    service: str
    ship_on: date
    deliver_on: date
    cost: float


@dataclass(frozen=True)
class ServicePromise:
    service_level: str
    deliver_on: date
    cost: float
    shipments: tuple[Shipment, ...]


def ship_date(node: Node, now: datetime, pickup_days: frozenset[str]) -> date | None:
    """The day a parcel ordered `now` leaves the node: today if before the cutoff on a working
    day, else the next working day; then the node's processing days; then the first day the
    carrier picks up there, never on a carrier holiday. None when no such day comes within the
    horizon."""

    def carrier_picks_up(day: date) -> bool:
        return WEEKDAYS[day.weekday()].value in pickup_days and not is_carrier_holiday(day)

    return _first_open_day(node, now, carrier_picks_up)


def ready_date(node: Node, now: datetime) -> date | None:
    """The day an order placed `now` is ready at the node itself (for pickup: no carrier, so
    carrier holidays do not matter, only the node's own calendar, cutoff and pauses)."""
    return _first_open_day(node, now, lambda day: True)


def _first_open_day(node: Node, now: datetime, fits: Callable[[date], bool]) -> date | None:
    """After the cutoff and processing days, the first working, unpaused day that `fits`."""
    local = now.astimezone(ZoneInfo(node.timezone))
    day: date | None = local.date()
    calendar = node.calendar
    if not calendar.is_working_day(local.date()) or local.time() >= calendar.cutoff:
        day = _next_working_day(node, day)
    for _ in range(calendar.processing_days):
        day = _next_working_day(node, day)
    for _ in range(HORIZON_DAYS):
        if day is None:
            return None
        if calendar.is_working_day(day) and not _paused_on(node, day) and fits(day):
            return day
        day = _next_working_day(node, day)
    return None


def _next_working_day(node: Node, day: date | None) -> date | None:
    if day is None:
        return None
    for offset in range(1, HORIZON_DAYS):
        candidate = day + timedelta(days=offset)
        if node.calendar.is_working_day(candidate):
            return candidate
    return None


def _paused_on(node: Node, day: date) -> bool:
    if node.pause is None:
        return False
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(node.timezone))
    return node.pause.covers(noon)


def add_business_days(day: date, count: int) -> date:
    """`count` carrier business days after `day`: weekends and carrier holidays do not count,
    so a parcel never arrives on one."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and not is_carrier_holiday(day):
            count -= 1
    return day


def parcel_cost(
    node: Node,
    lines: Sequence[CartLine],
    products: Mapping[str, Product],
    service: CarrierService,
    miles: float,
    *,
    residential: bool,
) -> float | None:
    """One parcel for the node's share of the cart, plus the node's pick/pack cost.

    The parcel's billable weight is the sum of its units' billable weights: a safe upper bound
    of packing them together. None when it is heavier than the rate table goes.
    """
    pounds = 0
    units = 0
    for line in lines:
        dims: Dimensions | None = products[line.sku].dimensions
        if dims is not None:
            pounds += billable_weight(dims, service.dim_divisor) * line.quantity
        units += line.quantity
    if pounds == 0:
        return round(node.cost.per_order + node.cost.per_unit * units, 2)
    if pounds > service.max_weight_lb:
        return None
    freight = service.price(miles, pounds, residential=residential)
    return round(freight + node.cost.per_order + node.cost.per_unit * units, 2)


def shipment_from(
    node: Node,
    lines: Sequence[CartLine],
    products: Mapping[str, Product],
    service: CarrierService,
    destination: Coordinates,
    now: datetime,
    *,
    residential: bool,
) -> Shipment | None:
    """The node's shipment of `lines` by `service`, or None if it cannot ship them."""
    return _Quoter(products, destination, now, residential).shipment(node, lines, service)


class _Quoter:
    """Shipments of one cart to one destination: what pricing them asks again and again (a
    node's distance, the day it ships by a carrier's pickup days, the day a parcel arrives) is
    worked out once per promise, not once per node, service and round of a split."""

    def __init__(
        self,
        products: Mapping[str, Product],
        destination: Coordinates,
        now: datetime,
        residential: bool,
    ) -> None:
        self.products = products
        self.destination = destination
        self.now = now
        self.residential = residential
        self._miles: dict[str, float] = {}
        self._leaves: dict[tuple[str, frozenset[Weekday]], date | None] = {}
        self._arrives: dict[tuple[date, int], date] = {}

    def shipment(
        self, node: Node, lines: Sequence[CartLine], service: CarrierService
    ) -> Shipment | None:
        """As `shipment_from`."""
        needs = frozenset(h for line in lines for h in self.products[line.sku].handling)
        if not node.handles(needs):
            return None
        leaves = self._ship_date(node, service.pickup_days)
        if leaves is None:
            return None
        miles = self._miles.get(node.id)
        if miles is None:
            miles = self._miles[node.id] = miles_between(node.location, self.destination)
        band = service.zone_for(miles)
        cost = parcel_cost(node, lines, self.products, service, miles, residential=self.residential)
        if cost is None:
            return None
        arrives = self._arrives.get((leaves, band.transit_days))
        if arrives is None:
            arrives = add_business_days(leaves, band.transit_days)
            self._arrives[(leaves, band.transit_days)] = arrives
        return Shipment(
            node.id, tuple(lines), service.carrier, service.service, leaves, arrives, cost
        )

    def _ship_date(self, node: Node, pickup_days: frozenset[Weekday]) -> date | None:
        key = (node.id, pickup_days)
        if key not in self._leaves:
            days = frozenset(day.value for day in pickup_days)
            self._leaves[key] = ship_date(node, self.now, days)
        return self._leaves[key]


def best_promises(
    services: Sequence[CarrierService],
    cart: Sequence[CartLine],
    stock: Mapping[str, Mapping[str, int]],
    nodes: Sequence[Node],
    products: Mapping[str, Product],
    destination: Coordinates,
    now: datetime,
    *,
    residential: bool,
) -> dict[str, ServicePromise | None]:
    """`best_promise` of every service level among `services`, by level: the levels share what
    the cart needs worked out once (who holds what, dates, distances)."""
    by_level: dict[str, list[CarrierService]] = {}
    for service in services:
        by_level.setdefault(service.service_level, []).append(service)
    prepared = _Cart(cart, stock, nodes, _Quoter(products, destination, now, residential))
    return {level: _best(level, options, prepared) for level, options in by_level.items()}


def best_promise(
    service_level: str,
    services: Sequence[CarrierService],
    cart: Sequence[CartLine],
    stock: Mapping[str, Mapping[str, int]],
    nodes: Sequence[Node],
    products: Mapping[str, Product],
    destination: Coordinates,
    now: datetime,
    *,
    residential: bool,
) -> ServicePromise | None:
    """Earliest delivery (then cheapest) for one service level; `stock[node][sku]` available."""
    prepared = _Cart(cart, stock, nodes, _Quoter(products, destination, now, residential))
    return _best(service_level, services, prepared)


class _Cart:
    """A cart as every service that may ship it sees it: each node's units of the cart's SKUs
    (only nodes holding some), and the nodes that hold all of it."""

    def __init__(
        self,
        lines: Sequence[CartLine],
        stock: Mapping[str, Mapping[str, int]],
        nodes: Sequence[Node],
        quoter: _Quoter,
    ) -> None:
        self.lines = lines
        self.quoter = quoter
        self.by_id = {node.id: node for node in nodes}
        wanted = {line.sku for line in lines}
        self.held: dict[str, dict[str, int]] = {}
        for node in nodes:
            held = {
                sku: units
                for sku, units in stock.get(node.id, {}).items()
                if units > 0 and sku in wanted
            }
            if held:
                self.held[node.id] = held
        self.whole = [
            self.by_id[node_id]
            for node_id, held in self.held.items()
            if all(held.get(line.sku, 0) >= line.quantity for line in lines)
        ]


def _best(
    service_level: str, services: Sequence[CarrierService], cart: _Cart
) -> ServicePromise | None:
    best: ServicePromise | None = None
    for service in services:
        shipments = [
            s for node in cart.whole if (s := cart.quoter.shipment(node, cart.lines, service))
        ]
        candidate: ServicePromise | None
        if shipments:
            chosen = min(shipments, key=lambda s: (s.deliver_on, s.cost))
            candidate = ServicePromise(service_level, chosen.deliver_on, chosen.cost, (chosen,))
        else:
            candidate = _split(service_level, service, cart)
        if candidate and (
            best is None or (candidate.deliver_on, candidate.cost) < (best.deliver_on, best.cost)
        ):
            best = candidate
    return best


def _split(service_level: str, service: CarrierService, cart: _Cart) -> ServicePromise | None:
    """Greedy cover: the node that can ship the most remaining units first (then the earliest,
    then the cheapest), until all is placed. Each round prices only the nodes that could ship
    the most units, going down to fewer only when none of those can ship at all."""
    remaining = {line.sku: line.quantity for line in cart.lines}
    left = dict(cart.held)
    shipments: list[Shipment] = []
    while any(remaining.values()):
        # Counted first, lines made only for the nodes priced: most nodes are never priced.
        counts: dict[str, int] = {}
        for node_id, held in left.items():
            count = 0
            for sku, units in held.items():
                wanted = remaining[sku]
                count += wanted if wanted < units else units
            if count:
                counts[node_id] = count
        chosen: Shipment | None = None
        for most in sorted(set(counts.values()), reverse=True):
            priced = [
                shipment
                for node_id, count in counts.items()
                if count == most
                and (
                    shipment := cart.quoter.shipment(
                        cart.by_id[node_id], _offered(remaining, left[node_id]), service
                    )
                )
                is not None
            ]
            if priced:
                chosen = min(priced, key=lambda s: (s.deliver_on, s.cost))
                break
        if chosen is None:
            return None
        shipments.append(chosen)
        for line in chosen.lines:
            remaining[line.sku] -= line.quantity
        left = {node_id: left[node_id] for node_id in counts if node_id != chosen.node_id}
    deliver_on = max(s.deliver_on for s in shipments)
    return ServicePromise(
        service_level, deliver_on, round(sum(s.cost for s in shipments), 2), tuple(shipments)
    )


def _offered(remaining: Mapping[str, int], held: Mapping[str, int]) -> list[CartLine]:
    """What a node can ship of what remains, in the cart's order."""
    return [
        CartLine(sku, min(wanted, held[sku]))
        for sku, wanted in remaining.items()
        if wanted and sku in held
    ]
