"""Which nodes a cart promise ships from: one node holding the whole cart, or else a greedy split
over the fewest nodes; and every service level answered at once as each would be on its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.catalog import Dimensions, Product
from dom.domain.geo import Coordinates
from dom.domain.network import (
    MON_TO_FRI,
    Address,
    Calendar,
    Capability,
    Capacity,
    Handling,
    HandlingCost,
    Node,
    NodeType,
)
from dom.domain.promise import CartLine, best_promise, best_promises

NOW = datetime(2026, 12, 1, 14, tzinfo=UTC)  # a Tuesday morning in Ohio
CHICAGO = Coordinates(41.88, -87.63)
COLUMBUS = Node(
    id="dc-columbus",
    name="Columbus DC",
    type=NodeType.DISTRIBUTION_CENTRE,
    address=Address("1 Way", "Columbus", "OH", "43217"),
    location=Coordinates(39.83, -82.93),
    timezone="America/New_York",
    capabilities=frozenset({Capability.SHIP}),
    handling=frozenset(),
    capacity=Capacity(100, 100, 10),
    calendar=Calendar(MON_TO_FRI, cutoff=time(15, 0)),
    cost=HandlingCost(3, 0.3),
)
RENO = replace(
    COLUMBUS,
    id="dc-reno",
    name="Reno DC",
    address=Address("2 Way", "Reno", "NV", "89502"),
    location=Coordinates(39.53, -119.81),
    timezone="America/Los_Angeles",
    handling=frozenset({Handling.HAZMAT}),
)
JOLIET = replace(
    COLUMBUS,
    id="dc-joliet",
    name="Joliet DC",
    address=Address("3 Way", "Joliet", "IL", "60431"),
    location=Coordinates(41.53, -88.08),
    timezone="America/Chicago",
)
NODES = [COLUMBUS, JOLIET, RENO]
ZONES = (ZoneBand(2, 150, 1), ZoneBand(3, 600, 2), ZoneBand(4, None, 4))
GROUND = CarrierService(
    carrier="testco",
    service="ground",
    name="TestCo Ground",
    service_level="ground",
    dim_divisor=139.0,
    residential_surcharge=0.0,
    fuel_surcharge_pct=0.0,
    pickup_days=MON_TO_FRI,
    zones=ZONES,
    rates={(z.zone, w): 8.0 + z.zone + w for z in ZONES for w in range(1, 31)},
)
NEXT_DAY = replace(
    GROUND,
    service="next",
    name="TestCo Next Day",
    service_level="overnight",
    zones=tuple(replace(band, transit_days=1) for band in ZONES),
    rates={(z.zone, w): 30.0 + z.zone + w for z in ZONES for w in range(1, 31)},
)
BOX = Dimensions(10, 8, 4, 2)
PRODUCTS = {
    "A": Product("A", "a box", BOX),
    "B": Product("B", "another box", BOX),
    "C": Product("C", "a third box", BOX),
    "H": Product("H", "a hazardous box", BOX, handling=frozenset({Handling.HAZMAT})),
}


def ship_from(stock: dict[str, dict[str, int]], cart: list[CartLine]) -> list[tuple[str, ...]]:
    """Per shipment of the ground promise: the node, then its lines as 'SKU×units'."""
    found = best_promise(
        "ground", [GROUND], cart, stock, NODES, PRODUCTS, CHICAGO, NOW, residential=True
    )
    assert found is not None
    return [
        (s.node_id, *(f"{line.sku}×{line.quantity}" for line in s.lines)) for s in found.shipments
    ]


def test_a_node_holding_the_whole_cart_ships_it_alone_even_if_another_is_nearer() -> None:
    stock = {"dc-columbus": {"A": 2, "B": 1}, "dc-joliet": {"A": 2}}

    assert ship_from(stock, [CartLine("A", 2), CartLine("B", 1)]) == [("dc-columbus", "A×2", "B×1")]


def test_a_split_takes_the_node_that_can_ship_most_units_first() -> None:
    stock = {
        "dc-joliet": {"A": 1, "B": 1},
        "dc-columbus": {"A": 3, "C": 1},
        "dc-reno": {"B": 2},
    }
    cart = [CartLine("A", 3), CartLine("B", 2), CartLine("C", 1)]

    assert ship_from(stock, cart) == [("dc-columbus", "A×3", "C×1"), ("dc-reno", "B×2")]


def test_among_nodes_offering_as_many_units_the_earliest_then_cheapest_wins() -> None:
    stock = {"dc-columbus": {"A": 1}, "dc-joliet": {"A": 1}, "dc-reno": {"B": 1}}

    # Joliet is nearest Chicago: the same day, a lower zone.
    assert ship_from(stock, [CartLine("A", 1), CartLine("B", 1)]) == [
        ("dc-joliet", "A×1"),
        ("dc-reno", "B×1"),
    ]


def test_when_the_nodes_offering_most_cannot_ship_it_the_next_most_are_priced() -> None:
    stock = {"dc-columbus": {"H": 1, "A": 1}, "dc-reno": {"H": 1}, "dc-joliet": {"A": 1}}

    # Columbus offers both units but cannot handle hazmat: one unit each from the others.
    assert ship_from(stock, [CartLine("H", 1), CartLine("A", 1)]) == [
        ("dc-joliet", "A×1"),
        ("dc-reno", "H×1"),
    ]


def test_no_promise_when_the_network_cannot_cover_the_cart() -> None:
    stock = {"dc-columbus": {"A": 1}}

    assert (
        best_promise(
            "ground",
            [GROUND],
            [CartLine("A", 2)],
            stock,
            NODES,
            PRODUCTS,
            CHICAGO,
            NOW,
            residential=True,
        )
        is None
    )


def test_every_level_at_once_is_what_each_level_would_be_alone() -> None:
    stock = {
        "dc-joliet": {"A": 1, "B": 1},
        "dc-columbus": {"A": 3, "C": 1, "H": 1},
        "dc-reno": {"B": 2, "H": 1},
    }
    services = [GROUND, NEXT_DAY]
    for cart in (
        [CartLine("A", 1), CartLine("B", 1)],
        [CartLine("A", 3), CartLine("B", 2), CartLine("C", 1)],
        [CartLine("H", 1), CartLine("A", 1)],
        [CartLine("A", 9)],
    ):
        together = best_promises(
            services, cart, stock, NODES, PRODUCTS, CHICAGO, NOW, residential=False
        )

        alone = {
            s.service_level: best_promise(
                s.service_level, [s], cart, stock, NODES, PRODUCTS, CHICAGO, NOW, residential=False
            )
            for s in services
        }
        assert together == alone


def test_the_overnight_promise_arrives_the_next_business_day() -> None:
    stock = {"dc-joliet": {"A": 1}}
    found = best_promises(
        [GROUND, NEXT_DAY],
        [CartLine("A", 1)],
        stock,
        NODES,
        PRODUCTS,
        CHICAGO,
        NOW,
        residential=True,
    )["overnight"]

    assert found is not None
    assert (found.shipments[0].ship_on, found.deliver_on) == (date(2026, 12, 1), date(2026, 12, 2))
