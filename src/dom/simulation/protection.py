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
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from dom.domain.sourcing import search
from dom.domain.sourcing.engine import EXACT_LINES, candidates, route
from dom.domain.sourcing.forecast import (
    LOST_SALE,
    Demand,
    Forecast,
    Settings,
    estimate,
    future_values,
)
from dom.domain.sourcing.model import Offer, Order, Plan
from dom.domain.sourcing.profiles import LOWEST_COST
from dom.domain.sourcing.rates import DateBook, RateBook
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
            since = ((moment - self.start) % DAY).total_seconds()
            passed = bisect.bisect_right(self.times_of_day, since)
            today = 1.0 - passed / len(self.times_of_day)
        return today + max(0, self.last_day - day)

    def offers(self, offers: Sequence[Offer], moment: datetime) -> list[Offer]:
        """The offers with each unit's future value, from the stock each offers now."""
        return future_values(self.forecast, offers, self.horizon(moment))


def protection_for(scenario: Scenario, settings: Settings | None = None) -> Protection | None:
    """The scenario's protection, learned from its history; None without history."""
    if not scenario.history:
        return None
    days = -scenario.day_of(scenario.history[0].arrives_at)
    forecast = estimate(past_demand(scenario), days, settings)
    seconds = sorted(
        ((a.arrives_at - scenario.start) % DAY).total_seconds() for a in scenario.history
    )
    last = scenario.day_of(scenario.arrivals[-1].arrives_at) if scenario.arrivals else 0
    return Protection(forecast, scenario.start, last, seconds)


def past_demand(scenario: Scenario) -> list[Demand]:
    """Every line the history's orders would ship, as demand at the node shipping it, with
    what the order would cost more without that node's units of the line."""
    ledger = Ledger(scenario.day_offers({}))
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
