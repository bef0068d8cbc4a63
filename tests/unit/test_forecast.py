"""Demand forecasts per node and SKU: rates from known histories, shrinkage for sparse cells,
and a unit's future value — falling as stock rises, rising with demand, zero without it."""

from __future__ import annotations

import itertools
import math

import pytest

from dom.domain.network import NodeType
from dom.domain.sourcing.forecast import (
    Demand,
    Settings,
    chance_at_least,
    estimate,
    future_values,
)
from dom.domain.sourcing.model import Offer
from tests.support.sourcing import node

#: Every day weighs the same and nothing is shrunk: the plain mean over the days.
PLAIN = Settings(half_life_days=1e9, prior_days=0.0, prior_units=0.0)


def demand(node_id: str, sku: str, age: int, units: int = 1, extra: float = 10.0) -> Demand:
    return Demand(node_id, sku, age, units, extra)


def test_the_rate_is_the_mean_units_per_day_over_the_history() -> None:
    history = [demand("store", "A", 1, 3), demand("store", "A", 2, 1), demand("store", "A", 2, 2)]
    assert estimate(history, 2, PLAIN).rate("store", "A") == pytest.approx(3.0)
    # Four days, demand on two of them: the quiet days count.
    assert estimate(history, 4, PLAIN).rate("store", "A") == pytest.approx(1.5)


def test_recent_days_weigh_more_by_the_half_life() -> None:
    history = [demand("store", "A", 1, 3), demand("store", "A", 2, 1)]
    settings = Settings(half_life_days=1.0, prior_days=0.0)
    # Yesterday weighs 1, the day before 1/2: (3 + 0.5) / 1.5.
    assert estimate(history, 2, settings).rate("store", "A") == pytest.approx(3.5 / 1.5)


def test_one_bulk_line_counts_as_its_cap() -> None:
    history = [demand("store", "A", 1, 50)]
    assert estimate(history, 1, Settings(prior_days=0.0, line_cap=3)).rate(
        "store", "A"
    ) == pytest.approx(3.0)


def test_a_sparse_cell_is_shrunk_toward_the_skus_network_rate_times_the_nodes_share() -> None:
    # Over 2 days: A sells 4 at the DC; the store sells 4 of B and none of A.
    history = [demand("dc", "A", 1, 2), demand("dc", "A", 2, 2)]
    history += [demand("store", "B", 1, 2), demand("store", "B", 2, 2)]
    settings = Settings(half_life_days=1e9, prior_days=2.0, line_cap=5)
    forecast = estimate(history, 2, settings)
    prior = 2.0 * 0.5  # A's network rate × the store's share of all demand
    assert forecast.rate("store", "A") == pytest.approx((0 + 2.0 * prior) / (2 + 2.0))
    # A busy cell leans on its own history: (4 + 2 × 2 × 0.5) / 4.
    assert forecast.rate("dc", "A") == pytest.approx(1.5)


def test_nothing_is_forecast_for_a_sku_nobody_ordered_or_a_node_no_demand_came_to() -> None:
    forecast = estimate([demand("store", "A", 1, 2)], 3)
    assert forecast.rate("store", "Z") == 0.0
    assert forecast.rate("elsewhere", "A") == 0.0
    assert forecast.unit_value("store", "Z", 1, 1.0) == 0.0
    assert forecast.unit_value("elsewhere", "A", 1, 1.0) == 0.0


def test_the_extra_cost_is_the_cells_mean_shrunk_toward_the_nodes() -> None:
    history = [demand("store", "A", 1, 1, extra=10.0), demand("store", "A", 1, 1, extra=20.0)]
    history += [demand("store", "B", 1, 2, extra=40.0)]
    forecast = estimate(history, 1, Settings(prior_units=0.0))
    assert forecast.extra_cost("store", "A") == pytest.approx(15.0)
    assert forecast.extra_cost("store", "C") == pytest.approx((10 + 20 + 80) / 4)  # the node's
    shrunk = estimate(history, 1, Settings(prior_units=2.0))
    assert shrunk.extra_cost("store", "A") == pytest.approx((30 + 2 * 27.5) / 4)


def test_a_unit_is_worth_the_chance_local_demand_reaches_it_times_the_extra_cost() -> None:
    forecast = estimate([demand("store", "A", 1, 2, extra=12.0)], 1, PLAIN)
    # Rate 2 a day, half a day to go: N ~ Poisson(1); the only unit is needed if N ≥ 1.
    assert forecast.unit_value("store", "A", 1, 0.5) == pytest.approx((1 - math.exp(-1.0)) * 12.0)


def test_the_value_falls_as_stock_rises() -> None:
    forecast = estimate([demand("store", "A", age, 2) for age in (1, 2, 3)], 3)
    values = [forecast.unit_value("store", "A", units, 1.0) for units in (1, 2, 3, 5, 10, 40)]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert values[-1] < 1e-9
    assert forecast.unit_value("store", "A", 0, 1.0) == 0.0  # nothing to take


def test_the_value_rises_with_demand_and_with_the_horizon() -> None:
    quiet = estimate([demand("store", "A", 1, 1)], 2)
    busy = estimate([demand("store", "A", 1, 3), demand("store", "A", 2, 3)], 2)
    assert busy.unit_value("store", "A", 2, 1.0) > quiet.unit_value("store", "A", 2, 1.0)
    assert busy.unit_value("store", "A", 2, 0.2) < busy.unit_value("store", "A", 2, 1.0)
    assert busy.unit_value("store", "A", 2, 0.0) == 0.0  # the day is over


@pytest.mark.parametrize(("k", "mean"), [(1, 0.5), (3, 0.5), (5, 4.0), (2, 10.0), (30, 10.0)])
def test_the_poisson_tail_matches_the_sum_of_the_terms(k: int, mean: float) -> None:
    below = sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(k))
    assert chance_at_least(k, mean) == pytest.approx(1 - below, rel=1e-6, abs=1e-12)


def test_the_poisson_tail_stays_sound_for_large_means() -> None:
    assert chance_at_least(900, 1000.0) == pytest.approx(0.99938, abs=1e-4)
    assert chance_at_least(1000, 900.0) == pytest.approx(0.00055, abs=1e-4)
    assert chance_at_least(0, 3.0) == 1.0 and chance_at_least(2, 0.0) == 0.0


def test_offers_get_a_value_for_each_sku_they_hold_from_the_stock_they_offer_now() -> None:
    store, centre = node("store", 0, NodeType.STORE), node("dc", 1)
    forecast = estimate([demand("store", "A", 1, 2), demand("dc", "A", 1, 2)], 1)
    offers = [Offer(store, {"A": 1, "B": 3}), Offer(centre, {"A": 500})]
    valued = future_values(forecast, offers, 1.0)
    assert valued[0].available == {"A": 1, "B": 3}
    assert set(valued[0].future_value) == {"A"}  # nobody orders B
    assert valued[0].future_value["A"] == pytest.approx(forecast.unit_value("store", "A", 1, 1.0))
    assert valued[1].future_value == {}  # 500 units outlast any day's demand


def test_history_outside_its_days_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        estimate([demand("store", "A", 3)], 2)
    with pytest.raises(ValueError, match="at least one day"):
        estimate([], 0)
