"""The nearest-node baseline: the nearest node with every line, else the nearest node per line;
it keeps to every hard rule and is priced by the engine's own costing."""

from __future__ import annotations

import random

import pytest

from dom.domain.sourcing.baselines import NEAREST, route_nearest
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.model import Offer, Order, OrderLine, SolveStatus, Unfilled
from dom.domain.sourcing.profiles import LOWEST_COST
from dom.domain.sourcing.validate import plan_violations
from tests.support.sourcing import NOW, SERVICES, destination, node, product, random_world

# Places (tests.support.sourcing.PLACES): 0 New York, 1 Columbus, 2 Chicago, 9 Miami.
PRODUCTS = {sku: product(sku) for sku in ("A", "B")}


def order_to_new_york(*lines: tuple[str, int]) -> Order:
    return Order(
        "o1",
        tuple(OrderLine(str(i), sku, q) for i, (sku, q) in enumerate(lines, start=1)),
        destination(0),
    )


def test_the_nearest_node_with_every_line_ships_the_whole_order() -> None:
    offers = [
        Offer(node("near-a-only", 0), {"A": 5}),
        Offer(node("columbus-both", 1), {"A": 5, "B": 5}),
        Offer(node("chicago-both", 2), {"A": 5, "B": 5}),
    ]
    plan = route_nearest(order_to_new_york(("A", 1), ("B", 1)), offers, PRODUCTS, SERVICES, NOW)
    assert [s.node_id for s in plan.shipments] == ["columbus-both"]
    assert plan.unfilled == ()
    assert plan.profile == "nearest"
    assert plan.status is SolveStatus.HEURISTIC
    assert plan.explanation.why.startswith("nearest baseline, the nearest node with every line")


def test_without_a_node_holding_every_line_each_line_goes_to_its_nearest_holder() -> None:
    offers = [
        Offer(node("new-york-a", 0), {"A": 5}),
        Offer(node("columbus-b", 1), {"B": 5}),
        Offer(node("chicago-b", 2), {"B": 5}),
        Offer(node("miami-a", 9), {"A": 5}),
    ]
    plan = route_nearest(order_to_new_york(("A", 1), ("B", 2)), offers, PRODUCTS, SERVICES, NOW)
    assert sorted(s.node_id for s in plan.shipments) == ["columbus-b", "new-york-a"]
    assert "each line from the nearest node holding it" in plan.explanation.why


def test_a_node_without_room_left_today_passes_the_line_to_the_next_nearest() -> None:
    offers = [
        Offer(node("new-york-full", 0), {"A": 5}, units_left_today=1),
        Offer(node("columbus", 1), {"A": 5}),
    ]
    plan = route_nearest(order_to_new_york(("A", 2)), offers, PRODUCTS, SERVICES, NOW)
    assert [s.node_id for s in plan.shipments] == ["columbus"]
    closed = [Offer(node("new-york", 0), {"A": 5}, orders_left_today=0)]
    nothing = route_nearest(order_to_new_york(("A", 1)), closed, PRODUCTS, SERVICES, NOW)
    assert nothing.shipments == ()
    assert [u.reason for u in nothing.unfilled] == [Unfilled.NO_CAPABLE_NODE]


def test_a_line_no_node_has_in_full_is_split_over_the_nodes_that_have_it() -> None:
    offers = [Offer(node("new-york", 0), {"A": 2}), Offer(node("columbus", 1), {"A": 3})]
    plan = route_nearest(order_to_new_york(("A", 4)), offers, PRODUCTS, SERVICES, NOW)
    assert sum(line.quantity for s in plan.shipments for line in s.lines) == 4
    assert (
        plan_violations(plan, order_to_new_york(("A", 4)), offers, PRODUCTS, SERVICES, NEAREST, NOW)
        == []
    )


def test_priced_like_the_engine_the_same_shipment_costs_the_same() -> None:
    offers = [Offer(node("columbus", 1), {"A": 5, "B": 5})]
    order = order_to_new_york(("A", 1), ("B", 3))
    nearest = route_nearest(order, offers, PRODUCTS, SERVICES, NOW)
    engine = route(order, offers, PRODUCTS, SERVICES, LOWEST_COST, NOW)
    assert nearest.costs == engine.costs
    assert nearest.shipments == engine.shipments


@pytest.mark.parametrize("seed", range(150))
def test_never_breaks_a_rule_and_never_beats_the_cost_optimal_engine(seed: int) -> None:
    order, offers, products, _ = random_world(random.Random(seed))
    nearest = route_nearest(order, offers, products, SERVICES, NOW)
    assert plan_violations(nearest, order, offers, products, SERVICES, NEAREST, NOW) == []
    engine = route(order, offers, products, SERVICES, LOWEST_COST, NOW)
    if engine.status is SolveStatus.OPTIMAL and not engine.unfilled and not nearest.unfilled:
        # Same weights, same candidates: the exact search is never worse.
        assert engine.costs.objective <= nearest.costs.objective + 1e-6
