"""Inventory protection in the simulator: a demand forecast learned from the scenario's
`history`, and each order's offers priced with the future value of their units as stock moves.

A profile with `weights.inventory_protection` above zero protects (`free-shipping` does;
`lowest-cost+protect` is `lowest-cost` with weight 1). The forecast is
`domain.sourcing.forecast`; here the past orders are attributed to nodes by the engine's own
costing: each past order is planned under `lowest-cost` against the stock the scenario starts
with (promise dates left out: they were for days gone by), each line it ships counts as demand
at the node shipping it, and its extra cost per unit is what that order's best plan would cost
more without the node's units of the line — another node's freight, a split shipment, or
`LOST_SALE` per unit nobody else could fill.

The horizon is what is left of the stream: the rest of today, by the time-of-day shape of past
arrivals, and each later day of the stream in full (nothing is replenished during a replay).

`RollingProtection` (the online benchmark's policy) values a unit at the mean of that and its
stock price (`domain.sourcing.future_value`): the history's orders sampled once, each with the
nodes the engine would ship it from and their costs against the starting stock
(`sampled_orders`); the prices solved again every `RESOLVE_EVERY` orders from the stock left
(told of each plan) and the past orders later in their day than now (`StockPrices`).
`dom simulate` (the replay, `protection_for`) still uses the forecast's value alone: its
streams may span days, and the prices sample the rest of today only.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from dom.domain.sourcing import search
from dom.domain.sourcing.engine import (
    EXACT_LINES,
    Candidates,
    NodeModel,
    candidates,
    route,
    shipment_choice,
)
from dom.domain.sourcing.forecast import (
    LOST_SALE,
    Demand,
    Forecast,
    Settings,
    estimate,
    future_values,
)
from dom.domain.sourcing.future_value import (
    Cell,
    Route,
    SampledOrder,
    averaged,
    still_to_come,
    stock_values,
)
from dom.domain.sourcing.model import Offer, Order, Plan
from dom.domain.sourcing.profiles import LOWEST_COST
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.solver import Relaxer
from dom.domain.sourcing.wave import Ledger
from dom.simulation.model import DAY, Scenario


@dataclass(frozen=True)
class Protection:
    """What a unit is worth where it is, at any moment of a scenario's stream."""

    forecast: Forecast
    start: datetime
    last_day: int  # the scenario day of the stream's last order
    times_of_day: Sequence[float]  # seconds into their day of past arrivals, sorted

    def horizon(self, moment: datetime) -> float:
        """Days of demand still to come in the stream: the rest of today's, then whole days."""
        day = (moment - self.start) // DAY
        today = 1.0
        if self.times_of_day:
            since = seconds_into_day(moment, self.start)
            passed = bisect.bisect_right(self.times_of_day, since)
            today = 1.0 - passed / len(self.times_of_day)
        return today + max(0, self.last_day - day)

    def offers(self, offers: Sequence[Offer], moment: datetime) -> list[Offer]:
        """The offers with each unit's future value, from the stock each offers now."""
        return future_values(self.forecast, offers, self.horizon(moment))


def seconds_into_day(moment: datetime, start: datetime) -> float:
    """How far into its scenario day a moment falls, in seconds."""
    return ((moment - start) % DAY).total_seconds()


def protection_for(scenario: Scenario, settings: Settings | None = None) -> Protection | None:
    """The scenario's protection, learned from its history; None without history."""
    if not scenario.history:
        return None
    days = -scenario.day_of(scenario.history[0].arrives_at)
    forecast = estimate(past_demand(scenario), days, settings)
    seconds = sorted(seconds_into_day(a.arrives_at, scenario.start) for a in scenario.history)
    last = scenario.day_of(scenario.arrivals[-1].arrives_at) if scenario.arrivals else 0
    return Protection(forecast, scenario.start, last, seconds)


def past_demand(scenario: Scenario) -> list[Demand]:
    """Every line the history's orders would ship, as demand at the node shipping it, with
    what the order would cost more without that node's units of the line."""
    return past_demand_against(scenario, scenario.day_offers({}))


def past_demand_against(scenario: Scenario, stock: Sequence[Offer]) -> list[Demand]:
    """`past_demand`, each past order planned against the stock `stock` offers (each order
    alone, none taking from the next)."""
    ledger = Ledger(stock)
    book, calendar = RateBook(), DateBook()
    found = []
    for arrival in scenario.history:
        age = -scenario.day_of(arrival.arrives_at)
        order = replace(arrival.order, promise_by=None)
        offers = ledger.offers_for(order)
        plan = _plan(scenario, order, offers, book, calendar)
        cost = plan.costs.objective + LOST_SALE * sum(u.quantity for u in plan.unfilled)
        for shipment in plan.shipments:
            for line in shipment.lines:
                without = [
                    replace(o, available={**o.available, line.sku: 0})
                    if o.node.id == shipment.node_id
                    else o
                    for o in offers
                ]
                extra = max(0.0, _cost(scenario, order, without, book, calendar) - cost)
                found.append(
                    Demand(shipment.node_id, line.sku, age, line.quantity, extra / line.quantity)
                )
    return found


def _plan(
    scenario: Scenario, order: Order, offers: Sequence[Offer], book: RateBook, calendar: DateBook
) -> Plan:
    return route(
        order, offers, scenario.products, scenario.services, LOWEST_COST, scenario.start,
        book, calendar,
    )  # fmt: skip


def _cost(
    scenario: Scenario, order: Order, offers: Sequence[Offer], book: RateBook, calendar: DateBook
) -> float:
    """The order's lowest cost from these offers, `LOST_SALE` a unit left unfilled: the
    engine's own search, without the explanation attribution has no use for."""
    found = candidates(
        order, offers, scenario.products, scenario.services, LOWEST_COST, scenario.start, calendar
    )
    lost = LOST_SALE * sum(u.quantity for u in found.unfilled)
    if not found.work:
        return lost
    best = math.inf
    if len(found.work) <= EXACT_LINES:
        table = search.ShipmentTable.build(
            found.kept, found.work, scenario.products, LOWEST_COST, book, order
        )
        best = search.best_partition(table, found.limit).by_level.get(len(found.work), math.inf)
    if math.isinf(best):  # too many lines to search exactly, or not every line can go
        plan = _plan(scenario, order, offers, book, calendar)
        return plan.costs.objective + LOST_SALE * sum(u.quantity for u in plan.unfilled)
    return best + lost


# ---- stock prices from a rolling LP over sampled demand ---------------------------------------

#: Orders routed between two solves of the stock prices.
RESOLVE_EVERY = 10


@dataclass
class StockPrices:
    """Each (node, SKU)'s stock price in LPs of the rest of today sampled from past days
    (`domain.sourcing.future_value`), solved again every `every` orders against the stock as
    last seen: in the offers, and in the plans it is told of (`took`); a unit taken that it is
    not told of is seen gone at the next order for its SKU."""

    orders: Sequence[SampledOrder]
    days: int  # of history the orders were sampled from
    start: datetime
    relax: Relaxer
    stock: dict[Cell, int]
    every: int = RESOLVE_EVERY
    values: dict[Cell, float] = field(default_factory=dict)
    asked: int = 0
    solves: int = 0
    seconds: float = 0.0  # spent solving, in all

    def prices(self, offers: Sequence[Offer], moment: datetime) -> dict[Cell, float]:
        """The latest prices, solved again first when `every` orders have asked since."""
        for offer in offers:
            for sku, units in offer.available.items():
                self.stock[(offer.node.id, sku)] = units
        if self.asked % self.every == 0:
            self.resolve(moment)
        self.asked += 1
        return self.values

    def took(self, plan: Plan) -> None:
        """The plan's units are gone from their nodes."""
        for shipment in plan.shipments:
            for line in shipment.lines:
                cell = (shipment.node_id, line.sku)
                self.stock[cell] = self.stock.get(cell, 0) - line.quantity

    def resolve(self, moment: datetime) -> None:
        """Prices again, from the stock as last seen and the demand still to come today."""
        began = time.perf_counter()
        since = seconds_into_day(moment, self.start)
        coming = still_to_come(self.orders, since)
        self.values = stock_values(coming, self.stock, self.relax, LOST_SALE, self.days)
        self.solves += 1
        self.seconds += time.perf_counter() - began


@dataclass(frozen=True)
class RollingProtection:
    """Each unit's future value as the mean of the forecast's (`Protection`) and its stock
    price (`StockPrices`): see `domain.sourcing.future_value`. Its horizon is the rest of
    today: a stream of several days would need each later day sampled too."""

    forecast: Protection
    stock_prices: StockPrices

    def offers(self, offers: Sequence[Offer], moment: datetime) -> list[Offer]:
        """The offers with each unit's future value, from the stock each offers now."""
        prices = self.stock_prices.prices(offers, moment)
        return averaged(self.forecast.offers(offers, moment), prices)

    def took(self, plan: Plan) -> None:
        """The plan's units are gone: the next prices know it before an order asks for them."""
        self.stock_prices.took(plan)


def rolling_protection_for(scenario: Scenario, relax: Relaxer) -> RollingProtection | None:
    """The scenario's rolling protection, from its history; None without history."""
    forecast = protection_for(scenario)
    prices = stock_prices_for(scenario, relax)
    if forecast is None or prices is None:
        return None
    return RollingProtection(forecast, prices)


def stock_prices_for(scenario: Scenario, relax: Relaxer) -> StockPrices | None:
    """The scenario's stock prices, from its history; None without history."""
    if not scenario.history:
        return None
    offers = scenario.day_offers({})
    stock = {
        (offer.node.id, sku): units for offer in offers for sku, units in offer.available.items()
    }
    days = -scenario.day_of(scenario.history[0].arrives_at)
    return StockPrices(sampled_orders(scenario, offers), days, scenario.start, relax, stock)


def sampled_orders(scenario: Scenario, offers: Sequence[Offer]) -> list[SampledOrder]:
    """The history's orders as demand that may come again, each with the nodes that could ship
    it from the stock the scenario starts with (`offers`), costed by the engine under
    `lowest-cost`."""
    book, calendar = RateBook(), DateBook()
    found = []
    for arrival in scenario.history:
        order = replace(arrival.order, promise_by=None)
        ready = candidates(
            order, offers, scenario.products, scenario.services, LOWEST_COST, scenario.start,
            calendar,
        )  # fmt: skip
        if ready.rejected or not ready.work:
            continue
        routes = tuple(
            route
            for model in ready.kept
            if (route := _route(ready, model, scenario, book)) is not None
        )
        found.append(
            SampledOrder(
                scenario.day_of(arrival.arrives_at),
                seconds_into_day(arrival.arrives_at, scenario.start),
                tuple((work.sku, work.quantity) for work in ready.work),
                routes,
            )
        )
    return found


def _route(ready: Candidates, model: NodeModel, scenario: Scenario, book: RateBook) -> Route | None:
    """The node's cost per shipment and per line for the order: exact for each line alone and
    for all the lines it holds together, on the line between them (freight is not linear)."""
    lines = [i for i in range(len(ready.work)) if model.holds >> i & 1]
    if not lines:
        return None

    def cost(chosen: list[int]) -> float | None:
        choice = shipment_choice(
            model, chosen, ready.work, scenario.products, LOWEST_COST, book, ready.order
        )
        return None if choice is None else choice.objective

    alone = {i: c for i in lines if (c := cost([i])) is not None}
    if not alone:
        return None
    whole = cost(sorted(alone)) if len(alone) > 1 else None
    if whole is None:
        return Route(model.id, 0.0, alone)
    fixed = max(0.0, (sum(alone.values()) - whole) / (len(alone) - 1))
    return Route(model.id, fixed, {i: c - fixed for i, c in alone.items()})
