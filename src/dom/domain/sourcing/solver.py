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


class Solver(Protocol):
    def __call__(
        self,
        program: LinearProgram,
        *,
        time_limit: float,
        gap: float,
        start: Sequence[float] | None = None,
    ) -> SolveResult: ...
