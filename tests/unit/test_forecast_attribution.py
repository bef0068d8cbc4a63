"""Production order history as demand: each served line at the node that served it, collected
lines worth a lost sale, shipped lines worth their decision's cheapest alternative without the
node; and the horizon a unit is kept for, to the end of its node's next local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Fulfilment, Part
from dom.domain.sourcing.forecast import (
    LOST_SALE,
    Demand,
    Served,
    attributed,
    days_left_tomorrow,
    estimate,
    future_values_at,
    runner_up,
    served_by,
)
from dom.domain.sourcing.model import Alternative, Offer
from tests.support.sourcing import node

NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)


def alternative(nodes: tuple[str, ...], extra: float) -> Alternative:
    return Alternative("another plan", nodes, 10.0 + extra, extra, 0)


def request(
    method: Method = Method.SHIP,
    status: Status = Status.RELEASED,
    transfer_to: str | None = None,
    node_id: str = "store-a",
) -> Fulfilment:
    parts = [Part("1", "A", 2), Part("2", "B", 1)]
    return Fulfilment("f1", node_id, method, status, parts, NOW, transfer_to=transfer_to)


def test_a_collected_line_is_demand_at_its_store_worth_a_lost_sale() -> None:
    served = served_by(request(Method.PICKUP), NOW - timedelta(hours=3), runner_up=2.0)
    assert served == [
        Served("store-a", "A", 2, NOW - timedelta(hours=3), True, None),
        Served("store-a", "B", 1, NOW - timedelta(hours=3), True, None),
    ]
    assert attributed(served, NOW, 28) == [
        Demand("store-a", "A", 1, 2, LOST_SALE),
        Demand("store-a", "B", 1, 1, LOST_SALE),
    ]
    curbside = served_by(request(Method.CURBSIDE), NOW)
    assert {s.at_store for s in curbside} == {True}


def test_a_shipped_line_costs_what_its_decision_would_have_cost_more_without_its_node() -> None:
    alternatives = [
        alternative(("store-a",), 1.0),  # uses the node: not a plan without it
        alternative((), 0.5),  # names no nodes: may use it
        alternative(("dc-east", "dc-west"), 9.0),
        alternative(("dc-west",), 6.0),
    ]
    per_unit = runner_up(alternatives, "store-a", 3)
    assert per_unit == pytest.approx(2.0)  # 6.0 over the 3 units of the node's shipment
    served = served_by(request(), NOW - timedelta(days=2, hours=1), per_unit)
    assert attributed(served, NOW, 28) == [
        Demand("store-a", "A", 3, 2, 2.0),
        Demand("store-a", "B", 3, 1, 2.0),
    ]


def test_a_shipped_line_no_other_node_could_ship_is_worth_a_lost_sale_and_never_more() -> None:
    assert runner_up([alternative(("store-a",), 4.0), alternative((), 1.0)], "store-a", 1) is None
    assert runner_up([], "store-a", 2) is None
    lines = [
        Served("dc", "A", 1, NOW, False, None),
        Served("dc", "B", 1, NOW, False, 500.0),
        Served("dc", "C", 1, NOW, False, 0.25),
    ]
    assert [d.extra_cost for d in attributed(lines, NOW, 28, lost_sale=20.0)] == [20.0, 20.0, 0.25]


def test_age_counts_whole_days_since_the_order_and_older_lines_are_left_out() -> None:
    lines = [
        Served("s", "A", 1, NOW - timedelta(hours=23, minutes=59), True),
        Served("s", "A", 1, NOW - timedelta(hours=24), True),
        Served("s", "A", 1, NOW - timedelta(days=6, hours=23), True),
        Served("s", "A", 1, NOW - timedelta(days=7), True),  # 8 days old: outside 7
        Served("s", "A", 1, NOW + timedelta(minutes=5), True),  # clocks differ: today's
        Served("s", "A", 0, NOW, True),  # nothing served
    ]
    assert [d.age_days for d in attributed(lines, NOW, 7)] == [1, 2, 7, 1]
    with pytest.raises(ValueError, match="at least one day"):
        attributed(lines, NOW, 0)


def test_a_request_that_took_nothing_to_the_customer_served_nothing() -> None:
    for status in (Status.CANCELLED, Status.EXPIRED, Status.REJECTED):
        assert served_by(request(Method.PICKUP, status), NOW) == []
    assert len(served_by(request(Method.PICKUP, Status.PICKED_UP), NOW)) == 2
    assert len(served_by(request(Method.SHIP, Status.DELIVERED), NOW, 1.0)) == 2


def test_a_transfer_serves_its_pickup_store_until_it_arrives_there() -> None:
    moving = served_by(request(Method.SHIP, Status.SHIPPED, "store-b", "dc-east"), NOW, 3.0)
    assert {(s.node_id, s.at_store, s.runner_up) for s in moving} == {("store-b", True, None)}
    # Arrived: the store's own pickup request carries the lines on and counts instead.
    assert served_by(request(Method.SHIP, Status.DELIVERED, "store-b", "dc-east"), NOW) == []


def test_the_horizon_runs_to_the_end_of_the_nodes_next_local_day() -> None:
    # 15:00 UTC is 09:00 in Chicago: 15 hours of today and all of tomorrow.
    assert days_left_tomorrow(NOW, "America/Chicago") == pytest.approx(1 + 15 / 24)
    # 15:00 UTC is 00:00 next day in Tokyo: that whole day and the next.
    assert days_left_tomorrow(NOW, "Asia/Tokyo") == pytest.approx(2.0)
    # Across the change to daylight saving time, tomorrow is 23 hours long.
    spring = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)  # 12:00 in Chicago, the day before
    assert days_left_tomorrow(spring, "America/Chicago") == pytest.approx((12 + 23) / 24)


def test_each_node_values_its_units_over_its_own_horizon() -> None:
    forecast = estimate([Demand("east", "A", 1, 2, 10.0), Demand("west", "A", 1, 2, 10.0)], 1)
    offers = [
        Offer(node("east", 0), {"A": 2}),
        Offer(node("west", 1), {"A": 2}),
        Offer(node("x", 2), {}),
    ]
    valued = future_values_at(forecast, offers, {"east": 2.0, "west": 0.5, "x": 1.0})
    east, west = valued[0].future_value["A"], valued[1].future_value["A"]
    assert east == pytest.approx(forecast.unit_value("east", "A", 2, 2.0))
    assert west == pytest.approx(forecast.unit_value("west", "A", 2, 0.5))
    assert east > west > 0
    assert valued[2] is offers[2]  # nothing worth keeping: the offer as it was
