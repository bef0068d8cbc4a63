"""Batch waves with the real HiGHS solver: scarce stock goes where it saves the most, never more
than there is, and the solver's verdict is kept with the plans."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from dom.adapters.highs import relax_with_highs, solve_with_highs
from dom.domain.sourcing import wave
from dom.domain.sourcing.model import Offer, Order, OrderLine
from dom.domain.sourcing.profiles import LOWEST_COST
from dom.domain.sourcing.solver import (
    LinearProgram,
    Relaxation,
    SolveResult,
    SolveStatus,
    keeps_to_rows,
)
from dom.domain.sourcing.validate import plan_violations
from dom.domain.sourcing.wave import WaveResult, route_wave
from tests.support.sourcing import (
    NOW,
    SERVICES,
    destination,
    node,
    product,
    random_wave,
    wave_with_relaxation,
    whole_plan,
)

COLUMBUS, CHICAGO, NEW_YORK = 1, 2, 0
PRODUCTS = {"X": product("X", pounds=5.0)}


def taken(result: WaveResult) -> Counter[tuple[str, str]]:
    units: Counter[tuple[str, str]] = Counter()
    for plan in result.plans.values():
        for shipment in plan.shipments:
            for line in shipment.lines:
                units[(shipment.node_id, line.sku)] += line.quantity
    return units


def test_the_wave_gives_the_last_unit_to_the_order_it_saves_most_for() -> None:
    # One X in Columbus, one in Chicago. The first order is in Columbus (Chicago is one zone
    # further), the second in New York (Chicago is a zone further still, and dearer there).
    # Order by order, the first takes Columbus and the second pays for Chicago; together,
    # the first goes from Chicago and both save.
    offers = [
        Offer(node("dc-columbus", COLUMBUS), {"X": 1}),
        Offer(node("dc-chicago", CHICAGO), {"X": 1}),
    ]
    orders = [
        Order("near", (OrderLine("1", "X", 1),), destination(COLUMBUS)),
        Order("far", (OrderLine("1", "X", 1),), destination(NEW_YORK)),
    ]
    profiles = {o.id: LOWEST_COST for o in orders}

    result = route_wave(orders, offers, PRODUCTS, SERVICES, profiles, NOW, solve_with_highs)

    assert result.solver is not None and result.solver.status is SolveStatus.OPTIMAL
    baseline = sum(p.costs.objective for p in result.baseline.values())
    assert result.baseline["near"].shipments[0].node_id == "dc-columbus"
    assert result.plans["far"].shipments[0].node_id == "dc-columbus"
    assert result.plans["near"].shipments[0].node_id == "dc-chicago"
    assert result.objective < baseline
    assert result.fallback == ()


def test_the_wave_keeps_a_promise_before_it_fills_more_units_of_an_order_without_one() -> None:
    # Two X in Columbus. The first order wants both and has no promise; the second wants one
    # and was promised. Order by order the first takes both and the promise is missed.
    offers = [Offer(node("dc-columbus", COLUMBUS), {"X": 2})]
    orders = [
        Order("bulk", (OrderLine("1", "X", 2),), destination(COLUMBUS)),
        Order(
            "promised",
            (OrderLine("1", "X", 1),),
            destination(NEW_YORK),
            promise_by=NOW.date() + timedelta(days=10),
        ),
    ]
    profiles = {o.id: LOWEST_COST for o in orders}

    result = route_wave(orders, offers, PRODUCTS, SERVICES, profiles, NOW, solve_with_highs)

    assert result.baseline["promised"].shipments == ()
    assert [s.lines[0].quantity for s in result.plans["promised"].shipments] == [1]
    assert [s.lines[0].quantity for s in result.plans["bulk"].shipments] == [1]


def test_random_waves_never_take_more_than_there_is_nor_do_worse_than_one_by_one() -> None:
    rng = random.Random(5)
    for _ in range(25):
        orders, offers, products, profile = random_wave(rng)
        profiles = {o.id: profile for o in orders}
        result = route_wave(orders, offers, products, SERVICES, profiles, NOW, solve_with_highs)
        have = {(o.node.id, sku): n for o in offers for sku, n in o.available.items()}
        assert all(units <= have[key] for key, units in taken(result).items())
        for o in orders:
            plan = result.plans[o.id]
            problems = plan_violations(plan, o, offers, products, SERVICES, profile, NOW)
            assert [p for p in problems if "may give" not in p] == []
        short = sum(u.quantity for p in result.plans.values() for u in p.unfilled)
        short_before = sum(u.quantity for p in result.baseline.values() for u in p.unfilled)
        assert short <= short_before
        if short == short_before:
            baseline = sum(p.costs.objective for p in result.baseline.values())
            assert result.objective <= baseline + 1e-6


def test_a_solver_that_fails_leaves_the_one_by_one_plans_and_says_so() -> None:
    def broken(program: LinearProgram, **_: object) -> SolveResult:
        return SolveResult(SolveStatus.FAILED, None, None, None, None, 0.0, "out of memory")

    offers = [Offer(node("dc-columbus", COLUMBUS), {"X": 3})]
    orders = [Order("a", (OrderLine("1", "X", 1),), destination(NEW_YORK))]
    result = route_wave(orders, offers, PRODUCTS, SERVICES, {"a": LOWEST_COST}, NOW, broken)
    assert result.solver is not None and result.solver.status is SolveStatus.FAILED
    assert result.fallback == ("a",)
    assert result.plans == result.baseline


def test_the_relaxations_bound_never_exceeds_the_optimum_the_whole_mip_proves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wave, "RELAX_ABOVE", 0)  # every wave goes through the relaxation
    rng = random.Random(8)
    for _ in range(20):
        result, program = wave_with_relaxation(rng)
        solved = result.solver
        if program is None or solved is None:
            continue
        optimum = solve_with_highs(program, time_limit=10, gap=0.0).objective
        assert optimum is not None and solved.bound is not None and solved.objective is not None
        assert solved.bound <= optimum + 1e-6 <= solved.objective + 2e-6
        assert solved.gap == pytest.approx((solved.objective - solved.bound) / solved.objective)


def test_a_wave_through_the_relaxation_takes_no_more_than_there_is_and_beats_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wave, "RELAX_ABOVE", 0)

    def no_mip(program: LinearProgram, **_: object) -> SolveResult:
        return SolveResult(SolveStatus.NO_SOLUTION, None, None, None, None, 0.0, "stopped")

    rng = random.Random(9)
    for _ in range(25):
        orders, offers, products, profile = random_wave(rng)
        profiles = {o.id: profile for o in orders}
        result = route_wave(
            orders, offers, products, SERVICES, profiles, NOW, no_mip, relax=relax_with_highs
        )
        have = {(o.node.id, sku): n for o in offers for sku, n in o.available.items()}
        assert all(units <= have[key] for key, units in taken(result).items())
        for o in orders:
            problems = plan_violations(
                result.plans[o.id], o, offers, products, SERVICES, profile, NOW
            )
            assert [p for p in problems if "may give" not in p] == []
        short = sum(u.quantity for p in result.plans.values() for u in p.unfilled)
        assert short <= sum(u.quantity for p in result.baseline.values() for u in p.unfilled)


def test_the_plan_the_relaxation_path_returns_keeps_to_every_row_of_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wave, "RELAX_ABOVE", 0)
    rng = random.Random(12)
    for _ in range(25):
        result, program = wave_with_relaxation(rng)
        solved = result.solver
        if program is None or solved is None or solved.values is None:
            continue
        assert whole_plan(program, solved.values)
        assert keeps_to_rows(program, solved.values)


def test_neighbourhoods_never_make_the_plan_worse_nor_break_a_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prices of nothing prove nothing, so every wave is improved neighbourhood by neighbourhood,
    # two orders at a time, from the rounded plan.
    monkeypatch.setattr(wave, "RELAX_ABOVE", 0)
    monkeypatch.setattr(wave, "NEIGHBOURHOOD", 2)
    rng = random.Random(13)
    for _ in range(15):
        orders, offers, products, profile = random_wave(rng)
        profiles = {o.id: profile for o in orders}
        seen: list[tuple[LinearProgram, Relaxation]] = []

        def weak(program: LinearProgram, *, time_limit: float, into: Any = seen) -> Relaxation:
            found = relax_with_highs(program, time_limit=time_limit)
            nothing = Relaxation(found.values, np.zeros(len(program.row_names)), 0.0, "no prices")
            into.append((program, nothing))
            return nothing

        result = route_wave(
            orders, offers, products, SERVICES, profiles, NOW, solve_with_highs, relax=weak
        )
        solved = result.solver
        if not seen or solved is None or solved.values is None or solved.objective is None:
            continue
        program, relaxation = seen[0]
        assert keeps_to_rows(program, solved.values)
        # The solver's own bound counts only when a neighbourhood was the whole wave.
        assert solved.bound is not None and relaxation.bound(program) is not None
        assert relaxation.bound(program) <= solved.bound <= solved.objective + 1e-6
        assert "neighbourhoods improved" in solved.detail
        have = {(o.node.id, sku): n for o in offers for sku, n in o.available.items()}
        assert all(units <= have[key] for key, units in taken(result).items())


class SideBySide:
    """A solver and a relaxer that note the program relaxed and how many solves ran at once;
    the whole program's solve waits (up to 2 s) for a neighbourhood's to start."""

    def __init__(self) -> None:
        self.programs: list[LinearProgram] = []
        self.running = self.most = 0
        self.lock = threading.Lock()
        self.neighbourhood = threading.Event()

    def relax(self, program: LinearProgram, *, time_limit: float) -> Relaxation:
        self.programs.append(program)
        return relax_with_highs(program, time_limit=time_limit)

    def solve(self, program: LinearProgram, **options: Any) -> SolveResult:
        whole = bool(self.programs) and len(program.costs) == len(self.programs[0].costs)
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if whole:
                self.neighbourhood.wait(2.0)
            else:
                self.neighbourhood.set()
            return solve_with_highs(program, **options)
        finally:
            with self.lock:
                self.running -= 1


def test_a_mid_sized_wave_proves_its_gap_with_the_whole_mip_beside_the_neighbourhoods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every wave takes the path of 2,000 orders: the relaxation, then the whole program's MIP in
    # the background while neighbourhoods improve the plan in the foreground.
    monkeypatch.setattr(wave, "START_ABOVE", 0)
    monkeypatch.setattr(wave, "RELAX_ABOVE", 10**9)
    rng = random.Random(14)
    checked = side_by_side = 0
    for _ in range(15):
        orders, offers, products, profile = random_wave(rng)
        watch = SideBySide()
        profiles = {o.id: profile for o in orders}
        # Gap 0: the relaxation's bound alone proves no wave.
        result = route_wave(
            orders,
            offers,
            products,
            SERVICES,
            profiles,
            NOW,
            watch.solve,
            gap=0.0,
            relax=watch.relax,
        )
        solved = result.solver
        if not watch.programs or solved is None or solved.values is None:
            continue
        program = watch.programs[0]
        optimum = solve_with_highs(program, time_limit=10, gap=0.0).objective
        assert optimum is not None and solved.bound is not None and solved.objective is not None
        assert solved.bound <= optimum + 1e-6 <= solved.objective + 2e-6
        assert whole_plan(program, solved.values)
        assert keeps_to_rows(program, solved.values)
        checked += 1
        side_by_side += watch.most == 2  # the whole MIP and a neighbourhood at once
    assert checked >= 10 and side_by_side >= 5


def test_a_wave_prices_shipments_beyond_an_orders_first_unless_told_not_to() -> None:
    rng = random.Random(15)
    priced_waves = 0
    for _ in range(20):
        orders, offers, products, profile = random_wave(rng)
        profiles = {o.id: profile for o in orders}
        rows: dict[float, list[str]] = {}
        for split_price in (wave.SPLIT_PRICE, 0.0):
            seen: list[LinearProgram] = []

            def solver(program: LinearProgram, into: Any = seen, **options: Any) -> SolveResult:
                into.append(program)
                return solve_with_highs(program, **options)

            route_wave(
                orders, offers, products, SERVICES, profiles, NOW, solver, split_price=split_price
            )
            rows[split_price] = seen[0].row_names if seen else []
        # Only an order that could ship from two nodes or more gets the row.
        assert "shipments beyond the first" not in rows[0.0]
        priced_waves += "shipments beyond the first" in rows[wave.SPLIT_PRICE]
    assert priced_waves >= 5
