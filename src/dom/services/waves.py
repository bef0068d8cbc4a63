"""Route a wave of orders jointly (one MIP), as a dry run or committed.

The solver works from a read of the stock, outside any write transaction, so a long solve never
holds a lock. Committing then allocates every plan in one short transaction; an order whose
units were taken meanwhile by other writers is routed again on its own against what is left.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from dom.adapters import inventory_store as store
from dom.adapters import repositories as repo
from dom.adapters import sourcing_store
from dom.adapters.database import reading, writing
from dom.adapters.highs import solve_with_highs
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, Problem
from dom.domain.inventory import InsufficientStock
from dom.domain.sourcing.engine import route
from dom.domain.sourcing.model import Order
from dom.domain.sourcing.profiles import OrderFacts
from dom.domain.sourcing.wave import route_wave
from dom.services import sourcing
from dom.services.inventory import allocate_units, check_names

#: A wave may take this long to solve at most (seconds), and holds this many orders at most.
MAX_TIME_LIMIT = 300.0
MAX_ORDERS = 10_000


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
    chosen = [
        sourcing.profile_for(engine, r, facts)
        for r, (_, facts) in zip(requests, orders, strict=True)
    ]
    skus = sorted({line.sku for r in requests for line in r.lines})
    with reading(engine) as connection:
        check_names(connection, skus, [], "orders.lines")
        current = network(connection)
        offers = sourcing.offers(connection, current, skus, principal.channel, moment)
        products = {p.sku: p for p in repo.get_products(connection, skus)}
        excluded = {
            order.id: frozenset(store.excluded_nodes(connection, facts.channel))
            for order, facts in orders
            if facts.channel is not None and principal.channel is None
        }
    result = route_wave(
        [order for order, _ in orders],
        offers,
        products,
        current.services,
        {order.id: profile for (order, _), (profile, _, _) in zip(orders, chosen, strict=True)},
        moment,
        solve_with_highs,
        time_limit=time_limit,
        excluded=excluded,
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
            decided = replace(decided, id=secrets.token_hex(8), committed=True)
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
                profile = sourcing.profile_version_of(engine, decided)
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
