"""The seam between the sourcing models and a MIP solver: a model as plain arrays in, our own
status and values out. Values are read only when the status says a solution exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: A row side at or beyond this is no side at all (a one-sided row).
INFINITE = 1e29


@dataclass
class LinearProgram:
    """min c·x subject to row_lower ≤ A x ≤ row_upper, lower ≤ x ≤ upper, some x integer.

    A is given row by row (CSR: `starts`, `indices`, `values`); each row is named after the
    business rule it states, so a report can say which rule binds.
    """

    costs: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)

    def add_variable(self, cost: float, upper: float = 1.0, *, integer: bool = True) -> int:
        self.costs.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.costs) - 1

    def add_row(
        self, name: str, terms: Sequence[tuple[int, float]], lower: float, upper: float
    ) -> int:
        self.starts.append(len(self.indices))
        for index, value in terms:
            self.indices.append(index)
            self.values.append(value)
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.row_names.append(name)
        return len(self.row_names) - 1

    @property
    def size(self) -> tuple[int, int, int]:
        """(variables, rows, nonzeros)."""
        return len(self.costs), len(self.row_names), len(self.indices)


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven within the gap asked for
    FEASIBLE = "feasible"  # stopped by the time limit with a solution: see the gap
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped before any solution was found
    FAILED = "failed"  # the solver reported an error


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    values: Floats | None  # only when status is OPTIMAL or FEASIBLE
    objective: float | None
    bound: float | None  # the best proven lower bound on the objective
    gap: float | None  # (objective - bound) / objective
    seconds: float
    detail: str = ""

    @property
    def has_solution(self) -> bool:
        return self.values is not None and self.status in (
            SolveStatus.OPTIMAL,
            SolveStatus.FEASIBLE,
        )


@dataclass(frozen=True)
class Relaxation:
    """The LP relaxation's solution and row prices, exact or stopped early: any row prices
    give a lower bound (`lagrangian_bound`), the better the prices the closer the bound."""

    values: Floats | None  # the relaxation's column values (may be slightly infeasible)
    duals: Floats | None  # one price per row of `priced`
    seconds: float
    detail: str = ""
    #: the program the prices are for, when not the one relaxed: a presolved form of it with
    #: the same optimal value, whose objective is `offset` above its own
    priced: LinearProgram | None = None
    offset: float = 0.0

    def bound(self, program: LinearProgram) -> float | None:
        """The proven lower bound on `program`'s optimum these prices give, if any."""
        if self.duals is None:
            return None
        return lagrangian_bound(self.priced or program, self.duals) + self.offset


def lagrangian_bound(program: LinearProgram, duals: Floats) -> float:
    """A proven lower bound on min c·x over the program (integer or not) from any row prices y:

        c·x ≥ Σ_r y_r·(the row's side y_r presses on) + Σ_j min(d_j·lower_j, d_j·upper_j),
        d = c − Aᵀy,

    for every x the rows and bounds allow (weak duality of the Lagrangian relaxation of all
    rows; -inf when a column unbounded on one side is priced towards it). Prices
    of the wrong sign for a one-sided row are taken as 0, which keeps the bound valid."""
    costs = np.asarray(program.costs, dtype=np.float64)
    lower = np.asarray(program.lower, dtype=np.float64)
    upper = np.asarray(program.upper, dtype=np.float64)
    row_lower = np.asarray(program.row_lower, dtype=np.float64)
    row_upper = np.asarray(program.row_upper, dtype=np.float64)
    prices = np.nan_to_num(np.asarray(duals, dtype=np.float64).copy())
    prices[(row_lower <= -INFINITE) & (prices > 0)] = 0.0
    prices[(row_upper >= INFINITE) & (prices < 0)] = 0.0
    counts = np.diff(np.append(np.asarray(program.starts, dtype=np.int64), len(program.indices)))
    row_of = np.repeat(np.arange(len(counts)), counts)
    priced = np.asarray(program.values, dtype=np.float64) * prices[row_of]
    reduced = costs - np.bincount(
        np.asarray(program.indices, dtype=np.int64), weights=priced, minlength=len(costs)
    )
    pressed = np.where(prices > 0, row_lower, np.where(prices < 0, row_upper, 0.0))
    rows = prices * np.clip(pressed, -INFINITE, INFINITE)
    # A column with no bound on the side its reduced cost pulls to makes the bound -inf.
    columns = np.where(reduced > 0, reduced * lower, np.where(reduced < 0, reduced * upper, 0.0))
    terms = np.concatenate([rows, columns])
    # Rounding in the sums: give away far more than float64 can lose.
    return float(terms.sum() - 1e-9 * np.abs(terms).sum())


def fixed_but(program: LinearProgram, free: Ints, values: Floats) -> LinearProgram:
    """The program over the columns `free` (ascending) alone, every other column fixed at its
    value in `values`: each row keeps its free terms, its sides moved by what the fixed columns
    take; rows with no free column are dropped (`values` must keep to them)."""
    count, rows = len(program.costs), len(program.row_names)
    is_free = np.zeros(count, dtype=bool)
    is_free[free] = True
    indices = np.asarray(program.indices, dtype=np.int64)
    coefficients = np.asarray(program.values, dtype=np.float64)
    counts = np.diff(np.append(np.asarray(program.starts, dtype=np.int64), len(indices)))
    row_of = np.repeat(np.arange(rows), counts)
    taken = np.where(is_free[indices], 0.0, coefficients * values[indices])
    fixed = np.bincount(row_of, weights=taken, minlength=rows)
    entries = is_free[indices]
    kept = np.flatnonzero(np.bincount(row_of[entries], minlength=rows) > 0)
    column = np.full(count, -1, dtype=np.int64)
    column[free] = np.arange(len(free))
    per_row = np.bincount(np.searchsorted(kept, row_of[entries]), minlength=len(kept))
    lower = np.asarray(program.row_lower, dtype=np.float64)[kept]
    upper = np.asarray(program.row_upper, dtype=np.float64)[kept]
    lower = np.where(lower <= -INFINITE, lower, lower - fixed[kept])
    upper = np.where(upper >= INFINITE, upper, upper - fixed[kept])
    chosen = np.asarray(free, dtype=np.int64)
    return LinearProgram(
        costs=np.asarray(program.costs)[chosen].tolist(),
        lower=np.asarray(program.lower)[chosen].tolist(),
        upper=np.asarray(program.upper)[chosen].tolist(),
        integer=np.asarray(program.integer, dtype=bool)[chosen].tolist(),
        starts=np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int64).tolist()
        if len(kept)
        else [],
        indices=column[indices[entries]].tolist(),
        values=coefficients[entries].tolist(),
        row_lower=lower.tolist(),
        row_upper=upper.tolist(),
        row_names=[program.row_names[r] for r in kept],
    )


def keeps_to_rows(program: LinearProgram, values: Floats, tolerance: float = 1e-6) -> bool:
    """Whether `values` keep to every row and column bound of the program."""
    indices = np.asarray(program.indices, dtype=np.int64)
    counts = np.diff(np.append(np.asarray(program.starts, dtype=np.int64), len(indices)))
    row_of = np.repeat(np.arange(len(counts)), counts)
    level = np.bincount(
        row_of, weights=np.asarray(program.values) * values[indices], minlength=len(counts)
    )
    return bool(
        np.all(level >= np.asarray(program.row_lower) - tolerance)
        and np.all(level <= np.asarray(program.row_upper) + tolerance)
        and np.all(values >= np.asarray(program.lower) - tolerance)
        and np.all(values <= np.asarray(program.upper) + tolerance)
    )


class Relaxer(Protocol):
    def __call__(self, program: LinearProgram, *, time_limit: float) -> Relaxation: ...


class Solver(Protocol):
    def __call__(
        self,
        program: LinearProgram,
        *,
        time_limit: float,
        gap: float,
        start: Sequence[float] | None = None,
    ) -> SolveResult: ...
