"""How a wave's plan is improved after the relaxation: which orders and columns are disputed,
how they are grouped, and that the better of two plans and of two bounds is the one kept."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from dom.adapters.highs import solve_with_highs
from dom.domain.sourcing import wave
from dom.domain.sourcing.solver import LinearProgram, SolveResult, SolveStatus
from tests.support.sourcing import wave_with_relaxation, whole_plan


def two_orders() -> tuple[LinearProgram, dict[int, list[int]]]:
    """Two orders of one line each, two nodes and a column left unfilled each, one stock row."""
    program = LinearProgram()
    owned: dict[int, list[int]] = {}
    for o in range(2):
        here, there = program.add_variable(1.0), program.add_variable(2.0)
        left = program.add_variable(100.0, integer=False)
        program.add_row("each line once", [(here, 1.0), (there, 1.0), (left, 1.0)], 1.0, 1.0)
        owned[o] = [here, there, left]
    program.add_row("stock here", [(owned[0][0], 1.0), (owned[1][0], 1.0)], 0.0, 1.0)
    return program, owned


def test_an_order_planned_as_the_relaxation_has_it_is_not_disputed() -> None:
    _, owned = two_orders()
    plan = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    relaxed = np.array([1.0, 0.0, 0.0, 0.5, 0.5, 0.0])
    assert wave._disputed(owned, plan, relaxed) == {1}


def test_the_disputed_columns_are_those_apart_and_their_orders_unfilled_lines() -> None:
    program, owned = two_orders()
    plan = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    relaxed = np.array([0.95, 0.0, 0.05, 0.5, 0.5, 0.0])
    # Order 0 agrees within `DISPUTED`: all its columns stay as planned. Order 1 may move
    # between its nodes, and leave its line unfilled (a continuous column).
    assert wave._disputed_columns(program, owned, plan, relaxed) == [3, 4, 5]


def test_nothing_is_disputed_when_the_plan_is_the_relaxations_solution() -> None:
    program, owned = two_orders()
    plan = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    assert wave._disputed_columns(program, owned, plan, plan.copy()) == []
    assert wave._disputed(owned, plan, plan.copy()) == set()


def test_orders_are_grouped_by_the_node_the_relaxation_ships_most_of_them_from() -> None:
    index = wave._Index(
        x={(0, 0, "east"): 0, (0, 0, "west"): 1, (1, 0, "east"): 2, (2, 0, "west"): 3},
        y={},
        u={},
        short={},
    )
    relaxed = np.array([0.3, 0.7, 1.0, 1.0])
    nodes = {"west": -120.0, "east": -75.0}
    assert wave._by_home({0, 1, 2}, index, relaxed, nodes) == [0, 2, 1]


def test_the_solvers_plan_is_kept_only_when_it_costs_less_and_the_best_bound_counts() -> None:
    program, _ = two_orders()
    ours = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])  # costs 3
    dearer = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0])  # costs 4
    cheaper = ours.copy()
    stopped = SolveResult(SolveStatus.FEASIBLE, dearer, 4.0, 2.5, 0.375, 1.0, "time limit")
    kept = wave._best_of(program, stopped, ours, 2.9, 0.005, time.perf_counter(), "")
    assert kept.values is not None and list(kept.values) == list(ours)
    assert kept.bound == 2.9 and kept.gap == pytest.approx((3.0 - 2.9) / 3.0)
    assert kept.status is SolveStatus.FEASIBLE
    proven = SolveResult(SolveStatus.OPTIMAL, cheaper, 3.0, 3.0, 0.0, 1.0, "optimal")
    better = wave._best_of(program, proven, ours, 2.9, 0.005, time.perf_counter(), "")
    assert better.bound == 3.0 and better.gap == 0.0 and better.status is SolveStatus.OPTIMAL


def test_a_solver_plan_that_breaks_a_row_is_not_kept() -> None:
    program, _ = two_orders()
    ours = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    both_here = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])  # costs 2, but one unit here only
    wrong = SolveResult(SolveStatus.FEASIBLE, both_here, 2.0, None, None, 1.0, "")
    kept = wave._best_of(program, wrong, ours, None, 0.005, time.perf_counter(), "")
    assert kept.values is not None and list(kept.values) == list(ours)
    assert kept.bound is None and kept.gap is None and kept.status is SolveStatus.FEASIBLE


def test_a_wave_below_the_relaxations_size_keeps_to_every_row_and_never_claims_more_than_proven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Between `START_ABOVE` and `RELAX_ABOVE` with a relaxation: its bound, a plan improved from
    # its rounding, then the whole MIP from that plan; the best plan and the best bound are kept.
    monkeypatch.setattr(wave, "START_ABOVE", 0)
    monkeypatch.setattr(wave, "NEIGHBOURHOOD", 2)
    monkeypatch.setattr(wave, "DISPUTED_GROUP", 2)
    rng = random.Random(17)
    checked = 0
    for _ in range(20):
        result, program = wave_with_relaxation(rng)
        solved = result.solver
        if program is None or solved is None or solved.values is None:
            continue
        optimum = solve_with_highs(program, time_limit=10, gap=0.0).objective
        assert optimum is not None and solved.objective is not None and solved.bound is not None
        assert solved.bound <= optimum + 1e-6 <= solved.objective + 2e-6
        assert whole_plan(program, solved.values)
        assert wave.keeps_to_rows(program, solved.values)
        checked += 1
    assert checked >= 10


def test_the_supported_columns_are_those_plan_or_relaxation_use_and_each_lines_cheapest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wave, "CHEAPEST", 1)
    program = LinearProgram()
    # One order of one line (its line and shipment columns are one) at four nodes, dearest
    # last; then its unfilled line (continuous).
    a, b, c, d = (program.add_variable(cost) for cost in (3.0, 1.0, 5.0, 9.0))
    left = program.add_variable(100.0, integer=False)
    index = wave._Index(
        x={(0, 0, "a"): a, (0, 0, "b"): b, (0, 0, "c"): c, (0, 0, "d"): d},
        y={(0, "a"): a, (0, "b"): b, (0, "c"): c, (0, "d"): d},
        u={(0, 0): left},
        short={},
    )
    plan = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    relaxed = np.array([0.0, 0.0, 0.3, 0.0, 0.7])
    # a: planned; b: the cheapest; c: the relaxation's; left: continuous; d: none of these.
    assert wave._supported_columns(program, index, plan, relaxed) == [a, b, c, left]
