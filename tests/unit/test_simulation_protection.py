"""Inventory protection in the simulator: past orders become demand at the node that would serve
them, and a protecting policy keeps a store's last unit for the pickup customer the forecast
expects, where the myopic policy ships it to someone a far centre serves nearly as cheaply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dom.domain.network import NodeType
from dom.domain.sourcing.model import Order, OrderLine
from dom.domain.sourcing.profiles import FREE_SHIPPING, LOWEST_COST
from dom.simulation.generator import PICKUP, pickup_service
from dom.simulation.model import Arrival, DailyCapacity, Scenario
from dom.simulation.policies import profile_named, protecting
from dom.simulation.protection import past_demand, protection_for
from dom.simulation.replay import Run, myopic_policy, profile_policy, replay
from tests.support.sourcing import NOW, SERVICES, destination, node, product

START = NOW.replace(hour=5)  # 2026-12-01 05:00 UTC, midnight in New York
STORE = node("store-ny", 0, NodeType.STORE)  # Manhattan
CENTRE = node("dc-seattle", 7)  # the other side of the country


def pickup(order_id: str, at: timedelta) -> Arrival:
    order = Order(order_id, (OrderLine("1", "A", 1),), destination(0), PICKUP, residential=False)
    return Arrival(order, START + at, "10001")


def shipped(order_id: str, at: timedelta) -> Arrival:
    return Arrival(Order(order_id, (OrderLine("1", "A", 1),), destination(0)), START + at, "10001")


def world(*, history: bool = True) -> Scenario:
    """The store has one unit, the centre plenty; pickups at the store every afternoon of the
    past three days; today a Manhattan home delivery, then a pickup."""
    past = tuple(
        pickup(f"h{day}-{n}", timedelta(days=-day, hours=hour))
        for day in (3, 2, 1)
        for n, hour in enumerate((12, 15))
    )
    return Scenario(
        name="protection",
        seed=None,
        start=START,
        nodes=(STORE, CENTRE),
        products={"A": product("A")},
        services=(*SERVICES, pickup_service()),
        inventory={STORE.id: {"A": 1}, CENTRE.id: {"A": 100}},
        capacity={n.id: DailyCapacity(None, None) for n in (STORE, CENTRE)},
        arrivals=(shipped("home", timedelta(hours=8)), pickup("collect", timedelta(hours=13))),
        history=past if history else (),
    )


def shipped_from(run: Run) -> dict[str, list[str]]:
    return {o.arrival.order.id: [s.node_id for s in o.plan.shipments] for o in run.outcomes}


def test_a_past_pickup_is_demand_at_its_store_worth_the_transfer_it_would_need() -> None:
    found = past_demand(world())
    assert len(found) == 6
    assert {(d.node_id, d.sku, d.units) for d in found} == {(STORE.id, "A", 1)}
    assert sorted({d.age_days for d in found}) == [1, 2, 3]
    # Without the store's unit, the centre transfers it across the country.
    assert all(d.extra_cost > 10 for d in found)


def test_the_horizon_is_the_rest_of_the_day_by_when_past_orders_came() -> None:
    protection = protection_for(world())
    assert protection is not None
    assert protection.horizon(START + timedelta(hours=8)) == pytest.approx(1.0)
    assert protection.horizon(START + timedelta(hours=13)) == pytest.approx(0.5)
    assert protection.horizon(START + timedelta(hours=20)) == pytest.approx(0.0)
    assert protection_for(world(history=False)) is None


def test_protection_keeps_the_stores_last_unit_for_its_pickup_customer() -> None:
    myopic = replay(world(), myopic_policy())
    protected = replay(world(), profile_policy(protecting(LOWEST_COST)))
    assert shipped_from(myopic) == {"home": [STORE.id], "collect": [CENTRE.id]}
    assert shipped_from(protected) == {"home": [CENTRE.id], "collect": [STORE.id]}
    assert myopic.violations == protected.violations == 0
    money = [sum(o.plan.costs.money for o in run.outcomes) for run in (myopic, protected)]
    assert money[1] < money[0] - 5


def test_without_history_a_protecting_profile_routes_like_its_base() -> None:
    protected = replay(world(history=False), profile_policy(protecting(LOWEST_COST)))
    assert shipped_from(protected) == {"home": [STORE.id], "collect": [CENTRE.id]}


def test_protect_names_a_shipped_profile_weighing_protection_and_keeps_a_weight_it_has() -> None:
    profile = profile_named("lowest-cost+protect")
    assert profile.name == "lowest-cost+protect"
    assert profile.weights.inventory_protection == 1.0
    assert profile.weights.shipping_cost == LOWEST_COST.weights.shipping_cost
    assert profile_named("free-shipping+protect").weights == FREE_SHIPPING.weights
    assert profile_policy(profile).protects and profile_policy(FREE_SHIPPING).protects
    assert not profile_policy(LOWEST_COST).protects
    assert "future value" in profile_policy(profile).description
