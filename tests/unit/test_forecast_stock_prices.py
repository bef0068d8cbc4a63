"""Future values as stock prices in LPs of sampled demand: a unit is worth what the demand still
to come would lose without it — nothing where stock outlasts demand, the runner-up's extra cost
where it does not, averaged over the past days sampled; and a node holding a whole multi-line
order is worth the split the order would need without it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dom.adapters.highs import prices_with_highs
from dom.domain.network import NodeType
from dom.domain.sourcing.future_value import (
    Route,
    SampledOrder,
    averaged,
    demand_program,
    still_to_come,
    stock_values,
)
from dom.domain.sourcing.model import Offer
from tests.support.sourcing import node

LOST_SALE = 30.0
#: A store collecting for free, a centre charging a transfer of $12 a line.
STORE = Route("store", 0.0, {0: 0.0})
CENTRE = Route("centre", 0.0, {0: 12.0})


def pickup(day: int, seconds: float = 50_000.0, sku: str = "A") -> SampledOrder:
    return SampledOrder(day, seconds, ((sku, 1),), (STORE, CENTRE))


def test_a_unit_is_worth_the_runner_up_where_every_day_wants_it() -> None:
    orders = [pickup(-1), pickup(-2)]
    stock = {("store", "A"): 1, ("centre", "A"): 50}
    values = stock_values(orders, stock, prices_with_highs, LOST_SALE, days=2)
    assert values[("store", "A")] == pytest.approx(12.0)
    assert ("centre", "A") not in values  # the centre's stock outlasts every day's demand


def test_a_unit_is_worth_the_share_of_days_that_would_miss_it() -> None:
    # Two units at the store; of five past days one wanted two, two wanted one, two none.
    orders = [pickup(-1), pickup(-1), pickup(-2), pickup(-3)]
    stock = {("store", "A"): 2, ("centre", "A"): 50}
    values = stock_values(orders, stock, prices_with_highs, LOST_SALE, days=5)
    assert values[("store", "A")] == pytest.approx(12.0 / 5)


def test_a_unit_nobody_else_holds_is_worth_a_lost_sale() -> None:
    orders = [SampledOrder(-1, 50_000.0, (("A", 2),), (STORE,))]
    values = stock_values(orders, {("store", "A"): 2}, prices_with_highs, LOST_SALE, days=1)
    assert values[("store", "A")] == pytest.approx(LOST_SALE)


def test_the_only_node_holding_a_whole_order_is_worth_the_split_it_saves() -> None:
    # Either node ships each line for $5 a line and $10 a shipment; only "both" holds A and B.
    both = Route("both", 10.0, {0: 5.0, 1: 5.0})
    only_a = Route("only-a", 10.0, {0: 5.0})
    only_b = Route("only-b", 10.0, {1: 5.0})
    order = SampledOrder(-1, 50_000.0, (("A", 1), ("B", 1)), (both, only_a, only_b))
    stock = {("both", "A"): 1, ("both", "B"): 1, ("only-a", "A"): 9, ("only-b", "B"): 9}
    values = stock_values([order], stock, prices_with_highs, LOST_SALE, days=1)
    # Without either of its units the order pays a second shipment: $10 between them.
    assert values.get(("both", "A"), 0.0) + values.get(("both", "B"), 0.0) == pytest.approx(10.0)


def test_only_orders_later_in_their_day_are_still_to_come() -> None:
    orders = [pickup(-1, 3_600.0), pickup(-1, 40_000.0), pickup(-2, 80_000.0)]
    assert [o.seconds for o in still_to_come(orders, 36_000.0)] == [40_000.0, 80_000.0]


def test_stock_that_outlasts_the_demand_gets_no_row() -> None:
    program, rows = demand_program([pickup(-1)], {("store", "A"): 3, ("centre", "A"): 0}, 30)
    assert set(rows) == {("centre", "A")}
    assert program.row_names[rows[("centre", "A")]] == "stock of A at centre"


def test_a_units_value_is_the_mean_of_the_forecasts_value_and_its_stock_price() -> None:
    offer = Offer(node("store", 0, NodeType.STORE), {"A": 2, "B": 1, "C": 0}, None, None)
    offer = replace(offer, future_value={"A": 4.0, "C": 9.0})
    prices = {("store", "A"): 10.0, ("store", "B"): 6.0, ("store", "C"): 5.0}
    [valued] = averaged([offer], prices)
    # C has no units left to take: nothing to value.
    assert valued.future_value == pytest.approx({"A": 7.0, "B": 3.0})
