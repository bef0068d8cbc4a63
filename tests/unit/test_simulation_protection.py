"""Inventory protection in the simulator: past orders become demand at the node that would serve
them, and a protecting policy keeps a store's last unit for the pickup customer the forecast
expects, where the myopic policy ships it to someone a far centre serves nearly as cheaply."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from dom.adapters.highs import prices_with_highs
from dom.domain.network import NodeType
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.forecast import LOST_SALE
from dom.domain.sourcing.model import Order, OrderLine
from dom.domain.sourcing.profiles import FREE_SHIPPING, LOWEST_COST
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.wave import Ledger
from dom.simulation.generator import PICKUP, pickup_service
from dom.simulation.model import Arrival, DailyCapacity, Scenario
from dom.simulation.policies import profile_named, protecting
from dom.simulation.protection import (
    past_demand,
    past_demand_against,
    protection_for,
    rolling_protection_for,
    sampled_orders,
    stock_prices_for,
)
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


def test_past_pickups_against_a_store_sold_out_are_demand_at_the_centre_transferring() -> None:
    day = world()
    sold_out = [
        replace(offer, available={"A": 0}) if offer.node.id == STORE.id else offer
        for offer in day.day_offers({})
    ]
    found = past_demand_against(day, sold_out)
    assert len(found) == 6
    assert {(d.node_id, d.sku, d.units) for d in found} == {(CENTRE.id, "A", 1)}
    # Nobody else holds A: without the centre's units the pickup is a lost sale, not a transfer.
    assert all(10 < LOST_SALE - d.extra_cost < LOST_SALE for d in found)


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


def test_a_past_pickup_is_sampled_with_its_store_free_and_the_centre_charging_a_transfer() -> None:
    scenario = world()
    found = sampled_orders(scenario, scenario.day_offers({}))
    assert len(found) == 6
    assert sorted({o.day for o in found}) == [-3, -2, -1]
    assert {o.seconds for o in found} == {12 * 3600.0, 15 * 3600.0}
    costs = {r.node_id: r.per_shipment + r.per_line[0] for r in found[0].routes}
    assert costs[CENTRE.id] > costs[STORE.id] + 10


def test_stock_prices_value_the_stores_last_unit_until_the_days_pickups_are_past() -> None:
    prices = stock_prices_for(world(), prices_with_highs)
    assert prices is not None
    offers = world().day_offers({})
    morning = prices.prices(offers, START + timedelta(hours=8))
    assert morning[(STORE.id, "A")] > 10  # every past afternoon wanted it
    assert (CENTRE.id, "A") not in morning  # a hundred units outlast any day
    prices.resolve(START + timedelta(hours=16))
    assert prices.values == {}  # no pickup ever came this late


def test_rolling_protection_keeps_the_stores_last_unit_for_its_pickup_customer() -> None:
    day = world()
    protection = rolling_protection_for(day, prices_with_highs)
    assert protection is not None
    profile = protecting(LOWEST_COST)
    ledger, book, dates = Ledger(day.day_offers({})), RateBook(), DateBook()
    shipped = {}
    for arrival in day.arrivals:
        valued = protection.offers(ledger.offers_for(arrival.order), arrival.arrives_at)
        plan = route(
            arrival.order, valued, day.products, day.services, profile, day.start, book, dates
        )
        ledger.take(plan)
        shipped[arrival.order.id] = [s.node_id for s in plan.shipments]
    assert shipped == {"home": [CENTRE.id], "collect": [STORE.id]}
    assert rolling_protection_for(world(history=False), prices_with_highs) is None


def test_stock_prices_told_of_a_plan_count_its_units_gone_before_anyone_asks() -> None:
    day = world()
    prices = stock_prices_for(day, prices_with_highs)
    assert prices is not None
    ledger, book, dates = Ledger(day.day_offers({})), RateBook(), DateBook()
    home = day.arrivals[0].order
    offers = ledger.offers_for(home)
    plan = route(home, offers, day.products, day.services, LOWEST_COST, START, book, dates)
    assert [s.node_id for s in plan.shipments] == [STORE.id]
    prices.took(plan)
    assert prices.stock[(STORE.id, "A")] == 0
    assert prices.stock[(CENTRE.id, "A")] == 100
