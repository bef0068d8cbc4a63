"""Batch waves: route many orders at once with one MIP, so scarce stock and node capacity go
where they save the most, with the solver's proven gap.

The model, per order o, work line l and candidate node n (the nodes the real-time engine keeps):
    x[o,l,n] ∈ {0,1}  line l of o ships from n           y[o,n] ∈ {0,1}  o has a shipment from n
    u[o,l] ∈ [0,1]    line l of o is left unfilled (priced high: filling always comes first)
    each line once:                Σ_n x[o,l,n] + u[o,l] = 1
    a line rides its shipment:     x[o,l,n] ≤ y[o,n]
    stock at each node:            Σ q·x[o,l,n] over lines of SKU s ≤ units of s at n
    units and orders per node:     Σ q·x ≤ units left today;  Σ_o y[o,n] ≤ orders left today
    shipments per order:           Σ_n y[o,n] ≤ the profile's limit
    shipments beyond the first:    e[o] ≥ Σ_n y[o,n] − 1, e[o] ≥ 0 priced `SPLIT_PRICE`
    a promised order left short:   z[o] ≥ u[o,l] for each line, z[o] ∈ [0,1] priced
                                   `PROMISED_SHORT` (a short order misses its promise)
The objective is the profile's, with freight made linear in weight per (node, order): exact for
the whole order's weight and for its lightest line, on the line between them. Plans are then
priced exactly by the engine's own shipment costing.

Each order's columns are its cheapest nodes and the nodes of its order-by-order plan (the
myopic baseline), so that plan is the warm start. It stops at its time limit with the best
plan found and the solver's bound, and routes order by order whatever the solver could not
settle. Given a relaxer, the wave starts from the LP relaxation: a proven bound from its prices,
a plan rounded from its solution, improved neighbourhood by neighbourhood, first where the two
disagree; below `RELAX_ABOVE` columns the whole MIP runs beside the neighbourhoods, on the
machine's other core, for its cuts' bound (`_solve`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain

import numpy as np

from dom.domain.carriers import CarrierService
from dom.domain.catalog import Product
from dom.domain.sourcing.engine import (
    Candidates,
    NodeModel,
    candidates,
    costed,
    finish,
    route,
    shipment_choice,
)
from dom.domain.sourcing.model import Offer, Order, Plan, SolveStatus, Unfilled
from dom.domain.sourcing.profiles import Profile
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.solver import (
    Floats,
    LinearProgram,
    Relaxation,
    Relaxer,
    Solver,
    SolveResult,
    fixed_but,
    keeps_to_rows,
)
from dom.domain.sourcing.solver import SolveStatus as SolverStatus

#: Objective per unit left unfilled: above any shipping cost, so the wave fills what it can.
UNFILLED_PER_UNIT = 1_000.0
#: Objective per shipment of an order of several lines, in the model only: splits that save
#: less than this are not worth the extra parcel.
SHIPMENT_PRICE = 8.0
#: Objective per shipment of an order beyond its first, in the model only: the wave fills more
#: lines of orders of several lines than order-by-order routing, which took more parcels per
#: order (5,000 orders: 1.39 against 1.34). Measured on the benchmark's waves (ships/order at
#: 5,000 orders; proven gap at 2,000), under load 4-7: 0 → 1.39, 0.46 %; 10 → 1.36, 0.37 %;
#: 15 → 1.35, 0.39 %; 18 → 1.34, 0.95 %; 20 → 1.34, 0.75-0.84 %. On a quiet machine 20 gives
#: 1.338 and 0.36 % (twice each): kept, though the 2,000-order proof needs the quiet machine.
SPLIT_PRICE = 20.0
#: Objective per order with a promised date left short (any of its units unfilled misses the
#: promise): without it the wave fills the orders with the most units per shipment and leaves
#: more promised orders short than order-by-order routing does.
PROMISED_SHORT = 1_500.0
#: Nodes per order the wave considers (see `_shortlist`).
PER_LINE = 5
WHOLE = 5
#: Above `RELAX_ABOVE`: share of the wave's time limit given to the LP relaxation, which proves
#: the bound and guides the rounded plan (`_rounded`); the neighbourhoods get the rest. PDLP's
#: bound at 5,000 orders after 20 s is within 0.003 % of the exact LP optimum (2,549,363, the
#: interior-point method's in 34 s), after 14 s within 0.14 % on a loaded machine.
RELAX_SHARE = 1 / 3
#: Below `RELAX_ABOVE`: the share of the wave's time limit given to the LP relaxation; then the
#: whole program's MIP runs in the background for its cuts' bound while the neighbourhoods
#: improve the plan rounded from the relaxation (`_beside_the_whole`).
START_RELAX_SHARE = 1 / 8
#: Seconds the whole program's MIP in the background stops before the wave's deadline, to leave
#: time to start its process, hand it the program and hand its answer back (2 s under load 6).
HAND_BACK = 3.0
#: Programs with no more columns than this go to the MIP solver alone: HiGHS proves 1,000-order
#: waves (22,000-23,000 columns) optimal in 15-24 s from the myopic plan.
START_ABOVE = 30_000
#: Programs with more columns than this give the relaxation a `RELAX_SHARE` and the
#: neighbourhoods the rest of the time; below it the whole program's MIP has most of the time
#: (see `_solve`). Above it HiGHS's root LP does not finish in 60 s on the 2-core machine
#: (5,000 orders, 116,769 columns: 103 s by the dual simplex), so its cuts prove nothing; at
#: 2,000 orders (47,802 columns) they are there in 25-47 s and prove 0.6 % above the
#: relaxation, which alone cannot prove the wave within 0.5 % (1,058,257 against an optimum of
#: some 1,064,4xx).
RELAX_ABOVE = 80_000
#: Orders re-solved together by the MIP solver after the rounding (see `_improve`).
NEIGHBOURHOOD = 600
#: The gap each neighbourhood is solved to: a neighbourhood is a small part of the wave, so the
#: wave's own gap asked of each would leave several times that gap over the whole wave.
NEIGHBOURHOOD_GAP = 1e-4
#: A column whose values in the plan and in the relaxation's solution differ by more than this
#: is disputed: such columns are re-solved first after the rounding, with a `RINS_SHARE` of the
#: time left; then their orders in neighbourhoods of `DISPUTED_GROUP` (see `_improve`).
DISPUTED = 0.1
RINS_SHARE = 0.5
DISPUTED_GROUP = 200
#: After the disputed columns, a wave whose supported columns are no more than `SUPPORT_AT_MOST`
#: re-solves them all (`_supported_columns`): the columns the plan or the relaxation's solution
#: use, and each work line's `CHEAPEST` cheapest nodes. At 2,000 orders some 24,000 of 47,802
#: columns, solved in 12-17 s to a plan 0.4 % above the optimum (from 1.5 % after the disputed
#: columns); at 5,000 orders (43,000 with one cheapest node) HiGHS improves nothing in 30 s.
CHEAPEST = 2
SUPPORT_AT_MOST = 30_000
#: The rounded plan sends a line only where the relaxation sends at least this much of it
#: (then fills what is left by the cheapest node with room).
SUPPORTED = 0.2
OUTBID = (Unfilled.NOT_ENOUGH, "the wave gave the units to orders they saved more for")


@dataclass(frozen=True)
class WaveResult:
    plans: dict[str, Plan]  # by order id
    solver: SolveResult | None  # None when no model was needed
    #: orders routed one by one because the solver could not settle them
    fallback: tuple[str, ...]
    #: the order-by-order plans the wave started from (the myopic baseline)
    baseline: dict[str, Plan]

    @property
    def objective(self) -> float:
        return sum(p.costs.objective for p in self.plans.values())

    @property
    def money(self) -> float:
        return round(sum(p.costs.money for p in self.plans.values()), 2)


@dataclass
class _Index:
    """Where each order's variables sit in the program."""

    x: dict[tuple[int, int, str], int]  # (order, work line, node) → column
    y: dict[tuple[int, str], int]  # (order, node) → column
    u: dict[tuple[int, int], int]  # (order, work line) → column
    short: dict[int, int]  # order with a promise → column: 1 when any of its lines is unfilled
    #: order of several lines → column: its shipments beyond the first (`SPLIT_PRICE`)
    splits: dict[int, int] = field(default_factory=dict)


def route_wave(
    orders: Sequence[Order],
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profiles: Mapping[str, Profile],
    now: datetime,
    solver: Solver,
    *,
    time_limit: float = 60.0,
    gap: float = 0.005,
    excluded: Mapping[str, frozenset[str]] | None = None,
    relax: Relaxer | None = None,
    split_price: float | None = None,
) -> WaveResult:
    """Route every order of the wave (each under its profile, `profiles[order.id]`) jointly;
    `excluded[order.id]` names nodes that order may not use (its channel's distribution group).
    With `relax`, the LP relaxation first gives a proven bound and a rounded plan (see
    `_solve`). `split_price` is the model's price per shipment beyond an order's first
    (`SPLIT_PRICE` if not given; 0: the plan cheapest in money, as a hindsight benchmark
    wants)."""
    book, calendar = RateBook(), DateBook()
    barred = excluded or {}
    baseline = route_one_by_one(
        orders, offers, products, services, profiles, now, book, calendar, excluded=barred
    )
    found = [
        candidates(
            o,
            [f for f in offers if f.node.id not in barred.get(o.id, frozenset())],
            products,
            services,
            profiles[o.id],
            now,
            calendar,
        )
        for o in orders
    ]
    # Promised orders first, then the rest in arrival order: usually a better start than the
    # baseline once promises are priced (the baseline's earlier orders take their units).
    promised_first = sorted(orders, key=lambda o: o.promise_by is None)
    first = route_one_by_one(
        promised_first, offers, products, services, profiles, now, book, calendar, excluded=barred
    )
    by_id = {o.id: o for o in orders}
    warm = min((baseline, first), key=lambda plans: _total(plans.values(), by_id))
    program, index = _program(found, offers, products, book, warm, split_price)
    start = _start(program, index, found, warm)
    result = _solve(program, index, found, offers, start, solver, relax, time_limit, gap)
    if not result.has_solution or result.values is None:
        return WaveResult(dict(baseline), result, tuple(o.id for o in orders), baseline)
    plans: dict[str, Plan] = {}
    status = SolveStatus.OPTIMAL if result.status is SolverStatus.OPTIMAL else SolveStatus.HEURISTIC
    chosen: dict[int, dict[str, list[int]]] = {}
    for (o, line, node), column in index.x.items():
        if result.values[column] > 0.5:
            chosen.setdefault(o, {}).setdefault(node, []).append(line)
    for o, c in enumerate(found):
        if c.rejected:
            plans[c.order.id] = baseline[c.order.id]
            continue
        blocks = [(node, tuple(sorted(lines))) for node, lines in chosen.get(o, {}).items()]
        # The wave's proof is for the whole wave (`solver.gap`), not for each order alone.
        plans[c.order.id] = finish(c, blocks, status, None, {}, products, book, OUTBID)
    # Freight was linear in the model: polish each order exactly against what the others
    # leave, which also routes order by order anything the solver left unfilled.
    ledger = Ledger(offers)
    for plan in plans.values():
        ledger.take(plan)
    fallback = []
    for c in found:
        if c.rejected:
            continue
        current = plans[c.order.id]
        ledger.give(current)
        polished = route(
            c.order,
            ledger.offers_for(c.order, barred.get(c.order.id, frozenset())),
            products,
            services,
            c.profile,
            now,
            book,
            calendar,
        )
        if _score(polished) < _score(current):
            if _unfilled_units(polished) < _unfilled_units(current):
                fallback.append(c.order.id)
            current = plans[c.order.id] = polished
        ledger.take(current)
    if _total(plans.values(), by_id) > _total(baseline.values(), by_id):
        return WaveResult(dict(baseline), result, tuple(o.id for o in orders), baseline)
    return WaveResult(plans, result, tuple(fallback), baseline)


def _solve(
    program: LinearProgram,
    index: _Index,
    found: Sequence[Candidates],
    offers: Sequence[Offer],
    start: list[float],
    solver: Solver,
    relax: Relaxer | None,
    time_limit: float,
    gap: float,
) -> SolveResult:
    """The wave's program solved within `time_limit` to `gap`.

    Without `relax`, or up to `START_ABOVE` columns: the MIP solver alone, from `start`. Else the
    LP relaxation first (stopped early) gives row prices, hence a proven lower bound on every
    plan of the program (`lagrangian_bound`), and a plan rounded from its solution (`_rounded`);
    the better of that plan and `start` is then improved neighbourhood by neighbourhood by the
    MIP solver (`_improve`), first where it and the relaxation disagree.

    Above `RELAX_ABOVE` columns the whole program's root LP does not finish in time, so the
    relaxation has a `RELAX_SHARE` of the time and the neighbourhoods the rest. Below it the
    relaxation has a `START_RELAX_SHARE`; then the whole program's MIP and the neighbourhoods
    share the rest side by side (`_beside_the_whole`). The gap is the best plan's against the
    best bound: never more than is proven."""
    began = time.perf_counter()
    large = len(program.costs) > RELAX_ABOVE
    share = RELAX_SHARE if large else START_RELAX_SHARE
    relaxation = None
    if relax is not None and (large or len(program.costs) > START_ABOVE):
        relaxation = relax(program, time_limit=time_limit * share)
    bound = _bound(program, relaxation)
    ours = np.array(start)
    relaxed = None if relaxation is None else relaxation.values
    if relaxed is not None:
        rounded = np.array(_rounded(index, found, offers, program, relaxed))
        if _cost(program, rounded) < _cost(program, ours):
            ours = rounded
    if bound is not None and _gap(_cost(program, ours), bound) <= gap:
        said = f"proven by the LP relaxation's bound ({_said(relaxation)})"
        return _judged(program, ours, bound, gap, began, said)
    west = {offer.node.id: offer.node.location.longitude for offer in offers}
    if bound is not None and large:
        deadline = began + time_limit
        improved, said, whole = _improve(
            program, index, found, ours, relaxed, west, solver, deadline
        )
        said = f"{said}; bound from the LP relaxation ({_said(relaxation)})"
        return _judged(program, improved, max(bound, whole), gap, began, said)
    if relaxation is None or relaxed is None:
        left = max(1.0, time_limit - (time.perf_counter() - began))
        result = solver(program, time_limit=left, gap=gap, start=ours.tolist())
        if relaxation is None:
            return replace(result, seconds=time.perf_counter() - began)
        return _best_of(program, result, ours, bound, gap, began, f" ({_said(relaxation)})")
    return _beside_the_whole(
        program, index, found, ours, relaxation, west, solver, began + time_limit, gap, began
    )


def _beside_the_whole(
    program: LinearProgram,
    index: _Index,
    found: Sequence[Candidates],
    values: Floats,
    relaxation: Relaxation,
    nodes: Mapping[str, float],
    solver: Solver,
    deadline: float,
    gap: float,
    began: float,
) -> SolveResult:
    """The whole program's MIP from the plan `values`, in the background until `deadline`, while
    the neighbourhoods improve the same plan (`_improve`) in the foreground; the better plan
    against the better of the two bounds.

    The MIP is there for its bound: its cuts prove some 0.6 % more than the relaxation at 2,000
    orders, enough for 0.5 %, but its root takes 25-45 s and after it the MIP finds better plans
    more slowly than the neighbourhoods do (from the myopic plan: 13 % above the optimum at 60 s;
    from a plan 0.7 % above the optimum: proven optimal in 74 s). Side by side on the machine's
    two cores the neighbourhoods have all the time: 40 s of them take a 2,000-order plan from
    1.5 % to 0.5 % above the optimum, where the 20 s they had before the MIP took it to 0.9 %.
    The neighbourhoods stop early when the MIP is done."""
    relaxed = relaxation.values
    assert relaxed is not None
    bound = _bound(program, relaxation)
    with ThreadPoolExecutor(max_workers=1) as background:
        whole = background.submit(
            solver,
            program,
            time_limit=max(1.0, deadline - time.perf_counter() - HAND_BACK),
            gap=gap,
            start=values.tolist(),
        )
        improved, said, settled = _improve(
            program, index, found, values, relaxed, nodes, solver, deadline, whole.done
        )
        result = whole.result()
    if settled > -math.inf:  # a neighbourhood was the whole program
        bound = settled if bound is None else max(bound, settled)
    beside = f"; beside it {said}, from the relaxation's plan ({_said(relaxation)})"
    return _best_of(program, result, improved, bound, gap, began, beside)


def _best_of(
    program: LinearProgram,
    result: SolveResult,
    ours: Floats,
    bound: float | None,
    gap: float,
    began: float,
    said: str,
) -> SolveResult:
    """The better of the MIP solver's plan and `ours` (the plan it started from), against the
    better of its bound and the relaxation's `bound`."""
    values = ours
    if result.has_solution and result.values is not None:
        theirs = np.round(result.values)
        if _cost(program, theirs) < _cost(program, ours) and keeps_to_rows(program, theirs):
            values = theirs
    bounds = [b for b in (bound, result.bound) if b is not None]
    best = max(bounds) if bounds else None
    return _judged(
        program, values, best, gap, began, f"{result.status.value} ({result.detail}){said}"
    )


def _judged(
    program: LinearProgram,
    values: Floats,
    bound: float | None,
    gap: float,
    began: float,
    detail: str,
) -> SolveResult:
    """The plan `values` as the wave's result: optimal when `bound` proves it within `gap`."""
    objective = _cost(program, values)
    proven = None if bound is None else _gap(objective, bound)
    status = SolverStatus.OPTIMAL if proven is not None and proven <= gap else SolverStatus.FEASIBLE
    seconds = time.perf_counter() - began
    return SolveResult(status, values, objective, bound, proven, seconds, detail)


def _improve(
    program: LinearProgram,
    index: _Index,
    found: Sequence[Candidates],
    values: Floats,
    relaxed: Floats | None,
    nodes: Mapping[str, float],
    solver: Solver,
    deadline: float,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[Floats, str, float]:
    """A large-neighbourhood search from the plan `values` until `deadline` or until `stop`
    says so; each neighbourhood's program (every other column fixed as planned: `fixed_but`)
    goes to the MIP solver, and its plan is kept when it costs less and keeps to every row.

    Where the plan and the relaxation's solution `relaxed` agree, the plan already does what the
    bound assumes; the rest is where it loses what the bound says could be had. So first the
    columns where the two disagree (`_disputed_columns`, with a `RINS_SHARE` of the time): on a
    5,000-order wave some 10,000 columns, solved to optimality in 8-12 s. Then, unless they are
    too many, the columns either uses and the cheapest nodes of each line
    (`_supported_columns`, again with a `RINS_SHARE`). Then the orders still
    disputed (`_disputed`), grouped by the node the relaxation ships them from (`_by_home`) in
    neighbourhoods of `DISPUTED_GROUP`, again while a pass improves the plan; then every order
    by destination from west to east in neighbourhoods of `NEIGHBOURHOOD` (orders compete mostly
    for nodes near their destinations). Each pass starts half a neighbourhood on from the last;
    it stops when two passes over every order in a row improved nothing. Without `relaxed`,
    only the last. Also returns the solver's bound when a neighbourhood was the whole program
    (else -inf)."""
    owned = _owned(index)
    west_to_east = sorted(
        owned, key=lambda o: (found[o].order.destination.longitude, found[o].order.id)
    )
    tried = better = 0
    whole = -math.inf
    for widened in (False, True):
        if relaxed is None or time.perf_counter() > deadline - 1.0 or stop():
            break
        free = (
            _supported_columns(program, index, values, relaxed)
            if widened
            else _disputed_columns(program, owned, values, relaxed)
        )
        if widened and len(free) > SUPPORT_AT_MOST:
            break
        share = (deadline - time.perf_counter()) * RINS_SHARE
        values, improved, bound = _re_solved(program, values, free, solver, share)
        tried, better, whole = tried + 1, better + improved, max(whole, bound)
    offset = 0
    settled = relaxed is None  # no disputed order is left to gain on
    idle = 0  # passes in a row over every order that improved nothing: two and it is done
    while time.perf_counter() < deadline - 1.0 and west_to_east and idle < 2 and not stop():
        before = better
        disputed = set() if relaxed is None or settled else _disputed(owned, values, relaxed)
        focus = (
            _by_home(disputed, index, relaxed, nodes)
            if disputed and relaxed is not None
            else west_to_east
        )
        size = max(1, min(DISPUTED_GROUP if disputed else NEIGHBOURHOOD, len(focus)))
        groups = [focus[: offset or size]] if offset and len(focus) > size else []
        groups += [focus[i : i + size] for i in range(offset if groups else 0, len(focus), size)]
        for number, group in enumerate(groups):
            left = deadline - time.perf_counter()
            if left < 1.0 or stop():
                break
            share = max(1.0, left / (len(groups) - number))
            columns = [column for o in group for column in owned[o]]
            values, improved, bound = _re_solved(program, values, columns, solver, share)
            tried, better, whole = tried + 1, better + improved, max(whole, bound)
        offset = size // 2 if offset == 0 else 0
        if disputed:
            settled = better == before
        else:
            idle = 0 if better > before else idle + 1
            if len(west_to_east) <= size:
                break
    return values, f"{better} of {tried} neighbourhoods improved", whole


def _by_home(
    orders: set[int], index: _Index, relaxed: Floats, nodes: Mapping[str, float]
) -> list[int]:
    """The orders by the node the relaxation ships most of each from (its home), nodes west to
    east: orders that compete for a node's stock and capacity sit side by side."""
    weight: dict[int, dict[str, float]] = {}
    for (o, _, node), column in index.x.items():
        if o in orders:
            weight.setdefault(o, {}).setdefault(node, 0.0)
            weight[o][node] += float(relaxed[column])

    def home(o: int) -> tuple[float, str, int]:
        sent = weight.get(o, {})
        node = max(sorted(sent), key=lambda n: sent[n]) if sent else ""
        return nodes.get(node, 0.0), node, o

    return sorted(orders, key=home)


def _owned(index: _Index) -> dict[int, list[int]]:
    """Each order's columns, ascending (an order of one line has the same column as x and y)."""
    owned: dict[int, set[int]] = {}
    for (o, _, _), column in index.x.items():
        owned.setdefault(o, set()).add(column)
    for (o, _), column in chain(index.y.items(), index.u.items()):
        owned.setdefault(o, set()).add(column)
    for o, column in chain(index.short.items(), index.splits.items()):
        owned.setdefault(o, set()).add(column)
    return {o: sorted(columns) for o, columns in owned.items()}


def _disputed(owned: Mapping[int, list[int]], values: Floats, relaxed: Floats) -> set[int]:
    """The orders whose plan in `values` differs from the relaxation's solution `relaxed` by
    more than `DISPUTED` in some column."""
    return {
        o
        for o, columns in owned.items()
        if np.abs(values[columns] - relaxed[columns]).max() > DISPUTED
    }


def _disputed_columns(
    program: LinearProgram, owned: Mapping[int, list[int]], values: Floats, relaxed: Floats
) -> list[int]:
    """The columns where the plan `values` and the relaxation's solution `relaxed` differ by more
    than `DISPUTED`, and the continuous columns (lines left unfilled, promises missed) of their
    orders: every other column kept as planned, the two agree there (relaxation induced
    neighbourhood search, RINS)."""
    apart = np.abs(values - relaxed) > DISPUTED
    continuous = ~np.asarray(program.integer, dtype=bool)
    return [
        column
        for columns in owned.values()
        if apart[columns].any()
        for column in columns
        if apart[column] or continuous[column]
    ]


def _supported_columns(
    program: LinearProgram, index: _Index, values: Floats, relaxed: Floats
) -> list[int]:
    """The columns the plan `values` or the relaxation's solution `relaxed` use, every continuous
    column (lines left unfilled, promises missed), and each work line's `CHEAPEST` cheapest
    nodes (the line's column and its shipment's): the relaxation's own neighbourhood, widened
    by the moves a plan most often needs that the relaxation's solution does not show."""
    costs = np.asarray(program.costs)
    used = (values > 0.5) | (relaxed > 1e-4) | ~np.asarray(program.integer, dtype=bool)
    per_line: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
    for (o, line, node), x in index.x.items():
        y = index.y[(o, node)]
        alone = costs[x] + (costs[y] if y != x else 0.0)
        per_line.setdefault((o, line), []).append((alone, x, y))
    for choices in per_line.values():
        for _, x, y in sorted(choices)[:CHEAPEST]:
            used[x] = used[y] = True
    return np.flatnonzero(used).tolist()


def _re_solved(
    program: LinearProgram,
    values: Floats,
    columns: Sequence[int],
    solver: Solver,
    time_limit: float,
) -> tuple[Floats, bool, float]:
    """The plan `values` with `columns` re-solved by the MIP solver (the others fixed) if that
    costs less and keeps to every row; whether it did; the solver's bound when the columns
    were the whole program (else -inf)."""
    free = np.array(sorted(columns), dtype=np.int64)
    part = fixed_but(program, free, values)
    result = solver(part, time_limit=time_limit, gap=NEIGHBOURHOOD_GAP, start=values[free].tolist())
    whole = -math.inf
    if len(free) == len(program.costs) and result.bound is not None:
        whole = result.bound
    if not result.has_solution or result.values is None:
        return values, False, whole
    candidate = values.copy()
    candidate[free] = np.round(result.values)
    if _cost(program, candidate) < _cost(program, values) - 1e-6 and keeps_to_rows(
        program, candidate
    ):
        return candidate, True, whole
    return values, False, whole


def _bound(program: LinearProgram, relaxation: Relaxation | None) -> float | None:
    return None if relaxation is None else relaxation.bound(program)


def _said(relaxation: Relaxation | None) -> str:
    return "" if relaxation is None else f"{relaxation.detail}, {relaxation.seconds:.1f} s"


def _cost(program: LinearProgram, values: Sequence[float] | Floats) -> float:
    return float(np.dot(program.costs, values))


def _gap(objective: float, bound: float) -> float:
    """(objective − bound) / |objective|, as the solver states its gap."""
    if objective == 0:
        return 0.0 if bound >= 0 else math.inf
    return max(0.0, (objective - bound) / abs(objective))


def _rounded(
    index: _Index,
    found: Sequence[Candidates],
    offers: Sequence[Offer],
    program: LinearProgram,
    relaxed: Floats,
) -> list[float]:
    """A plan of the program rounded from the relaxation's solution `relaxed`.

    Orders the relaxation settles most firmly go first; each line goes to the node the
    relaxation sends most of it to (at least `SUPPORTED`) that still has the stock, the room
    and a shipment left for it. Then every line still open goes, order by order, to its
    cheapest node with room if that costs less than leaving it unfilled."""
    room = Ledger(offers)
    columns: dict[int, dict[int, list[tuple[str, int]]]] = {}
    for (o, line, node), column in index.x.items():
        columns.setdefault(o, {}).setdefault(line, []).append((node, column))
    values = [0.0] * len(program.costs)
    opened: dict[int, set[str]] = {o: set() for o in columns}
    placed: set[tuple[int, int]] = set()

    def place(o: int, line: int, node: str, column: int) -> bool:
        c = found[o]
        work, new = c.work[line], node not in opened[o]
        if new and len(opened[o]) >= c.limit:
            return False
        if not room.take_line(node, work.sku, work.quantity, new):
            return False
        opened[o].add(node)
        values[column] = 1.0
        values[index.y[(o, node)]] = 1.0
        placed.add((o, line))
        return True

    def firmness(o: int) -> float:
        return float(min(max(relaxed[col] for _, col in cols) for cols in columns[o].values()))

    for o in sorted(columns, key=firmness, reverse=True):
        for line, cols in columns[o].items():
            for node, column in sorted(cols, key=lambda nc: -relaxed[nc[1]]):
                if relaxed[column] < SUPPORTED or place(o, line, node, column):
                    break
    for o in sorted(columns, key=firmness, reverse=True):
        single = len(found[o].work) == 1
        for line, cols in columns[o].items():
            if (o, line) in placed:
                continue
            unfilled = program.costs[index.u[(o, line)]]

            def price(nc: tuple[str, int], o: int = o, single: bool = single) -> float:
                node, column = nc
                shipment = 0.0 if single or node in opened[o] else program.costs[index.y[(o, node)]]
                return program.costs[column] + shipment

            for node, column in sorted(cols, key=price):
                if price((node, column)) >= unfilled or place(o, line, node, column):
                    break
    for (o, line), column in index.u.items():
        if (o, line) not in placed:
            values[column] = 1.0
            if o in index.short:
                values[index.short[o]] = 1.0
    return _with_splits(index, values)


def _with_splits(index: _Index, values: list[float]) -> list[float]:
    """`values` with each order's shipments beyond its first counted in its `splits` column."""
    shipments: dict[int, float] = {}
    for (o, _), column in index.y.items():
        shipments[o] = shipments.get(o, 0.0) + values[column]
    for o, column in index.splits.items():
        values[column] = max(0.0, shipments.get(o, 0.0) - 1.0)
    return values


def _unfilled_units(plan: Plan) -> int:
    return sum(line.quantity for line in plan.unfilled)


def _score(plan: Plan) -> tuple[int, float]:
    """Fewer units left unfilled first, then the lower objective."""
    return _unfilled_units(plan), round(plan.costs.objective, 6)


def _total(plans: Iterable[Plan], orders: Mapping[str, Order]) -> float:
    """The plans' objective in the model's terms: with the price of each unit left unfilled
    and of each promised order left short."""
    total = 0.0
    for plan in plans:
        units = _unfilled_units(plan)
        total += plan.costs.objective + UNFILLED_PER_UNIT * units
        if units and orders[plan.order_id].promise_by is not None:
            total += PROMISED_SHORT
    return round(total, 6)


class Ledger:
    """Units, units of capacity and orders of capacity left at each node as plans take them."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self._offers = {o.node.id: o for o in offers}
        self._units = {(o.node.id, sku): n for o in offers for sku, n in o.available.items()}
        self._room = {o.node.id: o.units_left_today for o in offers}
        self._orders = {o.node.id: o.orders_left_today for o in offers}
        self._by_sku: dict[str, list[str]] = {}
        for o in offers:
            for sku in o.available:
                self._by_sku.setdefault(sku, []).append(o.node.id)

    def take(self, plan: Plan, sign: int = 1) -> None:
        for shipment in plan.shipments:
            node = shipment.node_id
            units = sum(line.quantity for line in shipment.lines)
            room, orders = self._room[node], self._orders[node]
            if room is not None:
                self._room[node] = room - sign * units
            if orders is not None:
                self._orders[node] = orders - sign
            for line in shipment.lines:
                self._units[(node, line.sku)] -= sign * line.quantity

    def give(self, plan: Plan) -> None:
        self.take(plan, -1)

    def take_line(self, node: str, sku: str, quantity: int, opens: bool) -> bool:
        """Take `quantity` of `sku` at `node` (and one of its orders if the line `opens` a
        shipment there) if it has them all; say whether it did."""
        room, orders = self._room[node], self._orders[node]
        if self._units.get((node, sku), 0) < quantity:
            return False
        if room is not None and room < quantity:
            return False
        if opens and orders is not None and orders < 1:
            return False
        self._units[(node, sku)] -= quantity
        if room is not None:
            self._room[node] = room - quantity
        if opens and orders is not None:
            self._orders[node] = orders - 1
        return True

    def offers_for(self, order: Order, excluded: frozenset[str] = frozenset()) -> list[Offer]:
        """What each node (but the excluded) can still give of the order's SKUs."""
        skus = {line.sku for line in order.lines}
        nodes = sorted({n for sku in skus for n in self._by_sku.get(sku, [])} - excluded)
        return [
            replace(
                self._offers[n],
                available={sku: self._units.get((n, sku), 0) for sku in skus},
                units_left_today=self._room[n],
                orders_left_today=self._orders[n],
            )
            for n in nodes
        ]


def route_one_by_one(
    orders: Sequence[Order],
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profiles: Mapping[str, Profile],
    now: datetime,
    book: RateBook | None = None,
    calendar: DateBook | None = None,
    *,
    excluded: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Plan]:
    """Each order in turn gets its own best plan from what the orders before it left: the
    myopic policy most order-management systems follow."""
    book, calendar = book or RateBook(), calendar or DateBook()
    ledger = Ledger(offers)
    plans: dict[str, Plan] = {}
    for order in orders:
        available = ledger.offers_for(order, (excluded or {}).get(order.id, frozenset()))
        plan = route(order, available, products, services, profiles[order.id], now, book, calendar)
        plans[order.id] = plan
        ledger.take(plan)
    return plans


def _program(
    found: Sequence[Candidates],
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    book: RateBook,
    baseline: Mapping[str, Plan] | None = None,
    split_price: float | None = None,
) -> tuple[LinearProgram, _Index]:
    """The wave's MIP; each order's columns are its shortlist and the nodes its `baseline`
    plan ships from, so that plan is a solution of the program; shipments beyond an order's
    first priced `split_price` (`SPLIT_PRICE` if not given)."""
    split_price = SPLIT_PRICE if split_price is None else split_price
    program = LinearProgram()
    index = _Index({}, {}, {}, {})
    stock: dict[tuple[str, str], list[tuple[int, float]]] = {}
    units: dict[str, list[tuple[int, float]]] = {}
    shipments: dict[str, list[tuple[int, float]]] = {}
    for o, c in enumerate(found):
        if c.rejected:
            continue
        per_order = []
        ships: dict[int, list[tuple[int, float]]] = {}  # work line → its x columns
        single = len(c.work) == 1
        plan = (baseline or {}).get(c.order.id)
        also = frozenset(s.node_id for s in plan.shipments) if plan is not None else frozenset()
        for model, (fixed, per_line) in _shortlist(c, products, book, also):
            if single:  # one line: the line's variable is the shipment's
                [(line, cost)] = per_line.items()
                x = program.add_variable(fixed + cost)
                index.y[(o, model.id)] = x
                per_order.append((x, 1.0))
                shipments.setdefault(model.id, []).append((x, 1.0))
            else:
                y = program.add_variable(fixed + SHIPMENT_PRICE)
                index.y[(o, model.id)] = y
                per_order.append((y, 1.0))
                shipments.setdefault(model.id, []).append((y, 1.0))
            for line, cost in per_line.items():
                if not single:
                    x = program.add_variable(cost)
                    program.add_row("a line rides its shipment", [(x, 1.0), (y, -1.0)], -1e30, 0.0)
                index.x[(o, line, model.id)] = x
                ships.setdefault(line, []).append((x, 1.0))
                quantity = float(c.work[line].quantity)
                stock.setdefault((model.id, c.work[line].sku), []).append((x, quantity))
                units.setdefault(model.id, []).append((x, quantity))
        for line, w in enumerate(c.work):
            u = program.add_variable(UNFILLED_PER_UNIT * w.quantity, integer=False)
            index.u[(o, line)] = u
            program.add_row("each line once", [*ships.get(line, []), (u, 1.0)], 1.0, 1.0)
        if c.order.promise_by is not None and c.work:
            # Continuous: the lines' u are 0 or 1 in any plan, and z settles at their largest.
            short = program.add_variable(PROMISED_SHORT, integer=False)
            index.short[o] = short
            for line in range(len(c.work)):
                row = [(index.u[(o, line)], 1.0), (short, -1.0)]
                program.add_row("a promised order short misses its promise", row, -1e30, 0.0)
        if per_order and c.limit < len(per_order):
            program.add_row("shipments per order", per_order, 0.0, float(c.limit))
        if split_price and not single and len(per_order) > 1:
            beyond = program.add_variable(split_price, upper=float(len(per_order)), integer=False)
            index.splits[o] = beyond
            row = [*per_order, (beyond, -1.0)]
            program.add_row("shipments beyond the first", row, -1e30, 1.0)
    by_node = {offer.node.id: offer for offer in offers}
    for (node, sku), taking in stock.items():
        have = by_node[node].available.get(sku, 0)
        if sum(q for _, q in taking) > have:
            program.add_row(f"stock of {sku} at {node}", taking, 0.0, float(have))
    for node, taking in units.items():
        room = by_node[node].units_left_today
        if room is not None and sum(q for _, q in taking) > room:
            program.add_row(f"units left today at {node}", taking, 0.0, float(room))
    for node, opened in shipments.items():
        room = by_node[node].orders_left_today
        if room is not None and len(opened) > room:
            program.add_row(f"orders left today at {node}", opened, 0.0, float(room))
    return program, index


def _shortlist(
    c: Candidates, products: Mapping[str, Product], book: RateBook, also: frozenset[str]
) -> list[tuple[NodeModel, tuple[float, dict[int, float]]]]:
    """The order's nodes worth a column: per line, the `PER_LINE` cheapest to ship it alone;
    the `WHOLE` cheapest per line to ship all they can of the order; and the nodes in `also`
    (those of its order-by-order plan, which the search may have pruned against full stock)."""
    kept = {m.id for m in c.kept}
    extra = [m for n in sorted(also - kept) if (m := costed(c, n, products)) is not None]
    priced = [
        (m, terms) for m in [*c.kept, *extra] if (terms := _terms(c, m, products, book)) is not None
    ]
    keep: set[str] = set(also)
    for line in range(len(c.work)):
        alone = sorted(
            (fixed + per_line[line], m.id) for m, (fixed, per_line) in priced if line in per_line
        )
        keep.update(node for _, node in alone[:PER_LINE])
    whole = sorted(
        ((fixed + sum(per_line.values())) / len(per_line), m.id)
        for m, (fixed, per_line) in priced
        if len(per_line) > 1
    )
    keep.update(node for _, node in whole[:WHOLE])
    return [(m, terms) for m, terms in priced if m.id in keep]


def _terms(
    c: Candidates, model: NodeModel, products: Mapping[str, Product], book: RateBook
) -> tuple[float, dict[int, float]] | None:
    """The node's per-shipment cost and per-line costs for the order, freight made linear."""
    lines = [i for i in range(len(c.work)) if model.holds >> i & 1]
    if not lines:
        return None
    whole = shipment_choice(model, lines, c.work, products, c.profile, book, c.order)
    alone = {
        i: shipment_choice(model, [i], c.work, products, c.profile, book, c.order) for i in lines
    }
    usable = {i: choice for i, choice in alone.items() if choice is not None}
    if not usable:
        return None
    if whole is None or len(usable) == 1:
        # Too heavy or too many units together: each line is priced as its own shipment.
        return 0.0, {i: choice.objective for i, choice in usable.items()}
    # Line i alone costs fixed + v_i; all together cost fixed + Σ v_i: solve for fixed.
    singles = sum(choice.objective for choice in usable.values())
    fixed = max(0.0, (singles - whole.objective) / (len(usable) - 1))
    return fixed, {i: choice.objective - fixed for i, choice in usable.items()}


def _start(
    program: LinearProgram, index: _Index, found: Sequence[Candidates], plans: Mapping[str, Plan]
) -> list[float]:
    """The baseline plans as a starting solution (lines it split are left unfilled)."""
    values = [0.0] * len(program.costs)
    for o, c in enumerate(found):
        plan = plans[c.order.id]
        placed: set[int] = set()
        for shipment in plan.shipments:
            for line in shipment.lines:
                matches = [
                    i
                    for i, w in enumerate(c.work)
                    if w.line_id == line.line_id and w.quantity == line.quantity and i not in placed
                ]
                key = (o, matches[0], shipment.node_id) if matches else None
                if key is not None and key in index.x:
                    values[index.x[key]] = 1.0
                    values[index.y[(o, shipment.node_id)]] = 1.0
                    placed.add(matches[0])
        for i in range(len(c.work)):
            if i not in placed and (o, i) in index.u:
                values[index.u[(o, i)]] = 1.0
                if o in index.short:
                    values[index.short[o]] = 1.0
    return _with_splits(index, values)
