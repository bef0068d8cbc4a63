"""Demand forecasts per node and SKU, and what a unit kept at a node is worth (issue #4).

Routing by immediate cost alone strips a store of the units its local customers will want later
today; Acimovic & Graves (REFERENCE §2) captured about a third of the gap to hindsight by adding
an estimate of that future cost to each decision. This module makes the estimate; the engine
already prices it (`Offer.future_value` × `Weights.inventory_protection`).

1. **Attribution** (the caller's, who knows the network and the rates — the simulator uses the
   engine): each past order line is `Demand` at the node that would naturally serve it, the one
   the order's cheapest plan ships it from against today's stock (for a pickup, the store), with
   the extra cost per unit of that order without the node's units of it: the runner-up's price,
   a split shipment, or a lost sale. In production (`served_by`, `attributed`) the history is
   what dom did: each line at the node that served it — a collected line at its store, worth
   `LOST_SALE` a unit; a shipped line at its node, worth what the routing decision's cheapest
   alternative without that node cost more (`runner_up`), a lost sale if none could do it.
2. **Rate** (`estimate`): units per day per (node, SKU), a mean over the past days weighted
   exponentially by age (`half_life_days`), each line capped at `line_cap` units so one bulk
   order is not read as steady demand; then shrunk toward a prior — the SKU's network rate ×
   the node's share of all demand — worth `prior_days` days of history (the posterior mean of a
   gamma–Poisson model). Sparse cells lean on the prior, busy ones on their own history; a SKU
   nobody ordered, or a node nobody's demand came to, forecasts zero.
3. **Extra cost**: the weighted mean extra cost per unit of the cell's demand, shrunk likewise
   toward the node's mean (worth `prior_units` units).
4. **Value** (`Forecast.unit_value`): demand over a horizon of h days is Poisson with mean
   rate × h. A node holding k units gives up the k-th when it ships one; that unit would have
   served a local customer if demand over the horizon reaches k. So a unit is worth
   P(N ≥ k) × extra cost: it falls as stock rises, rises with demand, and is zero where no
   demand is expected. Production routing values a unit until the end of its node's next
   local day (`days_left_tomorrow`): the customers of today and tomorrow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dom.domain.orders.lifecycle import DROPPED, Status
from dom.domain.orders.model import Fulfilment
from dom.domain.sourcing.model import Alternative, Offer

#: Extra cost per unit of demand nobody else could serve: a lost sale (the simulator's value).
LOST_SALE = 30.0


@dataclass(frozen=True)
class Demand:
    """A past order line, as demand at the node that would naturally have served it."""

    node_id: str
    sku: str
    age_days: int  # 1: yesterday
    units: int
    extra_cost: float  # per unit: what serving it from the next-best node would have added


@dataclass(frozen=True)
class Settings:
    half_life_days: float = 7.0
    prior_days: float = 2.0  # weight of the prior rate, in days of history
    prior_units: float = 1.0  # weight of the node's mean extra cost, in units
    line_cap: int = 3  # units of one line counted at most


@dataclass(frozen=True)
class Cell:
    weighted_units: float  # Σ weight(age) × units
    weighted_cost: float  # Σ weight(age) × units × extra cost


@dataclass(frozen=True)
class Forecast:
    """Demand per node and SKU: rate in units per day and extra cost per unit."""

    cells: Mapping[tuple[str, str], Cell]
    sku_rate: Mapping[str, float]  # the SKU's network demand, units per day
    node_share: Mapping[str, float]  # the node's share of all demand
    node_cost: Mapping[str, float]  # the node's mean extra cost per unit
    weight: float  # Σ weight(age) over the days of history
    settings: Settings = field(default_factory=Settings)

    def rate(self, node_id: str, sku: str) -> float:
        """Expected units per day of `sku` the node would serve."""
        prior = self.sku_rate.get(sku, 0.0) * self.node_share.get(node_id, 0.0)
        cell = self.cells.get((node_id, sku))
        seen = cell.weighted_units if cell is not None else 0.0
        strength = self.settings.prior_days
        if self.weight + strength <= 0:
            return 0.0
        return (seen + strength * prior) / (self.weight + strength)

    def extra_cost(self, node_id: str, sku: str) -> float:
        """What a unit of the node's demand for `sku` costs more served from elsewhere."""
        mean = self.node_cost.get(node_id, 0.0)
        cell = self.cells.get((node_id, sku))
        if cell is None:
            return mean
        strength = self.settings.prior_units
        return (cell.weighted_cost + strength * mean) / (cell.weighted_units + strength)

    def unit_value(self, node_id: str, sku: str, on_hand: int, horizon_days: float) -> float:
        """Dollars a unit is worth kept at a node with `on_hand` units, over the horizon."""
        if on_hand <= 0 or horizon_days <= 0:
            return 0.0
        expected = self.rate(node_id, sku) * horizon_days
        if expected <= 0:
            return 0.0
        return chance_at_least(on_hand, expected) * self.extra_cost(node_id, sku)


def estimate(history: Iterable[Demand], days: int, settings: Settings | None = None) -> Forecast:
    """The forecast from `days` days of attributed demand (ages 1 to `days`)."""
    settings = settings or Settings()
    if days < 1:
        raise ValueError("a forecast needs at least one day of history")
    units: dict[tuple[str, str], float] = {}
    costs: dict[tuple[str, str], float] = {}
    for demand in history:
        if not 1 <= demand.age_days <= days:
            raise ValueError(f"demand {demand.age_days} days old is outside the {days} days")
        weighted = _weight(demand.age_days, settings) * min(demand.units, settings.line_cap)
        key = (demand.node_id, demand.sku)
        units[key] = units.get(key, 0.0) + weighted
        costs[key] = costs.get(key, 0.0) + weighted * demand.extra_cost
    weight = sum(_weight(age, settings) for age in range(1, days + 1))
    sku_units: dict[str, float] = {}
    node_units: dict[str, float] = {}
    node_costs: dict[str, float] = {}
    for (node, sku), value in units.items():
        sku_units[sku] = sku_units.get(sku, 0.0) + value
        node_units[node] = node_units.get(node, 0.0) + value
        node_costs[node] = node_costs.get(node, 0.0) + costs[(node, sku)]
    total = sum(node_units.values())
    return Forecast(
        cells={key: Cell(units[key], costs[key]) for key in units},
        sku_rate={sku: value / weight for sku, value in sku_units.items()},
        node_share={node: value / total for node, value in node_units.items() if total > 0},
        node_cost={
            node: node_costs[node] / value for node, value in node_units.items() if value > 0
        },
        weight=weight,
        settings=settings,
    )


def _weight(age_days: int, settings: Settings) -> float:
    return math.pow(0.5, (age_days - 1) / settings.half_life_days)


def chance_at_least(k: int, mean: float) -> float:
    """P(N ≥ k) for N Poisson with this mean."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k > mean + 12 * math.sqrt(mean) + 20:
        return 0.0  # below 1e-12
    if k > mean:  # the upper tail, summed upward from k until its terms vanish
        term = math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        above, j = 0.0, k
        while term > 1e-15 * max(above, 1e-300):
            above += term
            j += 1
            term *= mean / j
        return min(1.0, above)
    # the lower part, summed downward from k − 1 (its largest terms) to 0
    term = math.exp((k - 1) * math.log(mean) - mean - math.lgamma(k))
    below = 0.0
    for j in range(k - 1, -1, -1):
        below += term
        term *= j / mean
    return max(0.0, 1.0 - below)


def future_values(forecast: Forecast, offers: Sequence[Offer], horizon_days: float) -> list[Offer]:
    """The offers with each unit's future value at its node, from the stock each offers now."""
    return future_values_at(forecast, offers, {offer.node.id: horizon_days for offer in offers})


# ---- production history ----------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """Units of an order line a node carried, or holds, for its customer."""

    node_id: str
    sku: str
    units: int
    ordered_at: datetime
    #: picked up or brought curbside at the node: the customers protection is for
    at_store: bool
    #: shipped: what the order's best plan without this node cost more, per unit of the
    #: node's shipment (None: no such plan was known)
    runner_up: float | None = None


def served_by(
    request: Fulfilment, ordered_at: datetime, runner_up: float | None = None
) -> list[Served]:
    """What a fulfilment request served, line by line, and where.

    A request that took nothing to the customer (cancelled, expired, rejected: its lines were
    routed again, and the request that took them counts instead) served nothing. A transfer
    serves the pickup store it ships to — the customer collects there — until it arrives,
    when the store's own request takes its lines over and counts instead. Every other request
    serves its lines at its node: collected ones for customers who came to the store, shipped
    ones at `runner_up` (see `runner_up`).
    """
    if request.status in DROPPED:
        return []
    if request.transfer_to is not None:
        if request.status is Status.DELIVERED:
            return []
        node_id, at_store, extra = request.transfer_to, True, None
    else:
        node_id, at_store = request.node_id, request.method.at_store
        extra = None if at_store else runner_up
    return [
        Served(node_id, part.sku, part.quantity, ordered_at, at_store, extra)
        for part in request.parts
    ]


def runner_up(alternatives: Iterable[Alternative], node_id: str, units: int) -> float | None:
    """Per unit of the node's shipment, how much more the order's cheapest alternative not
    using the node cost; None when no listed alternative does without it (an alternative
    that does not name its nodes may use it, so it does not count)."""
    if units <= 0:
        return None
    extra = [a.extra_cost for a in alternatives if a.nodes and node_id not in a.nodes]
    return max(0.0, min(extra)) / units if extra else None


def attributed(
    served: Iterable[Served], now: datetime, days: int, lost_sale: float = LOST_SALE
) -> list[Demand]:
    """Served lines of the last `days` days as demand at the node that served them.

    A line ordered within the last 24 hours is 1 day old, and so on; older ones are left out.
    Its extra cost per unit: a collected line's is `lost_sale` — a customer at the store finds
    nothing to take home; a shipped line's is its `runner_up` price, capped at `lost_sale` (no
    sale costs more than losing it), or `lost_sale` when no other node could have shipped it.
    """
    if days < 1:
        raise ValueError("a forecast needs at least one day of history")
    found = []
    for line in served:
        if line.units <= 0:
            continue
        elapsed = max(timedelta(0), now - line.ordered_at)
        age = 1 + elapsed // timedelta(days=1)
        if age > days:
            continue
        if line.at_store or line.runner_up is None:
            extra = lost_sale
        else:
            extra = min(lost_sale, line.runner_up)
        found.append(Demand(line.node_id, line.sku, age, line.units, extra))
    return found


def days_left_tomorrow(moment: datetime, zone: str) -> float:
    """Days from `moment` to the end of the next local day in `zone`: the horizon a unit is
    kept for — today's remaining customers and tomorrow's, before the next replenishment."""
    where = ZoneInfo(zone)
    local = moment.astimezone(where)
    # Wall-clock arithmetic: midnight two local days on, whatever a DST change does meanwhile.
    end = datetime(local.year, local.month, local.day, tzinfo=where) + timedelta(days=2)
    return (end - moment).total_seconds() / 86400.0


def future_values_at(
    forecast: Forecast, offers: Sequence[Offer], horizons: Mapping[str, float]
) -> list[Offer]:
    """The offers with each unit's future value, over each node's own horizon (by node id)."""
    found = []
    for offer in offers:
        horizon = horizons[offer.node.id]
        values = {
            sku: value
            for sku, units in offer.available.items()
            if (value := forecast.unit_value(offer.node.id, sku, units, horizon)) > 0
        }
        found.append(replace(offer, future_value=values) if values else offer)
    return found
