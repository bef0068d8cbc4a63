"""Tuning the online benchmark's forecast-aware policy (issue #4) on seeds 1-10, never on the
held-out 11-17 that `bench.online` reports.

What does not depend on the policy is computed once per seed and kept in a cache directory:
the scenario, its myopic and hindsight costs (the hindsight wave is the slow part), the forecast
and the sampled past orders. A variant's evaluation then only routes the day order by order
under it and prints each seed's captured share, the mean over the seeds and the decision's
latency. The benchmark itself (`python -m bench --only online`) still computes everything.
The cache knows nothing of the code: delete it after changing the generator, the engine or
the forecast's attribution.

nice -n 19 .venv/bin/python -m bench.online_tuning --variant current --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bench.online import (
    _native_stdout_to_stderr,
    _order_by_order,
    myopic_and_hindsight,
    scenario,
)
from dom.adapters.highs import prices_with_highs
from dom.domain.network import NodeType
from dom.domain.sourcing.forecast import Demand, Settings, estimate
from dom.domain.sourcing.future_value import averaged
from dom.domain.sourcing.model import Offer, Plan
from dom.simulation.model import Scenario
from dom.simulation.protection import (
    Protection,
    RollingProtection,
    StockPrices,
    past_demand,
    past_demand_against,
    protection_for,
    stock_prices_for,
)

TUNING_SEEDS = tuple(range(1, 11))
CACHE = Path("/tmp/dom-online-tuning")


class Policy(Protocol):
    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]: ...
    def took(self, plan: Plan) -> None: ...


@dataclass(frozen=True)
class Fixed:
    """A seed's policy-independent part: the day, what it learned, and the two ends."""

    day: Scenario
    forecast: Protection
    prices: StockPrices  # as at the day's start
    myopic: float
    hindsight: float
    hindsight_gap: float | None


Variant = Callable[[Fixed], Policy]


def current(fixed: Fixed) -> Policy:
    """The benchmark's method: the mean of the forecast's value and the stock price."""
    return RollingProtection(fixed.forecast, fixed.prices)


@dataclass
class Mixed:
    """A unit worth `price_share` of its stock price and the rest of the forecast's value."""

    forecast: Protection
    prices: StockPrices
    price_share: float

    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]:
        prices = self.prices.prices(offers, moment)
        return averaged(self.forecast.offers(offers, moment), prices, self.price_share)

    def took(self, plan: Plan) -> None:
        self.prices.took(plan)


def mixed(price_share: float) -> Variant:
    """The convex mix of the two estimates, at the price's share given."""
    return lambda fixed: Mixed(fixed.forecast, fixed.prices, price_share)


@dataclass
class ForecastOnly:
    """The forecast's value alone (the method before stock prices): nothing to solve."""

    forecast: Protection

    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]:
        return self.forecast.offers(offers, moment)

    def took(self, plan: Plan) -> None:
        """It reads the stock left from the offers."""


@dataclass
class ProtectingOnly:
    """The current method, but only the units at nodes of one type worth anything. Stores
    alone: the centres are the backstop the hindsight optimum draws on freely, and valuing
    their units pushes shipments onto the shelves pickups want. Centres alone: their stock
    serves the country's shipments, a store's mostly its own pickups, which a transfer covers."""

    inner: Policy
    kind: NodeType

    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]:
        return [
            offer if offer.node.type is self.kind else replace(offer, future_value={})
            for offer in self.inner.offers(offers, moment)
        ]

    def took(self, plan: Plan) -> None:
        self.inner.took(plan)


@dataclass
class SharedByType:
    """A unit worth `centre_share` of its stock price at a centre and `store_share` at a
    store, the rest of the forecast's value: a centre's cells see demand from every shipment
    near it (the price, a mean over 14 days, is less noisy there), a store's cells mostly its
    own few pickups (the forecast's smoothing toward the prior matters more)."""

    forecast: Protection
    prices: StockPrices
    centre_share: float
    store_share: float

    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]:
        prices = self.prices.prices(offers, moment)
        valued = self.forecast.offers(offers, moment)
        return [
            averaged([offer], prices, self.centre_share if _centre(offer) else self.store_share)[0]
            for offer in valued
        ]

    def took(self, plan: Plan) -> None:
        self.prices.took(plan)


def _centre(offer: Offer) -> bool:
    return offer.node.type is NodeType.DISTRIBUTION_CENTRE


@dataclass
class Reattributed:
    """The current method, the forecast learned again every `every` orders from the history
    attributed against the stock left (not the day's starting stock): who would serve each
    past order now, and what it would cost more without them."""

    fixed: Fixed
    every: int
    asked: int = 0
    forecast: Protection | None = None

    def offers(self, offers: list[Offer], moment: datetime) -> list[Offer]:
        prices = self.fixed.prices.prices(offers, moment)
        if self.asked % self.every == 0:
            self.forecast = self._learned()
        self.asked += 1
        assert self.forecast is not None
        return averaged(self.forecast.offers(offers, moment), prices)

    def took(self, plan: Plan) -> None:
        self.fixed.prices.took(plan)

    def _learned(self) -> Protection:
        if self.asked == 0:
            return self.fixed.forecast
        stock = self.fixed.prices.stock
        left = [
            replace(
                o,
                available={s: max(0, stock.get((o.node.id, s), u)) for s, u in o.available.items()},
            )
            for o in self.fixed.day.day_offers({})
        ]
        day = self.fixed.day
        days = -day.day_of(day.history[0].arrives_at)
        return replace(self.fixed.forecast, forecast=estimate(past_demand_against(day, left), days))


def past_demand_for(fixed: Fixed) -> list[Demand]:
    """The history attributed against the day's starting stock (`protection.past_demand`),
    cached: only the forecast's settings vary between the variants using it."""
    path = CACHE / f"demand-{fixed.day.name}.pickle"
    if path.exists():
        with path.open("rb") as file:
            found: list[Demand] = pickle.load(file)
        return found
    found = past_demand(fixed.day)
    with path.open("wb") as file:
        pickle.dump(found, file)
    return found


def with_settings(fixed: Fixed, settings: Settings) -> Fixed:
    """The cached part with the forecast learned again under other settings."""
    days = -fixed.day.day_of(fixed.day.history[0].arrives_at)
    learned = estimate(past_demand_for(fixed), days, settings)
    return replace(fixed, forecast=replace(fixed.forecast, forecast=learned))


def with_prior(prior_days: float, variant: Variant) -> Variant:
    """The variant, its forecast leaning on the prior (SKU rate × node share) for
    `prior_days` days of history (2 by default): the generator's demand is a product of SKU
    popularity and place, and a cell's own 14 days hold about a unit, so more might smooth
    better."""
    return lambda fixed: variant(with_settings(fixed, Settings(prior_days=prior_days)))


VARIANTS: dict[str, Variant] = {
    "current": current,
    "forecast-only": lambda fixed: ForecastOnly(fixed.forecast),
    "forecast-only-prior-0.5": with_prior(0.5, lambda f: ForecastOnly(f.forecast)),
    "forecast-only-prior-1": with_prior(1.0, lambda f: ForecastOnly(f.forecast)),
    "forecast-only-prior-7": with_prior(7.0, lambda f: ForecastOnly(f.forecast)),
    "forecast-only-prior-28": with_prior(28.0, lambda f: ForecastOnly(f.forecast)),
    "price-0.3": mixed(0.3),
    "price-0.55": mixed(0.55),
    "price-0.7": mixed(0.7),
    "stores-only": lambda fixed: ProtectingOnly(current(fixed), NodeType.STORE),
    "centres-only": lambda f: ProtectingOnly(current(f), NodeType.DISTRIBUTION_CENTRE),
    "centres-0.7-stores-0.3": lambda f: SharedByType(f.forecast, f.prices, 0.7, 0.3),
    "reattributed-100": lambda fixed: Reattributed(fixed, 100),
    "reattributed-200": lambda fixed: Reattributed(fixed, 200),
}


def fixed_for(seed: int) -> Fixed:
    """The seed's policy-independent part, from the cache or computed and cached (its fields
    alone: the script may run as `__main__`, whose classes another module cannot unpickle)."""
    path = CACHE / f"fixed-{seed}.pickle"
    if path.exists():
        with path.open("rb") as file:
            return Fixed(**pickle.load(file))
    day = scenario(seed)
    myopic, hindsight, gap = myopic_and_hindsight(day)
    forecast = protection_for(day)
    prices = stock_prices_for(day, prices_with_highs)
    assert forecast is not None and prices is not None, "the scenario has a history"
    assert myopic.unfilled == hindsight.unfilled == 0, "the backstop fills every unit"
    found = Fixed(day, forecast, prices, myopic.cost, hindsight.cost, gap)
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        pickle.dump(vars(found), file)
    return found


def fresh(fixed: Fixed) -> Fixed:
    """The cached part with stock prices of its own: a policy's run moves their state."""
    return replace(fixed, prices=pickle.loads(pickle.dumps(fixed.prices)))


def evaluate(name: str, seeds: list[int]) -> None:
    """Route each seed's day under the variant; print captured shares and latency."""
    shares = []
    for seed in seeds:
        fixed = fresh(fixed_for(seed))
        policy = VARIANTS[name](fixed)
        began = time.perf_counter()
        with _native_stdout_to_stderr():
            outcome, latency = _order_by_order(fixed.day, policy.offers, policy.took)
        assert outcome.unfilled == 0
        share = (fixed.myopic - outcome.cost) / (fixed.myopic - fixed.hindsight)
        shares.append(share)
        record = {
            "variant": name, "seed": seed, "captured": share, "cost": outcome.cost,
            "myopic": fixed.myopic, "hindsight": fixed.hindsight,
            "latency_ms": [latency.mean * 1e3, latency.p99 * 1e3, latency.most * 1e3],
            "seconds": time.perf_counter() - began,
        }  # fmt: skip
        print(json.dumps(record), flush=True)
    print(
        json.dumps({"variant": name, "seeds": seeds, "mean": statistics.fmean(shares)}),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.online_tuning", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="current")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(TUNING_SEEDS))
    arguments = parser.parse_args()
    held_out = set(arguments.seeds) - set(TUNING_SEEDS)
    if held_out:
        parser.error(f"seeds {sorted(held_out)} are held out: tune on {TUNING_SEEDS}")
    evaluate(arguments.variant, arguments.seeds)


if __name__ == "__main__":
    main()
