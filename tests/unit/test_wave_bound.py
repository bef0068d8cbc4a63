"""The wave's proof: a Lagrangian bound from any row prices never exceeds the best plan, and a
solve in its own process answers like one in this process, or is stopped at its deadline."""

from __future__ import annotations

import random
from typing import NoReturn

import numpy as np
import pytest

from dom.adapters import highs
from dom.adapters.highs import relax_with_highs, solve_guarded, solve_in_child, solve_with_highs
from dom.domain.sourcing.solver import (
    LinearProgram,
    SolveStatus,
    fixed_but,
    keeps_to_rows,
    lagrangian_bound,
)


def assignment(rng: random.Random) -> LinearProgram:
    """Items to bins of scarce capacity (or left out at a price): the wave's shape in small."""
    program = LinearProgram()
    items, bins = rng.randint(2, 7), rng.randint(1, 4)
    room: dict[int, list[tuple[int, float]]] = {b: [] for b in range(bins)}
    for _ in range(items):
        row = []
        for b in rng.sample(range(bins), rng.randint(1, bins)):
            x = program.add_variable(rng.uniform(1, 30))
            row.append((x, 1.0))
            room[b].append((x, float(rng.randint(1, 3))))
        left_out = program.add_variable(100.0, integer=False)
        program.add_row("each item once", [*row, (left_out, 1.0)], 1.0, 1.0)
    for b, taking in room.items():
        if taking:
            program.add_row(f"room in bin {b}", taking, 0.0, float(rng.randint(1, 4)))
    return program


def test_any_row_prices_bound_the_optimum_from_below() -> None:
    rng = random.Random(3)
    for _ in range(60):
        program = assignment(rng)
        best = solve_with_highs(program, time_limit=10, gap=0.0)
        assert best.status is SolveStatus.OPTIMAL and best.objective is not None
        rows = len(program.row_names)
        for _ in range(5):
            prices = np.array([rng.uniform(-200, 200) for _ in range(rows)])
            assert lagrangian_bound(program, prices) <= best.objective + 1e-6


def test_the_presolved_relaxations_prices_bound_the_mip_optimum_from_below() -> None:
    rng = random.Random(11)
    for _ in range(30):
        program = assignment(rng)
        best = solve_with_highs(program, time_limit=10, gap=0.0)
        relaxation = relax_with_highs(program, time_limit=10)
        bound = relaxation.bound(program)
        assert bound is not None and best.objective is not None
        assert bound <= best.objective + 1e-6
        assert bound > -1e-6  # every cost is positive


def test_a_row_price_of_the_wrong_sign_is_ignored_not_trusted() -> None:
    program = LinearProgram()
    x = program.add_variable(5.0)
    program.add_row("at most one", [(x, 1.0)], -1e30, 1.0)
    # A positive price on a row with no lower side would claim an infinite bound.
    assert lagrangian_bound(program, np.array([1e6])) == pytest.approx(0.0)


def test_a_solve_in_its_own_process_answers_as_one_here() -> None:
    program = assignment(random.Random(5))
    here = optimum_here(program)
    there = solve_in_child(program, time_limit=10, gap=0.0)
    assert there.status is SolveStatus.OPTIMAL and there.values is not None
    assert there.objective == pytest.approx(here)


def optimum_here(program: LinearProgram) -> float:
    result = solve_with_highs(program, time_limit=10, gap=0.0)
    assert result.objective is not None
    return result.objective


def test_a_solve_still_running_past_its_deadline_is_stopped_without_a_solution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(highs, "GRACE", 0.0)
    result = solve_in_child(assignment(random.Random(5)), time_limit=0.0, gap=0.0)
    assert result.status is SolveStatus.NO_SOLUTION
    assert result.values is None and "stopped" in result.detail


def test_a_program_with_columns_fixed_has_the_optimum_of_the_whole_with_those_bounds() -> None:
    rng = random.Random(21)
    for _ in range(40):
        program = assignment(rng)
        plan = solve_with_highs(program, time_limit=10, gap=0.0)
        assert plan.values is not None
        values = np.round(plan.values)
        count = len(program.costs)
        free = np.array(sorted(rng.sample(range(count), rng.randint(1, count))), dtype=np.int64)
        part = fixed_but(program, free, values)
        pinned = LinearProgram(**{**vars(program)})
        pinned.lower = [
            v if j not in set(free) else lo
            for j, (v, lo) in enumerate(zip(values, program.lower, strict=True))
        ]
        pinned.upper = [
            v if j not in set(free) else up
            for j, (v, up) in enumerate(zip(values, program.upper, strict=True))
        ]
        alone = solve_with_highs(part, time_limit=10, gap=0.0)
        whole = solve_with_highs(pinned, time_limit=10, gap=0.0)
        assert (
            alone.objective is not None and whole.objective is not None and alone.values is not None
        )
        fixed_cost = sum(program.costs[j] * values[j] for j in range(count) if j not in set(free))
        assert alone.objective + fixed_cost == pytest.approx(whole.objective)
        merged = values.copy()
        merged[free] = np.round(alone.values)
        assert keeps_to_rows(program, merged)


def test_values_that_break_a_row_do_not_keep_to_the_program() -> None:
    program = LinearProgram()
    x, y = program.add_variable(1.0), program.add_variable(1.0)
    program.add_row("room for one", [(x, 1.0), (y, 1.0)], 0.0, 1.0)
    assert keeps_to_rows(program, np.array([1.0, 0.0]))
    assert not keeps_to_rows(program, np.array([1.0, 1.0]))


def test_a_guarded_solve_keeps_small_programs_in_this_process_and_sends_large_ones_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = assignment(random.Random(5))

    def no_process(*_: object, **__: object) -> NoReturn:
        raise AssertionError("a small program started a process")

    with monkeypatch.context() as patched:
        patched.setattr(highs, "solve_in_child", no_process)
        here = solve_guarded(program, time_limit=10, gap=0.0)
    assert here.objective == pytest.approx(optimum_here(program))
    # Above the size, a solve still running past its deadline is stopped, as in its own process.
    monkeypatch.setattr(highs, "IN_PROCESS_COLUMNS", 0)
    monkeypatch.setattr(highs, "GRACE", 0.0)
    there = solve_guarded(program, time_limit=0.0, gap=0.0)
    assert there.status is SolveStatus.NO_SOLUTION and "stopped" in there.detail
