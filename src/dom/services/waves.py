"""Route a wave of orders jointly (one MIP), as a dry run or committed.

The solver works from a read of the stock, outside any write transaction, so a long solve never
holds a lock. Committing then allocates every plan in one short transaction; an order whose
units were taken meanwhile by other writers is routed again on its own against what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from dom.adapters import inventory_store as store
from dom.adapters import repositories as repo
from dom.adapters import sourcing_store
from dom.adapters.database import reading, writing
from dom.adapters.highs import relax_with_highs, solve_guarded
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import Conflict, InvalidInput, Problem
from dom.domain.inventory import InsufficientStock
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.model import Order, Plan
from dom.domain.sourcing.profiles import OrderFacts
from dom.domain.sourcing.wave import route_wave
from dom.ids import random_hex
from dom.services import profiles as registry
from dom.services import sourcing
from dom.services.inventory import allocate_units, check_names, deallocate_units
from dom.services.plan_records import plain, plan_to_record

#: A wave may take this long to solve at most (seconds), and holds this many orders at most.
MAX_TIME_LIMIT = 300.0
#: The MIP solver runs in a process of its own, stopped past its time limit (HiGHS does not
#: check it in one set-up step: about 43 s late at 10,000 orders, minutes at 20,000), and large
#: waves start from the LP relaxation (`wave.RELAX_ABOVE`). Measured up to 5,000 orders: about
#: 30 s of routing and polishing around the solver's time (docs/benchmarks.md).
MAX_ORDERS = 5_000


@dataclass(frozen=True)
class WaveOutcome:
    decisions: tuple[sourcing.Decision, ...]
    committed: bool
    solver_status: str  # optimal, feasible, …; "none" when the one-by-one plans were kept
    gap: float | None  # the solver's proven gap for the wave's model
    seconds: float
    objective: float
    money: float
    #: the same orders routed one by one, each taking what the ones before left
    baseline_objective: float
    baseline_money: float
    fallback: tuple[str, ...]  # orders the solver could not settle, routed one by one


def route_orders(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    requests: Sequence[sourcing.SourcingRequest],
    *,
    time_limit: float = 60.0,
    commit: bool = False,
    now: datetime | None = None,
) -> WaveOutcome:
    """Route the orders jointly; with `commit`, allocate every plan and record the decisions."""
    principal.require(Action.RESERVE if commit else Action.READ_INVENTORY)
    moment = now or datetime.now(UTC)
    orders = _check(zips, requests, time_limit)
    skus = sorted({line.sku for r in requests for line in r.lines})
    with reading(engine) as connection:
        routing = registry.active_routing_in(connection)
        chosen = [
            sourcing.profile_for(connection, r, facts, routing)
            for r, (_, facts) in zip(requests, orders, strict=True)
        ]
        check_names(connection, skus, [], "orders.lines")
        current = network(connection)
        offers = sourcing.protected(
            connection,
            [profile for profile, _, _ in chosen],
            sourcing.offers(connection, current, skus, principal.channel, moment),
            skus,
            moment,
        )
        products = {p.sku: p for p in repo.get_products(connection, skus)}
        excluded = _exclusions(
            connection, principal, [o for o, _ in orders], [f for _, f in orders]
        )
    result = route_wave(
        [order for order, _ in orders],
        offers,
        products,
        current.services,
        {order.id: profile for (order, _), (profile, _, _) in zip(orders, chosen, strict=True)},
        moment,
        solve_guarded,
        time_limit=time_limit,
        excluded=excluded,
        relax=relax_with_highs,
    )
    decisions = [
        sourcing.Decision(None, order.id, result.plans[order.id], p.name, v, rule, False, moment)
        for (order, _), (p, v, rule) in zip(orders, chosen, strict=True)
    ]
    if commit:
        decisions = _commit(engine, principal, requests, decisions, orders, moment)
    solved = result.solver
    return WaveOutcome(
        tuple(decisions),
        commit,
        solved.status.value if solved is not None else "none",
        solved.gap if solved is not None else None,
        round(solved.seconds, 3) if solved is not None else 0.0,
        round(result.objective, 4),
        result.money,
        round(sum(p.costs.objective for p in result.baseline.values()), 4),
        round(sum(p.costs.money for p in result.baseline.values()), 2),
        result.fallback,
    )


def _exclusions(
    connection: Any,
    principal: Principal,
    orders: Sequence[Order],
    facts: Sequence[OrderFacts],
) -> dict[str, frozenset[str]]:
    """Per order, the nodes its channel's distribution group leaves out (a channel key's own
    channel already shaped the offers)."""
    if principal.channel is not None:
        return {}
    return {
        order.id: frozenset(store.excluded_nodes(connection, f.channel))
        for order, f in zip(orders, facts, strict=True)
        if f.channel is not None
    }


def _check(
    zips: ZipDirectory, requests: Sequence[sourcing.SourcingRequest], time_limit: float
) -> list[tuple[Order, OrderFacts]]:
    problems: list[Problem] = []
    if not requests:
        problems.append(Problem("orders", "route at least one order"))
    if len(requests) > MAX_ORDERS:
        problems.append(Problem("orders", f"at most {MAX_ORDERS} orders a wave"))
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        problems.append(
            Problem("time_limit_seconds", f"must be above 0 and at most {MAX_TIME_LIMIT:.0f}")
        )
    seen: set[str] = set()
    orders = []
    for index, request in enumerate(requests):
        if request.order_id in seen:
            problems.append(
                Problem(f"orders.{index}.order_id", f"{request.order_id!r} appears twice")
            )
        seen.add(request.order_id)
        if request.profile_version is not None:
            problems.append(Problem(f"orders.{index}.profile_version", "waves use active profiles"))
        try:
            orders.append(sourcing.order_of(zips, request))
        except InvalidInput as refused:
            problems += [replace(p, field=f"orders.{index}.{p.field}") for p in refused.problems]
    if problems:
        raise InvalidInput(problems)
    return orders


def _commit(
    engine: Engine,
    principal: Principal,
    requests: Sequence[sourcing.SourcingRequest],
    decisions: Sequence[sourcing.Decision],
    orders: Sequence[tuple[Order, OrderFacts]],
    now: datetime,
) -> list[sourcing.Decision]:
    """Allocate every plan in one transaction; re-route on its own any order outrun meanwhile."""
    committed = []
    with writing(engine) as connection:
        for request, decided, (order, facts) in zip(requests, decisions, orders, strict=True):
            decided = replace(decided, id=random_hex(8), committed=True)
            try:
                with connection.begin_nested():
                    allocate_units(connection, sourcing.units_of(decided.plan), now)
            except InsufficientStock:
                current = network(connection)
                skus = sorted({line.sku for line in order.lines})
                offers = sourcing.offers(
                    connection, current, skus, principal.channel or facts.channel, now
                )
                products = {p.sku: p for p in repo.get_products(connection, skus)}
                profile = sourcing.profile_version_of(connection, decided)
                plan = route(
                    order,
                    offers,
                    products,
                    current.services,
                    profile,
                    now,
                    current.rates,
                    current.dates,
                )
                allocate_units(connection, sourcing.units_of(plan), now)
                decided = replace(decided, plan=plan)
            row = sourcing.decision_row(decided, principal) | {
                "request": sourcing.request_record(request)
            }
            sourcing_store.insert_decision(connection, row)
            committed.append(decided)
    return committed


@dataclass(frozen=True)
class Reoptimized:
    decisions: tuple[sourcing.Decision, ...]  # as they stand now
    changed: tuple[str, ...]  # decisions whose plan changed
    objective_before: float
    objective_after: float
    shipments_before: int
    shipments_after: int
    solver_status: str
    gap: float | None


def reoptimize(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    decision_ids: Sequence[str],
    *,
    time_limit: float = 60.0,
    now: datetime | None = None,
) -> Reoptimized:
    """Route committed, unreleased orders again jointly, with their own units back in play:
    the window in which real-time routing's extra shipments can still be taken back. A new
    plan replaces the old only if the wave as a whole is better; all of it happens in one
    transaction, or none of it."""
    principal.require(Action.RESERVE)
    moment = now or datetime.now(UTC)
    if not decision_ids or len(set(decision_ids)) != len(decision_ids):
        raise InvalidInput([Problem("decision_ids", "name each committed decision once")])
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        raise InvalidInput(
            [Problem("time_limit_seconds", f"must be above 0 and at most {MAX_TIME_LIMIT:.0f}")]
        )
    with reading(engine) as connection:
        before = _committed(connection, decision_ids)
        requests = [sourcing.request_from_record(row.request) for row in before]
        decided = [sourcing.decision_from_row(row) for row in before]
        orders = [sourcing.order_of(zips, r)[0] for r in requests]
        skus = sorted({line.sku for r in requests for line in r.lines})
        current = network(connection)
        held = _held_units(decided)
        offers = sourcing.offers(connection, current, skus, principal.channel, moment, extra=held)
        products = {p.sku: p for p in repo.get_products(connection, skus)}
        excluded = _exclusions(connection, principal, orders, [r.facts for r in requests])
    versions = {(d.profile, d.profile_version): d for d in decided}  # each read once
    with reading(engine) as connection:
        loaded = {key: sourcing.profile_version_of(connection, d) for key, d in versions.items()}
        offers = sourcing.protected(connection, loaded.values(), offers, skus, moment)
    profiles = {d.order_id: loaded[(d.profile, d.profile_version)] for d in decided}
    result = route_wave(
        orders,
        offers,
        products,
        current.services,
        profiles,
        moment,
        solve_guarded,
        time_limit=time_limit,
        excluded=excluded,
        relax=relax_with_highs,
    )
    old = sum(d.plan.costs.objective for d in decided)
    new_plans = {d.id: result.plans[d.order_id] for d in decided}
    short_before = sum(u.quantity for d in decided for u in d.plan.unfilled)
    short_after = sum(u.quantity for p in new_plans.values() for u in p.unfilled)
    better = (short_after, result.objective) < (short_before, old - 1e-6)
    changed: list[str] = []
    after = decided
    if better:
        after, changed = _swap(engine, decided, new_plans, moment)
    solved = result.solver
    return Reoptimized(
        tuple(after),
        tuple(changed),
        round(old, 4),
        round(sum(d.plan.costs.objective for d in after), 4),
        sum(len(d.plan.shipments) for d in decided),
        sum(len(d.plan.shipments) for d in after),
        solved.status.value if solved is not None else "none",
        solved.gap if solved is not None else None,
    )


def _committed(connection: Any, decision_ids: Sequence[str]) -> list[Any]:
    rows = []
    problems = []
    for index, decision_id in enumerate(decision_ids):
        row = sourcing_store.get_decision(connection, decision_id)
        if row is None or not row.committed or row.request is None:
            problems.append(
                Problem(f"decision_ids.{index}", f"{decision_id!r} is not a committed decision")
            )
        rows.append(row)
    if problems:
        raise InvalidInput(problems)
    return rows


def _held_units(decided: Sequence[sourcing.Decision]) -> dict[tuple[str, str], int]:
    held: dict[tuple[str, str], int] = {}
    for d in decided:
        for key, units in sourcing.units_of(d.plan).items():
            held[key] = held.get(key, 0) + units
    return held


def _swap(
    engine: Engine,
    decided: Sequence[sourcing.Decision],
    plans: dict[str | None, Plan],
    now: datetime,
) -> tuple[list[sourcing.Decision], list[str]]:
    """Move every allocation from the old plans to the new ones, or nothing if anything
    changed meanwhile (a decision released, re-routed, or its units taken)."""
    after: list[sourcing.Decision] = []
    changed: list[str] = []
    with writing(engine) as connection:
        for d in decided:
            assert d.id is not None
            row = sourcing_store.lock_decision(connection, d.id)
            if row is None or not row.committed or row.plan != plan_to_record(d.plan):
                raise Conflict(f"decision {d.id} changed while the wave was solved; try again")
        deallocate_units(connection, _held_units(decided), now)
        for d in decided:
            plan = plans[d.id]
            allocate_units(connection, sourcing.units_of(plan), now)
            if plan_to_record(plan) == plan_to_record(d.plan):
                after.append(d)
                continue
            assert d.id is not None
            entry = sourcing.Rerouted(
                now, "", (), "reoptimized in a wave", tuple(s.node_id for s in plan.shipments)
            )
            history = (*d.history, entry)
            sourcing_store.update_decision(
                connection,
                d.id,
                {
                    "plan": plan_to_record(plan),
                    "objective": plan.costs.objective,
                    "status": plan.status.value,
                    "history": [plain(h) for h in history],
                },
            )
            after.append(replace(d, plan=plan, history=history))
            changed.append(d.id)
    return after, changed
