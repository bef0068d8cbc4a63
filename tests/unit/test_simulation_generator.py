"""The scenario generator: the same seed gives the same file, SKU popularity is Zipf, nodes stock
SKUs at the research instances' rates, tight capacity sits below demand, and what it writes
passes its own checks."""

from __future__ import annotations

import math
from collections import Counter
from functools import cache
from typing import Any

import pytest

from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.domain.network import Node, NodeType
from dom.simulation.generator import (
    PICKUP,
    SHIPMENTS_PER_ORDER,
    TIGHT,
    Tightness,
    generate_scenario,
    stocking_probability,
)
from dom.simulation.scenario import dump_scenario, load_scenario
from tests.support.sourcing import node


@cache
def generated(seed: int = 7, capacity: Tightness = Tightness.TIGHT, zipf: float = 1.0) -> Any:
    return generate_scenario(
        zip_directory(), nodes=40, skus=300, orders=1500, capacity=capacity, seed=seed, zipf=zipf
    )


def test_the_same_seed_gives_the_same_scenario_and_another_seed_another(
    zips: ZipDirectory,
) -> None:
    again = generate_scenario(
        zips, nodes=40, skus=300, orders=1500, capacity=Tightness.TIGHT, seed=7
    )
    assert dump_scenario(again) == dump_scenario(generated())
    assert generated(seed=8)["orders"] != generated()["orders"]


def test_a_generated_scenario_passes_the_schema_and_the_network_checks(zips: ZipDirectory) -> None:
    document = generated()
    scenario = load_scenario(dump_scenario(document), "generated.json", zips)
    assert len(scenario.nodes) == 40
    assert sum(n.type is NodeType.DISTRIBUTION_CENTRE for n in scenario.nodes) == 4
    assert len(scenario.arrivals) == 1500
    assert scenario.days == 1
    arrivals = [a.arrives_at for a in scenario.arrivals]
    assert arrivals == sorted(arrivals)
    sizes = Counter(len(a.order.lines) for a in scenario.arrivals)
    assert set(sizes) == {1, 2, 3, 4, 5}
    assert sizes[1] > sizes[2] > sizes[3] > sizes[4] > sizes[5]


def _slope(counts: list[int]) -> float:
    """Least-squares slope of log(count) against log(rank)."""
    xs = [math.log(rank) for rank in range(1, len(counts) + 1)]
    ys = [math.log(count) for count in counts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


@pytest.mark.parametrize("exponent", [1.0, 0.5])
def test_sku_popularity_follows_zipf(exponent: float) -> None:
    lines = Counter(line["sku"] for o in generated(zipf=exponent)["orders"] for line in o["lines"])
    top = sorted(lines.values(), reverse=True)[:30]
    assert _slope(top) == pytest.approx(-exponent, abs=0.2)


def test_nodes_stock_skus_at_the_research_rates() -> None:
    document = generated()
    handling = {p["sku"]: set(p["handling"]) for p in document["network"]["products"]}
    tracked = {p["sku"] for p in document["network"]["products"] if p["stock_tracked"]}
    held = {(p["node_id"], p["sku"]) for p in document["inventory"]}
    rates = {}
    for kind in ("dc", "store"):
        pairs = [
            (n["id"], sku)
            for n in document["network"]["nodes"]
            if n["type"] == kind
            for sku in tracked
            if handling[sku] <= set(n["handling"])
        ]
        rates[kind] = sum(pair in held for pair in pairs) / len(pairs)
    # 0.75 for the popular half and 0.5 for the rest, and one DC at least for every SKU.
    assert rates["dc"] == pytest.approx(0.63, abs=0.04)
    assert rates["store"] == pytest.approx(0.25, abs=0.02)
    assert all(p["quantity"] >= 1 for p in document["inventory"])


def test_stocking_probability_favours_popular_skus_at_centres() -> None:
    centre: Node = node("dc", 0)
    store: Node = node("store", 1, NodeType.STORE)
    assert stocking_probability(centre, 0, 100) == 0.75
    assert stocking_probability(centre, 99, 100) == 0.5
    assert stocking_probability(store, 0, 100) == 0.25


def test_tight_capacity_sits_below_the_expected_demand_and_slack_keeps_the_nodes_own() -> None:
    document = generated()
    capacity = document["capacity"]
    assert {c["node_id"] for c in capacity} == {n["id"] for n in document["network"]["nodes"]}
    units = sum(line["quantity"] for o in document["orders"] for line in o["lines"])
    shipments = SHIPMENTS_PER_ORDER * len(document["orders"])
    assert sum(c["orders_per_day"] for c in capacity) <= TIGHT * shipments
    assert sum(c["units_per_day"] for c in capacity) <= TIGHT * units
    assert sum(c["units_per_day"] for c in capacity) >= 0.8 * TIGHT * units
    assert "capacity" not in generated(capacity=Tightness.SLACK)


@cache
def with_pickup_and_history(history_days: int = 2) -> Any:
    return generate_scenario(
        zip_directory(), nodes=20, skus=100, orders=300, seed=5, pickup_share=0.4,
        history_days=history_days,
    )  # fmt: skip


def test_pickup_orders_are_collected_at_a_store_by_the_pickup_service(zips: ZipDirectory) -> None:
    document = with_pickup_and_history()
    stores = {n["zip"] for n in document["network"]["nodes"] if n["type"] == "store"}
    pickups = [o for o in document["orders"] if o["service_level"] == PICKUP]
    assert len(pickups) / len(document["orders"]) == pytest.approx(0.4, abs=0.07)
    assert {o["zip"] for o in pickups} <= stores
    assert not any(o["residential"] or "promise_by" in o for o in pickups)
    assert [s["service"] for s in document["network"]["carrier_services"]][-1] == PICKUP
    scenario = load_scenario(dump_scenario(document), "pickup.json", zips)
    [service] = [s for s in scenario.services if s.service_level == PICKUP]
    assert service.zone_for(0.0).zone == 1 and service.zone_for(500.0).zone == 4
    assert service.price_in_zone(1, 10, residential=False) == pytest.approx(0.01)
    assert "pickup" not in {s["service"] for s in generated()["network"]["carrier_services"]}


def test_history_is_past_days_of_the_same_demand_and_leaves_the_day_alone(
    zips: ZipDirectory,
) -> None:
    document = with_pickup_and_history()
    assert document["orders"] == with_pickup_and_history(0)["orders"]
    assert document["inventory"] == with_pickup_and_history(0)["inventory"]
    assert "history" not in with_pickup_and_history(0)
    assert len(document["history"]) == 2 * 300
    scenario = load_scenario(dump_scenario(document), "history.json", zips)
    days = Counter(scenario.day_of(a.arrives_at) for a in scenario.history)
    assert days == {-2: 300, -1: 300}
    share = sum(a.order.service_level == PICKUP for a in scenario.history) / 600
    assert share == pytest.approx(0.4, abs=0.05)
