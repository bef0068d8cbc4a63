"""Replay a scenario's order stream under a policy against one stock ledger.

Orders are routed in order of arrival, each at its arrival time, from what the orders before it
left: stock carries over from day to day, capacity starts afresh every 24 hours from the
scenario's start. Every plan is checked by `validate.plan_violations` against the stock and
capacity the policy saw; a sound policy has none.

Policies:
- a profile: the real-time engine (`engine.route`) under it, order by order; a profile that
  weighs inventory protection gets each unit's future value from a forecast learned from the
  scenario's history (`protection.py`), recomputed from the stock left before every order;
- `nearest`: the nearest-node baseline (`baselines.route_nearest`), order by order;
- `myopic`: the order-by-order, cost-optimal baseline — the engine under `lowest-cost`;
- `wave`: the orders in batches of N (within a day) routed jointly by `wave.route_wave`, each
  batch when its last order arrives; every order of a batch waits for the whole solve.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from dom.domain.sourcing.baselines import NEAREST, route_nearest
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.model import Offer, Order, Plan
from dom.domain.sourcing.profiles import LOWEST_COST, Profile
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.solver import Relaxer, Solver
from dom.domain.sourcing.validate import plan_violations
from dom.domain.sourcing.wave import Ledger, route_wave
from dom.simulation.model import Arrival, Scenario
from dom.simulation.protection import protection_for

Decide = Callable[[Order, list[Offer], datetime, RateBook, DateBook], Plan]


class PolicyKind(StrEnum):
    PROFILE = "profile"
    NEAREST = "nearest"
    MYOPIC = "myopic"
    WAVE = "wave"


@dataclass(frozen=True)
class Policy:
    name: str
    kind: PolicyKind
    profile: Profile
    wave_size: int = 0

    @property
    def protects(self) -> bool:
        """Whether the policy prices the future value of the units it takes."""
        return self.kind is PolicyKind.PROFILE and self.profile.weights.inventory_protection > 0

    @property
    def description(self) -> str:
        protecting = (
            ", each unit priced at its future value (forecast from the scenario's history)"
            if self.protects
            else ""
        )
        return {
            PolicyKind.PROFILE: f"the engine under profile {self.profile.name}, order by order"
            + protecting,
            PolicyKind.NEAREST: "nearest node with every line, else the nearest per line",
            PolicyKind.MYOPIC: "order by order, cost-optimal (the engine under lowest-cost)",
            PolicyKind.WAVE: f"waves of {self.wave_size} orders solved jointly under "
            f"{self.profile.name}",
        }[self.kind]


def profile_policy(profile: Profile) -> Policy:
    return Policy(profile.name, PolicyKind.PROFILE, profile)


def nearest_policy() -> Policy:
    return Policy("nearest", PolicyKind.NEAREST, NEAREST)


def myopic_policy() -> Policy:
    return Policy("myopic", PolicyKind.MYOPIC, LOWEST_COST)


def wave_policy(size: int, profile: Profile = LOWEST_COST) -> Policy:
    if size < 1:
        raise ValueError("a wave needs at least one order")
    return Policy(f"wave-{size}", PolicyKind.WAVE, profile, size)


@dataclass(frozen=True)
class Outcome:
    arrival: Arrival
    plan: Plan
    seconds: float  # decision latency: the time the policy took to decide this order
    violations: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    policy: Policy
    outcomes: tuple[Outcome, ...]
    seconds: float  # the whole replay

    @property
    def violations(self) -> int:
        return sum(len(o.violations) for o in self.outcomes)


def replay(
    scenario: Scenario,
    policy: Policy,
    solver: Solver | None = None,
    *,
    wave_time_limit: float = 20.0,
    relax: Relaxer | None = None,
) -> Run:
    """Every order of the scenario routed under `policy`; waves need a `solver`, and start from
    the LP relaxation when given `relax`."""
    began = time.perf_counter()
    if policy.kind is PolicyKind.WAVE:
        if solver is None:
            raise ValueError("a wave policy needs a solver")
        outcomes = _in_waves(scenario, policy, solver, wave_time_limit, relax)
    else:
        outcomes = _order_by_order(scenario, policy.profile, _decider(scenario, policy))
    return Run(policy, tuple(outcomes), time.perf_counter() - began)


def _decider(scenario: Scenario, policy: Policy) -> Decide:
    products, services = scenario.products, scenario.services
    protection = protection_for(scenario) if policy.protects else None
    if policy.kind is PolicyKind.NEAREST:

        def nearest(
            order: Order, offers: list[Offer], now: datetime, book: RateBook, dates: DateBook
        ) -> Plan:
            return route_nearest(order, offers, products, services, now, book, dates)

        return nearest

    def engine(
        order: Order, offers: list[Offer], now: datetime, book: RateBook, dates: DateBook
    ) -> Plan:
        return route(order, offers, products, services, policy.profile, now, book, dates)

    if protection is None:
        return engine

    def protecting(
        order: Order, offers: list[Offer], now: datetime, book: RateBook, dates: DateBook
    ) -> Plan:
        valued = protection.offers(offers, now)
        return route(order, valued, products, services, policy.profile, now, book, dates)

    return protecting


class _Days:
    """The ledger of the current day: stock carried over, capacity afresh each day."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._taken: Counter[tuple[str, str]] = Counter()
        self._day: int | None = None
        self.ledger = Ledger(())

    def on(self, moment: datetime) -> Ledger:
        day = self._scenario.day_of(moment)
        if day != self._day:
            self._day = day
            self.ledger = Ledger(self._scenario.day_offers(self._taken))
        return self.ledger

    def take(self, plan: Plan) -> None:
        self.ledger.take(plan)
        for shipment in plan.shipments:
            for line in shipment.lines:
                self._taken[(shipment.node_id, line.sku)] += line.quantity


def _order_by_order(scenario: Scenario, profile: Profile, decide: Decide) -> list[Outcome]:
    days = _Days(scenario)
    book, dates = RateBook(), DateBook()
    outcomes = []
    for arrival in scenario.arrivals:
        order, now = arrival.order, arrival.arrives_at
        offers = days.on(now).offers_for(order)
        began = time.perf_counter()
        plan = decide(order, offers, now, book, dates)
        seconds = time.perf_counter() - began
        found = _violations(plan, order, offers, scenario, profile, now)
        days.take(plan)
        outcomes.append(Outcome(arrival, plan, seconds, found))
    return outcomes


def _violations(
    plan: Plan,
    order: Order,
    offers: Sequence[Offer],
    scenario: Scenario,
    profile: Profile,
    now: datetime,
) -> tuple[str, ...]:
    return tuple(
        plan_violations(plan, order, offers, scenario.products, scenario.services, profile, now)
    )


def _batches(scenario: Scenario, size: int) -> list[list[Arrival]]:
    """Consecutive arrivals, at most `size` a batch, never across the start of a day."""
    batches: list[list[Arrival]] = []
    for arrival in scenario.arrivals:
        last = batches[-1] if batches else None
        if (
            last is None
            or len(last) >= size
            or scenario.day_of(last[0].arrives_at) != scenario.day_of(arrival.arrives_at)
        ):
            batches.append([arrival])
        else:
            last.append(arrival)
    return batches


def _in_waves(
    scenario: Scenario, policy: Policy, solver: Solver, time_limit: float, relax: Relaxer | None
) -> list[Outcome]:
    days = _Days(scenario)
    profiles = {a.order.id: policy.profile for a in scenario.arrivals}
    outcomes = []
    for batch in _batches(scenario, policy.wave_size):
        orders = [a.order for a in batch]
        now = batch[-1].arrives_at  # the wave runs when its last order is in
        ledger = days.on(now)
        offers = _offers_for(ledger, orders)
        began = time.perf_counter()
        result = route_wave(
            orders,
            offers,
            scenario.products,
            scenario.services,
            profiles,
            now,
            solver,
            time_limit=time_limit,
            relax=relax,
        )
        seconds = time.perf_counter() - began
        for arrival in batch:
            plan = result.plans[arrival.order.id]
            found = _violations(plan, arrival.order, offers, scenario, policy.profile, now)
            days.take(plan)
            outcomes.append(Outcome(arrival, plan, seconds, found))
        # Each plan fits what the wave started from; together they must fit it too.
        overdrawn = _overdrawn(_offers_for(ledger, orders))
        if overdrawn:
            last = outcomes[-1]
            outcomes[-1] = replace(last, violations=last.violations + tuple(overdrawn))
    return outcomes


def _offers_for(ledger: Ledger, orders: Sequence[Order]) -> list[Offer]:
    """What each node can still give of any SKU of the orders."""
    merged: dict[str, Offer] = {}
    for order in orders:
        for offer in ledger.offers_for(order):
            known = merged.get(offer.node.id)
            if known is None:
                merged[offer.node.id] = offer
            else:
                available = {**known.available, **offer.available}
                merged[offer.node.id] = replace(known, available=available)
    return [merged[node] for node in sorted(merged)]


def _overdrawn(offers: Sequence[Offer]) -> list[str]:
    found = []
    for offer in offers:
        node = offer.node.id
        for sku, units in sorted(offer.available.items()):
            if units < 0:
                found.append(f"the wave took {-units} more of {sku} at {node} than it had")
        if offer.units_left_today is not None and offer.units_left_today < 0:
            found.append(f"the wave shipped {-offer.units_left_today} units over {node}'s capacity")
        if offer.orders_left_today is not None and offer.orders_left_today < 0:
            found.append(
                f"the wave made {-offer.orders_left_today} shipments over {node}'s capacity"
            )
    return found
