"""Demand forecasts per node and SKU, and what a unit kept at a node is worth (issue #4).

Routing by immediate cost alone strips a store of the units its local customers will want later
today; Acimovic & Graves (REFERENCE §2) captured about a third of the gap to hindsight by adding
an estimate of that future cost to each decision. This module makes the estimate; the engine
already prices it (`Offer.future_value` × `Weights.inventory_protection`).

1. **Attribution** (the caller's, who knows the network and the rates — the simulator uses the
   engine): each past order line is `Demand` at the node that would naturally serve it, the one
   the order's cheapest plan ships it from against today's stock (for a pickup, the store), with
   the extra cost per unit of that order without the node's units of it: the runner-up's price,
   a split shipment, or a lost sale.
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
   demand is expected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dom.domain.sourcing.model import Offer


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
    return [
        replace(
            offer,
            future_value={
                sku: value
                for sku, units in offer.available.items()
                if (value := forecast.unit_value(offer.node.id, sku, units, horizon_days)) > 0
            },
        )
        for offer in offers
    ]
