"""The metrics of a replay, from plans made by hand: cost, shipments, stores' share, delivery
days from arrival, promise misses, utilization, unfilled units, latency and violations."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from dom.domain.network import NodeType
from dom.domain.sourcing.model import (
    Costs,
    Explanation,
    Order,
    OrderLine,
    Plan,
    PlannedShipment,
    ShipmentLine,
    SolveStatus,
    Unfilled,
    UnfilledLine,
)
from dom.simulation.metrics import measure, percentile, utilization
from dom.simulation.model import Arrival, DailyCapacity, Scenario
from dom.simulation.replay import Outcome, Run, nearest_policy
from dom.simulation.report import ROWS, as_json, chart_files, table_rows
from dom.simulation.report import Result as Compared
from tests.support.sourcing import NOW, SERVICES, destination, node, product

START = NOW.replace(hour=5)
TODAY = START.date()
DC, STORE = node("dc", 1), node("store", 0, NodeType.STORE)


def shipment(node_id: str, units: int, deliver_in: int, dollars: float) -> PlannedShipment:
    return PlannedShipment(
        node_id,
        (ShipmentLine("1", "A", units),),
        "parcelco",
        "ground",
        1,
        2,
        100.0,
        TODAY,
        TODAY + timedelta(days=deliver_in),
        Costs(shipping=dollars - 1, handling=1.0, objective=dollars + 0.5),
    )


def outcome(
    order_id: str,
    shipments: tuple[PlannedShipment, ...],
    *,
    unfilled: int = 0,
    promise_in: int | None = None,
    ms: float = 1.0,
    violations: tuple[str, ...] = (),
) -> Outcome:
    ordered = sum(line.quantity for s in shipments for line in s.lines) + unfilled
    promise = None if promise_in is None else TODAY + timedelta(days=promise_in)
    order = Order(order_id, (OrderLine("1", "A", ordered),), destination(0), promise_by=promise)
    costs = Costs()
    for s in shipments:
        costs = costs + s.costs
    missing = (UnfilledLine("1", "A", unfilled, Unfilled.NOT_ENOUGH, ""),) if unfilled else ()
    plan = Plan(
        order_id,
        "test",
        shipments,
        missing,
        costs,
        SolveStatus.OPTIMAL,
        Explanation("", (), (), {}, 0, 0),
    )
    return Outcome(Arrival(order, START, "10001"), plan, ms / 1000, violations)


def scenario() -> Scenario:
    return Scenario(
        name="metrics",
        seed=None,
        start=START,
        nodes=(DC, STORE),
        products={"A": product("A")},
        services=SERVICES,
        inventory={"dc": {"A": 10}, "store": {"A": 10}},
        capacity={"dc": DailyCapacity(10, 20), "store": DailyCapacity(5, None)},
        arrivals=(),
    )


RUN = Run(
    nearest_policy(),
    (
        outcome("o1", (shipment("dc", 2, 3, 10.0),), promise_in=3, ms=1.0),
        outcome("o2", (shipment("dc", 1, 2, 12.0), shipment("store", 1, 5, 8.0)), promise_in=4),
        outcome("o3", (shipment("store", 1, 1, 6.0),), unfilled=2, promise_in=9, ms=3.0),
        outcome("o4", (), unfilled=1, ms=5.0, violations=("bad",)),
    ),
    2.0,
)


def test_the_metrics_of_a_replay() -> None:
    m = measure(RUN, scenario())
    assert (m.orders, m.shipped_orders, m.complete_orders) == (4, 3, 2)
    assert (m.units_ordered, m.units_shipped, m.unfilled_units) == (8, 5, 3)
    assert m.cost == 36.0
    assert (m.shipping, m.handling) == (32.0, 4.0)
    assert m.cost_per_order == 12.0  # 36 over the 3 orders shipped
    assert m.cost_per_unit == 7.2  # 36 over the 5 units shipped
    assert m.objective == 38.0
    assert m.shipments == 4
    assert m.shipments_per_order == pytest.approx(4 / 3, abs=1e-3)
    assert m.store_share == 0.5
    # Last delivery per order shipped, from its arrival: 3, 5 and 1 days.
    assert m.delivery_days_mean == 3.0
    assert m.delivery_days_p95 == pytest.approx(4.8)
    # o2 arrives a day late, o3 is short; o1 is on time; o4 promised nothing.
    assert (m.promised_orders, m.promise_misses) == (3, 2)
    # Units shipped over units of capacity: the dc 3 of 20; the store's units are not limited.
    assert (m.utilization_mean, m.utilization_max) == (0.15, 0.15)
    assert m.latency_p50_ms == 2.0
    assert m.latency_p99_ms == pytest.approx(4.94)
    assert m.violations == 1


def test_utilization_counts_every_day_of_the_stream() -> None:
    arrivals = tuple(o.arrival for o in RUN.outcomes)
    two_days = replace(scenario(), arrivals=(*arrivals, _next_day(arrivals[0])))
    assert utilization(RUN, two_days) == {"dc": 0.075}


def _next_day(first: Arrival) -> Arrival:
    return Arrival(first.order, first.arrives_at + timedelta(days=1), first.zip)


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([7], 99) == 7
    assert percentile([1, 2, 3, 4, 5], 95) == 4.8
    with pytest.raises(ValueError):
        percentile([], 50)


def test_the_report_has_a_row_per_metric_json_and_four_charts() -> None:
    results = [Compared(RUN, measure(RUN, scenario()))]
    rows = table_rows(results)
    assert [row[0] for row in rows] == [label for label, _, _ in ROWS]
    assert {row[0]: row[1] for row in rows}["total cost (shipping + handling)"] == "$36.00"
    document = as_json(scenario(), results)
    assert set(document["policies"][0]["metrics"]) >= {name for _, name, _ in ROWS}
    charts = chart_files(scenario(), results)
    assert sorted(charts) == ["cost.svg", "delivery.svg", "shipments.svg", "utilization.svg"]
    assert all(svg.startswith("<svg") and "nearest" in svg for svg in charts.values())
