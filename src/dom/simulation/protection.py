"""Inventory protection in the simulator: a demand forecast learned from the scenario's
`history`, and each order's offers priced with the future value of their units as stock moves.

A profile with `weights.inventory_protection` above zero protects (`free-shipping` does;
`lowest-cost+protect` is `lowest-cost` with weight 1). The forecast is
`domain.sourcing.forecast`; here the past lines are attributed to nodes by the engine's own
costing — each line's SKU, one unit, to its destination at its service level, against the stock
the scenario starts with (promise dates left out: they were for days gone by) — and the horizon
is what is left of the stream: the rest of today, by the time-of-day shape of past arrivals, and
each later day of the stream in full (nothing is replenished during a replay).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from dom.domain.sourcing.engine import route
from dom.domain.sourcing.forecast import Demand, Forecast, Settings, estimate
from dom.domain.sourcing.forecast import future_values as priced
from dom.domain.sourcing.model import Offer, Order, OrderLine
from dom.domain.sourcing.profiles import LOWEST_COST
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.wave import Ledger
from dom.simulation.model import DAY, Scenario

#: Extra cost per unit when no other node could have served a past line: a lost sale.
LOST_SALE = 30.0


@dataclass(frozen=True)
class Protection:
    """What a unit is worth where it is, at any moment of a scenario's stream."""

    forecast: Forecast
    start: datetime
    last_day: int  # the day of the stream's last order
    times_of_day: Sequence[float]  # seconds into their day of past arrivals, sorted
    horizon_scale: float = 1.0

    def horizon(self, moment: datetime) -> float:
        """Days of demand still to come in the stream: the rest of today's, then whole days."""
        day = (moment - self.start) // DAY
        later = max(0, self.last_day - day)
        today = 1.0
        if self.times_of_day:
            since = ((moment - self.start) % DAY).total_seconds()
            passed = bisect.bisect_right(self.times_of_day, since)
            today = 1.0 - passed / len(self.times_of_day)
        return self.horizon_scale * (today + later)

    def offers(self, offers: Sequence[Offer], moment: datetime) -> list[Offer]:
        """The offers with each unit's future value, from the stock each offers now."""
        return priced(self.forecast, offers, self.horizon(moment))


def protection_for(
    scenario: Scenario, settings: Settings | None = None, horizon_scale: float = 1.0
) -> Protection | None:
    """The scenario's protection, learned from its history; None without history."""
    if not scenario.history:
        return None
    first = scenario.day_of(scenario.history[0].arrives_at)
    days = -first  # the history's days, the first of them `days` before the start
    demand = past_demand(scenario)
    forecast = estimate(demand, days, settings)
    seconds = sorted(((a.arrives_at - scenario.start) % DAY).total_seconds() for a in scenario.history)
    last = scenario.day_of(scenario.arrivals[-1].arrives_at) if scenario.arrivals else 0
    return Protection(forecast, scenario.start, last, seconds, horizon_scale)


def past_demand(scenario: Scenario) -> list[Demand]:
    """Every line of the history as demand at the node the engine would serve it from, with
    what the order would have cost more without that node's units of the line."""
    ledger = Ledger(scenario.day_offers({}))
    book, calendar = RateBook(), DateBook()
    found = []
    for arrival in scenario.history:
        age = -scenario.day_of(arrival.arrives_at)
        order = replace(arrival.order, promise_by=None)
        offers = ledger.offers_for(order)

        def cost(offers: Sequence[Offer], order: Order = order) -> tuple[int, float]:
            plan = route(
                order, offers, scenario.products, scenario.services, LOWEST_COST,
                scenario.start, book, calendar,
            )  # fmt: skip
            return sum(u.quantity for u in plan.unfilled), plan.costs.objective

        plan = route(
            order, offers, scenario.products, scenario.services, LOWEST_COST, scenario.start,
            book, calendar,
        )  # fmt: skip
        base = plan.costs.objective, sum(u.quantity for u in plan.unfilled)
        for shipment in plan.shipments:
            for line in shipment.lines:
                without = [
                    replace(o, available={**o.available, line.sku: 0})
                    if o.node.id == shipment.node_id
                    else o
                    for o in offers
                ]
                short, value = cost(without)
                extra = value - base[0] + LOST_SALE * (short - base[1])
                found.append(
                    Demand(shipment.node_id, line.sku, age, line.quantity, extra / line.quantity)
                )
    return found
