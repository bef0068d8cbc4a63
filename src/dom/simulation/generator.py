"""Scenarios in the style of the research instances (REFERENCE §2), on real US geography.

- Network: the demo network (`services.demo.demo_network`): distribution centres at real
  logistics hubs, stores in real metro ZIP codes, the demo catalogue and the default carrier
  services. One node in ten is a distribution centre.
- Destinations, population-like: the ZIP code directory has no population, so a metro area is
  drawn in proportion to its population (`demo_places.METROS`, 2023 estimates) and then one of
  its ZIP codes within `METRO_RADIUS_MILES`, uniformly; `OUTSIDE_METROS` of the orders go to a
  ZIP code drawn uniformly from the contiguous US instead, for the rest of the country.
- SKU popularity: Zipf — the SKU of popularity rank r is ordered with weight 1 / r^s (s = 1).
- Orders: 1–5 distinct SKUs, 1–3 units a line, arrivals over one day shaped like a retail day.
- Stock: each distribution centre stocks a SKU with probability 0.75 (the more popular half of
  the catalogue) or 0.5 (the rest), each store with probability 0.25 — only what it can handle.
  A holder's units share `COVERAGE` times the SKU's expected demand, a centre weighing
  `DC_WEIGHT` stores.
- Pickup (`pickup_share`, default none): that share of the orders is collected at a store
  (drawn uniformly), by the `pickup` service level of an in-store carrier service added to the
  network: a cent from the store's own shelf (within `PICKUP_MILES`, the same ZIP code), the
  ground rate of a transfer from any other node. Local demand only its store serves cheaply.
- History (`history_days`, default none): as many past days of orders, drawn from the same
  demand model, written under `history` for forecasts; stock and capacity follow the stream only.
- Capacity: `slack` keeps the demo's capacities (far above one day's orders). `tight` sets each
  node's shipments and units per day to `TIGHT` (90 %) of its expected share of the day's
  demand: half of it the orders whose nearest node it is, half spread in proportion to size
  (a centre counting as `DC_WEIGHT` stores). The day's shipments are expected at
  `SHIPMENTS_PER_ORDER` per order, about what the cost-optimal engine makes with slack capacity.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.catalog import Product
from dom.domain.geo import Coordinates, ZipPlace, miles_between
from dom.domain.network import EVERY_DAY, Capability, Node, NodeType
from dom.services.carrier_defaults import (
    DIM_DIVISOR,
    GROUND_FUEL_PCT,
    MAX_WEIGHT_LB,
    ZONE_BANDS,
    ground_list_price,
)
from dom.services.demo import demo_network
from dom.services.demo_places import HUBS, METROS
from dom.services.masterdata import as_json_bundle
from dom.simulation.scenario import FORMAT, VERSION

#: A Tuesday, midnight in New York. Arrival times are written in New York time, so that
#: "the day an order arrives" is the retail day of most US customers.
START = datetime(2026, 12, 1, tzinfo=ZoneInfo("America/New_York"))
DC_SHARE = 0.1
ZIPF_EXPONENT = 1.0
METRO_RADIUS_MILES = 30.0
OUTSIDE_METROS = 0.25
#: Not in the contiguous US: left out of the destinations outside metros.
FAR_STATES = frozenset(
    {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"}
)
LINES_PER_ORDER = ((1, 0.45), (2, 0.25), (3, 0.15), (4, 0.10), (5, 0.05))
UNITS_PER_LINE = ((1, 0.85), (2, 0.11), (3, 0.04))
SERVICE_LEVELS = (("ground", 0.85), ("two_day", 0.11), ("overnight", 0.04))
CHANNELS = (("web", 0.6), ("app", 0.3), ("marketplace", 0.1))
#: Share of orders with a promised delivery date, and the calendar days promised per level.
PROMISED = 0.3
PROMISE_DAYS = {"ground": 6, "two_day": 3, "overnight": 2}
RESIDENTIAL = 0.9
#: Orders per hour of the day (New York time), relative.
HOURLY = (
    *(1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 5.0),
    *(5.5, 5.0, 4.5, 4.5, 4.5, 5.0, 5.5, 6.0, 6.0, 5.0, 3.5, 2.0),
)
DC_STOCKS_POPULAR = 0.75
DC_STOCKS_OTHER = 0.5
STORE_STOCKS = 0.25
COVERAGE = 1.3
DC_WEIGHT = 4.0
TIGHT = 0.9
SHIPMENTS_PER_ORDER = 1.3
PICKUP = "pickup"
PICKUP_MILES = 2.0
PICKUP_RATE = 0.01  # rates must be above zero: a cent for the walk to the pickup counter


class Tightness(StrEnum):
    TIGHT = "tight"
    SLACK = "slack"


@dataclass(frozen=True)
class _Order:
    arrives_at: datetime
    place: ZipPlace
    lines: tuple[tuple[str, int], ...]
    service_level: str
    promised: bool
    channel: str
    residential: bool


def generate_scenario(
    zips: ZipDirectory,
    *,
    nodes: int = 100,
    skus: int = 2000,
    orders: int = 2000,
    capacity: Tightness = Tightness.SLACK,
    seed: int = 7,
    start: datetime = START,
    zipf: float = ZIPF_EXPONENT,
    pickup_share: float = 0.0,
    history_days: int = 0,
) -> dict[str, Any]:
    """A scenario document (format version 1); the same arguments always give the same one."""
    if nodes < 1 or skus < 1 or orders < 1:
        raise ValueError("nodes, skus and orders must each be at least 1")
    if not 0.0 <= pickup_share <= 1.0:
        raise ValueError("pickup_share must be between 0 and 1")
    if history_days < 0:
        raise ValueError("history_days must not be negative")
    dcs = max(1, min(len(HUBS), round(nodes * DC_SHARE)))
    network = demo_network(
        zips, seed=seed, stores=nodes - dcs, dcs=dcs, skus=skus, vendors=0, third_party=0
    )
    ranked = _ranked(_rng(seed, "popularity"), [p for p in network.products if p.stock_tracked])
    weights = [1 / rank**zipf for rank in range(1, len(ranked) + 1)]
    if pickup_share:
        network.services.append(pickup_service())
    destinations = _Destinations(zips, network.nodes, pickup_share)
    stream = _orders(_rng(seed, "orders"), orders, ranked, weights, destinations, start)
    units = sum(q for o in stream for _, q in o.lines)
    expected = {p.sku: units * w / sum(weights) for p, w in zip(ranked, weights, strict=True)}
    inventory = _inventory(_rng(seed, "stock"), network.nodes, ranked, expected)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": f"generated-{nodes}-nodes-{skus}-skus-{orders}-orders-{capacity.value}-seed-{seed}",
        "description": "generated by dom simulate generate (see docs/scenarios.md)",
        "seed": seed,
        "start": start.isoformat(),
        "generator": {
            "nodes": nodes,
            "distribution_centres": dcs,
            "stores": nodes - dcs,
            "skus": skus,
            "orders": orders,
            "capacity": capacity.value,
            "zipf_exponent": zipf,
            "stocking": {
                "dc_popular_half": DC_STOCKS_POPULAR,
                "dc_other": DC_STOCKS_OTHER,
                "store": STORE_STOCKS,
            },
            "coverage": COVERAGE,
        },
        "network": as_json_bundle(network),
        "inventory": inventory,
    }
    if pickup_share:
        document["generator"]["pickup_share"] = pickup_share
    if history_days:
        document["generator"]["history_days"] = history_days
    if capacity is Tightness.TIGHT:
        document["capacity"] = _tight_capacity(network.nodes, stream, units)
    document["orders"] = [_order_record(number, o) for number, o in enumerate(stream, start=1)]
    if history_days:
        past = _history(seed, history_days, orders, ranked, weights, destinations, start)
        document["history"] = [
            _order_record(number, o, "h") for number, o in enumerate(past, start=1)
        ]
    return document


def _history(
    seed: int,
    days: int,
    orders: int,
    ranked: Sequence[Product],
    weights: Sequence[float],
    destinations: _Destinations,
    start: datetime,
) -> list[_Order]:
    """`orders` a day on each of the `days` days before `start`, from the same demand model."""
    found: list[_Order] = []
    for back in range(days, 0, -1):
        rng = _rng(seed, f"history:{back}")
        found += _orders(rng, orders, ranked, weights, destinations, start - timedelta(days=back))
    return found


def pickup_service() -> CarrierService:
    """Collection at a store: free from the store's own stock (zone 1, the same ZIP code), else
    a ground transfer from the node that has it, at ground list rates for a business address."""
    zones = (
        ZoneBand(1, PICKUP_MILES, 0),
        *(ZoneBand(zone, miles, days) for zone, miles, days in ZONE_BANDS),
    )
    rates = {(1, pounds): PICKUP_RATE for pounds in range(1, MAX_WEIGHT_LB + 1)}
    rates.update(
        ((zone, pounds), round(ground_list_price(zone, pounds), 2))
        for zone, _, _ in ZONE_BANDS
        for pounds in range(1, MAX_WEIGHT_LB + 1)
    )
    return CarrierService(
        carrier="store",
        service=PICKUP,
        name="Pickup in store",
        service_level=PICKUP,
        dim_divisor=DIM_DIVISOR,
        residential_surcharge=0.0,
        fuel_surcharge_pct=GROUND_FUEL_PCT,
        pickup_days=EVERY_DAY,
        zones=zones,
        rates=rates,
    )


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"dom-scenario:{seed}:{part}")


def _ranked(rng: random.Random, products: list[Product]) -> list[Product]:
    """Products in order of popularity: a shuffle, so rank has nothing to do with SKU number."""
    ranked = list(products)
    rng.shuffle(ranked)
    return ranked


def _pick(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in table], [weight for _, weight in table])[0]


class _Destinations:
    """ZIP codes where orders go, drawn in proportion to a population proxy; and, for a
    `pickup_share` of the orders, the store where they are collected."""

    def __init__(self, zips: ZipDirectory, nodes: Sequence[Node], pickup_share: float) -> None:
        usable = [
            p
            for p in zips.places()
            if p.active and p.is_standard and p.has_location and p.state not in FAR_STATES
        ]
        self._anywhere = sorted(usable, key=lambda p: p.zip)
        self.pickup_share = pickup_share
        self._metros: list[list[ZipPlace]] = []
        populations = []
        cells: dict[tuple[int, int], list[ZipPlace]] = {}
        for place in self._anywhere:
            cells.setdefault(_cell(place.location), []).append(place)
        for metro in METROS:
            centre = zips.lookup(metro.zip)
            if centre is None:
                continue
            lat, lon = _cell(centre.location)
            near = [
                place
                for dlat, dlon in itertools.product((-1, 0, 1), repeat=2)
                for place in cells.get((lat + dlat, lon + dlon), [])
                if miles_between(centre.location, place.location) <= METRO_RADIUS_MILES
            ]
            if near:
                self._metros.append(sorted(near, key=lambda p: p.zip))
                populations.append(metro.population_m)
        self._cumulative = list(itertools.accumulate(populations))
        at_stores = [
            zips.lookup(node.address.zip)
            for node in nodes
            if node.type is NodeType.STORE and Capability.PICKUP_IN_STORE in node.capabilities
        ]
        self._stores = [p for p in at_stores if p is not None and p.has_location]

    def pickup_store(self, rng: random.Random) -> ZipPlace | None:
        """For a `pickup_share` of the orders, the store (its ZIP code) they are collected at."""
        if not self._stores or rng.random() >= self.pickup_share:
            return None
        return rng.choice(self._stores)

    def draw(self, rng: random.Random) -> ZipPlace:
        if rng.random() < OUTSIDE_METROS or not self._metros:
            return rng.choice(self._anywhere)
        metro = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
        return rng.choice(self._metros[min(metro, len(self._metros) - 1)])


def _cell(location: Coordinates) -> tuple[int, int]:
    # One degree is at least 50 miles in the contiguous US: 3×3 cells cover the metro radius.
    return math.floor(location.latitude), math.floor(location.longitude)


def _orders(
    rng: random.Random,
    count: int,
    ranked: Sequence[Product],
    weights: Sequence[float],
    destinations: _Destinations,
    start: datetime,
) -> list[_Order]:
    cumulative = list(itertools.accumulate(weights))
    skus = [p.sku for p in ranked]
    hours = list(range(len(HOURLY)))
    pickups = random.Random(rng.random()) if destinations.pickup_share else None
    found = []
    for _ in range(count):
        store = None if pickups is None else destinations.pickup_store(pickups)
        size = min(_pick(rng, LINES_PER_ORDER), len(skus))
        chosen: dict[str, int] = {}
        while len(chosen) < size:
            sku = rng.choices(skus, cum_weights=cumulative)[0]
            chosen.setdefault(sku, _pick(rng, UNITS_PER_LINE))
        hour = rng.choices(hours, HOURLY)[0]
        arrives_at = start + timedelta(hours=hour, seconds=rng.randrange(3600))
        place, level = destinations.draw(rng), _pick(rng, SERVICE_LEVELS)
        promised, channel, residential = (
            rng.random() < PROMISED,
            _pick(rng, CHANNELS),
            rng.random() < RESIDENTIAL,
        )
        found.append(
            _Order(
                arrives_at=arrives_at,
                place=place if store is None else store,
                lines=tuple(chosen.items()),
                service_level=level if store is None else PICKUP,
                promised=promised and store is None,
                channel=channel,
                residential=residential and store is None,
            )
        )
    return sorted(found, key=lambda o: o.arrives_at)


def _order_record(number: int, order: _Order, prefix: str = "o") -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"{prefix}-{number:06d}",
        "arrives_at": order.arrives_at.isoformat(),
        "zip": order.place.zip,
        "service_level": order.service_level,
    }
    if order.promised:
        promise = order.arrives_at.date() + timedelta(days=PROMISE_DAYS[order.service_level])
        record["promise_by"] = promise.isoformat()
    record["residential"] = order.residential
    record["channel"] = order.channel
    record["lines"] = [{"sku": sku, "quantity": quantity} for sku, quantity in order.lines]
    return record


def stocking_probability(node: Node, rank: int, skus: int) -> float:
    """How likely a node is to stock the SKU of popularity `rank` (from 0) of `skus`."""
    if node.type is NodeType.DISTRIBUTION_CENTRE:
        return DC_STOCKS_POPULAR if rank < skus / 2 else DC_STOCKS_OTHER
    return STORE_STOCKS


def _inventory(
    rng: random.Random,
    nodes: Sequence[Node],
    ranked: Sequence[Product],
    expected: dict[str, float],
) -> list[dict[str, Any]]:
    """Positions by node, then SKU; every SKU at one centre at least that can handle it."""
    held: dict[str, dict[str, int]] = {node.id: {} for node in nodes}
    for rank, product in enumerate(ranked):
        able = [n for n in nodes if n.handles(product.handling)]
        holders = [n for n in able if rng.random() < stocking_probability(n, rank, len(ranked))]
        centres = [n for n in able if n.type is NodeType.DISTRIBUTION_CENTRE]
        if centres and not any(n.type is NodeType.DISTRIBUTION_CENTRE for n in holders):
            holders.append(rng.choice(centres))
        weight = sum(_weight(n) for n in holders)
        for node in holders:
            share = COVERAGE * expected[product.sku] * _weight(node) / weight
            held[node.id][product.sku] = max(1, round(share * rng.uniform(0.5, 1.5)))
    return [
        {"node_id": node.id, "sku": sku, "quantity": units}
        for node in nodes
        for sku, units in sorted(held[node.id].items())
    ]


def _weight(node: Node) -> float:
    return DC_WEIGHT if node.type is NodeType.DISTRIBUTION_CENTRE else 1.0


def _tight_capacity(
    nodes: Sequence[Node], stream: Sequence[_Order], units: int
) -> list[dict[str, Any]]:
    nearest = Counter(
        min(nodes, key=lambda n: (miles_between(n.location, o.place.location), n.id)).id
        for o in stream
    )
    total = sum(_weight(n) for n in nodes)
    found = []
    for node in nodes:
        share = 0.5 * nearest[node.id] / len(stream) + 0.5 * _weight(node) / total
        found.append(
            {
                "node_id": node.id,
                "orders_per_day": max(
                    1, math.floor(TIGHT * share * SHIPMENTS_PER_ORDER * len(stream))
                ),
                "units_per_day": max(1, math.floor(TIGHT * share * units)),
            }
        )
    return found
