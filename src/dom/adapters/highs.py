"""HiGHS (through highspy) behind the solver seam of `dom.domain.sourcing.solver`."""

from __future__ import annotations

import time
from collections.abc import Sequence

import highspy
import numpy as np

from dom.domain.sourcing.solver import LinearProgram, SolveResult, SolveStatus

#: Threads HiGHS may use: the machine's two cores are shared with the web workers.
THREADS = 1


def solve_with_highs(
    program: LinearProgram,
    *,
    time_limit: float,
    gap: float,
    start: Sequence[float] | None = None,
) -> SolveResult:
    """Solve `program` within `time_limit` seconds to a relative `gap`; `start` is a feasible
    solution to begin from (a warm start), if any."""
    began = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("mip_rel_gap", float(gap))
    highs.setOptionValue("threads", THREADS)
    count = len(program.costs)
    inf = highspy.kHighsInf
    highs.addVars(count, np.array(program.lower), np.minimum(np.array(program.upper), inf))
    highs.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(program.costs))
    integer = np.flatnonzero(np.array(program.integer, dtype=bool)).astype(np.int32)
    if len(integer):
        highs.changeColsIntegrality(
            len(integer),
            integer,
            np.full(len(integer), highspy.HighsVarType.kInteger),
        )
    rows = len(program.row_names)
    if rows:
        highs.addRows(
            rows,
            np.array(program.row_lower),
            np.array(program.row_upper),
            len(program.indices),
            np.array(program.starts, dtype=np.int32),
            np.array(program.indices, dtype=np.int32),
            np.array(program.values),
        )
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    return _result(highs, began, gap)


def _result(highs: highspy.Highs, began: float, asked: float) -> SolveResult:
    status = highs.getModelStatus()
    info = highs.getInfo()
    seconds = time.perf_counter() - began
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    text = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kInfeasible:
        return SolveResult(SolveStatus.INFEASIBLE, None, None, None, None, seconds, text)
    if not found:
        kind = (
            SolveStatus.NO_SOLUTION
            if status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
            else SolveStatus.FAILED
        )
        return SolveResult(kind, None, None, None, None, seconds, text)
    values = np.array(highs.getSolution().col_value)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else objective
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else 0.0
    # Stopped by the time limit with the gap already proven (a sub-MIP found the plan just
    # before it) is proven all the same: the bound is HiGHS's own.
    optimal = status == highspy.HighsModelStatus.kOptimal or gap <= asked
    kind = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
    return SolveResult(kind, values, objective, bound, max(0.0, gap), seconds, text)
