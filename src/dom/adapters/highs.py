"""HiGHS (through highspy) behind the solver seam of `dom.domain.sourcing.solver`."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection

import highspy
import numpy as np

from dom.domain.sourcing.solver import LinearProgram, Relaxation, SolveResult, SolveStatus

#: Threads HiGHS may use: the machine's two cores are shared with the web workers.
THREADS = 1
#: Seconds a solve in its own process may run past its time limit (starting the process and
#: loading the model included) before the process is stopped.
GRACE = 5.0
#: Programs with up to this many columns are solved in the calling process by `solve_guarded`:
#: starting a process costs 0.3-0.5 s, and a wave's neighbourhoods (6,000-20,000 columns) are
#: solved by the dozen; HiGHS overran its time limit only on whole waves of 20,000 orders
#: (some 400,000 columns).
IN_PROCESS_COLUMNS = 40_000


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
    highs = _loaded(program, time_limit)
    highs.setOptionValue("mip_rel_gap", float(gap))
    _integer(highs, program)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    return _result(highs, began, gap)


def solve_in_child(
    program: LinearProgram,
    *,
    time_limit: float,
    gap: float,
    start: Sequence[float] | None = None,
) -> SolveResult:
    """`solve_with_highs` in a process of its own, stopped when it is still running `GRACE`
    seconds past `time_limit`: HiGHS does not check its time limit in every step (in
    `setupCliquePartition` it ran minutes past it on waves of 20,000 orders). A stopped solve
    has no solution (`NO_SOLUTION`): the caller keeps the plan it started from."""
    began = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(
        target=_solve_and_send,
        args=(sending, program, time_limit, gap, None if start is None else list(start)),
        daemon=True,
    )
    process.start()
    sending.close()
    try:
        if receiving.poll(time_limit + GRACE):
            result: SolveResult = receiving.recv()
            return replace(result, seconds=time.perf_counter() - began)
        process.kill()
        late = time.perf_counter() - began - time_limit
        text = f"stopped: still running {late:.0f} s past its {time_limit:.0f} s time limit"
        return SolveResult(SolveStatus.NO_SOLUTION, None, None, None, None, late + time_limit, text)
    except EOFError:  # the process died without an answer (out of memory, killed)
        process.join(1.0)
        text = f"the solver's process ended without an answer (exit code {process.exitcode})"
        return SolveResult(
            SolveStatus.FAILED, None, None, None, None, time.perf_counter() - began, text
        )
    finally:
        receiving.close()
        process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join()


def solve_guarded(
    program: LinearProgram,
    *,
    time_limit: float,
    gap: float,
    start: Sequence[float] | None = None,
) -> SolveResult:
    """`solve_with_highs` here for programs of up to `IN_PROCESS_COLUMNS` columns, else
    `solve_in_child` (stopped when it runs too far past its time limit)."""
    solve = solve_with_highs if len(program.costs) <= IN_PROCESS_COLUMNS else solve_in_child
    return solve(program, time_limit=time_limit, gap=gap, start=start)


def _solve_and_send(
    sending: Connection,
    program: LinearProgram,
    time_limit: float,
    gap: float,
    start: list[float] | None,
) -> None:
    try:
        sending.send(solve_with_highs(program, time_limit=time_limit, gap=gap, start=start))
    finally:
        sending.close()


def relax_with_highs(program: LinearProgram, *, time_limit: float) -> Relaxation:
    """The LP relaxation of `program` as HiGHS's MIP presolve leaves it, by HiGHS's first-order
    method (PDLP), stopped at `time_limit` if not done.

    The MIP presolve (probing, clique and coefficient tightening) keeps the program's optimal
    value and tightens its relaxation a lot: on a 2,000-order wave the relaxation's bound goes
    from 898,631 to 1,058,257 against an optimum of 1,064,459. PDLP's row prices are good long
    before its solution is exact (the simplex and the interior-point method take 25-60 s on a
    5,000-order wave), and any prices give a proven bound on the presolved program
    (`lagrangian_bound` plus its objective offset). The solution is mapped back to the
    program's columns (HiGHS's postsolve) to guide the rounding."""
    began = time.perf_counter()
    highs = _loaded(program, time_limit)
    _integer(highs, program)
    reduced = highs.presolve()
    status = highs.getModelPresolveStatus()
    usable = (
        highspy.HighsPresolveStatus.kReduced,
        highspy.HighsPresolveStatus.kNotReduced,
        highspy.HighsPresolveStatus.kReducedToEmpty,
    )
    if reduced == highspy.HighsStatus.kError or status not in usable:
        return Relaxation(None, None, time.perf_counter() - began, f"presolve: {status}")
    presolved = highs.getPresolvedLp()
    priced = _program_of(presolved)
    relaxed = highspy.Highs()
    relaxed.setOptionValue("output_flag", False)
    relaxed.setOptionValue("threads", THREADS)
    relaxed.setOptionValue("solver", "pdlp")
    # Presolve off: HiGHS returns no solution from a presolved PDLP run stopped at its limit.
    relaxed.setOptionValue("presolve", "off")
    left = time_limit - (time.perf_counter() - began)
    relaxed.setOptionValue("time_limit", max(1.0, left))
    presolved.integrality_ = []
    relaxed.passModel(presolved)
    if presolved.num_col_:
        relaxed.run()
    text = relaxed.modelStatusToString(relaxed.getModelStatus())
    solution = relaxed.getSolution()
    if presolved.num_col_ and (
        not solution.dual_valid or len(solution.row_dual) != presolved.num_row_
    ):
        return Relaxation(None, None, time.perf_counter() - began, text)
    duals = np.array(solution.row_dual) if presolved.num_col_ else np.zeros(presolved.num_row_)
    back = highspy.HighsSolution()
    back.col_value = list(solution.col_value) if presolved.num_col_ else []
    back.row_value = list(solution.row_value) if presolved.num_col_ else []
    back.value_valid = True
    values = None
    if highs.postsolve(back) != highspy.HighsStatus.kError:
        mapped = highs.getSolution()
        if mapped.value_valid and len(mapped.col_value) == len(program.costs):
            values = np.array(mapped.col_value)
    seconds = time.perf_counter() - began
    detail = f"presolved to {presolved.num_col_:,} columns, {presolved.num_row_:,} rows; {text}"
    return Relaxation(values, duals, seconds, detail, priced, float(presolved.offset_))


def _program_of(lp: highspy.HighsLp) -> LinearProgram:
    """HiGHS's LP (the presolved one) as our program, rows in CSR order."""
    matrix = lp.a_matrix_
    starts = np.array(matrix.start_, dtype=np.int64)
    index = np.array(matrix.index_, dtype=np.int64)
    value = np.array(matrix.value_, dtype=np.float64)
    by_column = matrix.format_ == highspy.MatrixFormat.kColwise
    major = lp.num_col_ if by_column else lp.num_row_
    # Reduced to nothing, HiGHS may keep stale starts and entries: there are none.
    whole = len(starts) == major + 1 and lp.num_col_ > 0 and lp.num_row_ > 0
    counts = np.diff(starts) if whole else np.zeros(major, dtype=np.int64)
    index, value = index[: counts.sum()], value[: counts.sum()]
    if by_column:
        row_of, col_of = index, np.repeat(np.arange(major), counts)
    else:
        row_of, col_of = np.repeat(np.arange(major), counts), index
    order = np.argsort(row_of, kind="stable")
    per_row = np.bincount(row_of, minlength=lp.num_row_)
    big = 1e30
    return LinearProgram(
        costs=list(lp.col_cost_),
        lower=np.clip(np.array(lp.col_lower_), -big, big).tolist(),
        upper=np.clip(np.array(lp.col_upper_), -big, big).tolist(),
        integer=[False] * lp.num_col_,
        starts=(np.cumsum(per_row) - per_row).tolist(),
        indices=col_of[order].tolist(),
        values=value[order].tolist(),
        row_lower=np.clip(np.array(lp.row_lower_), -big, big).tolist(),
        row_upper=np.clip(np.array(lp.row_upper_), -big, big).tolist(),
        row_names=["presolved"] * lp.num_row_,
    )


def _integer(highs: highspy.Highs, program: LinearProgram) -> None:
    integer = np.flatnonzero(np.array(program.integer, dtype=bool)).astype(np.int32)
    if len(integer):
        highs.changeColsIntegrality(
            len(integer),
            integer,
            np.full(len(integer), highspy.HighsVarType.kInteger),
        )


def _loaded(program: LinearProgram, time_limit: float) -> highspy.Highs:
    """A quiet HiGHS holding `program`'s columns and rows (no integrality yet)."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("threads", THREADS)
    count = len(program.costs)
    inf = highspy.kHighsInf
    highs.addVars(count, np.array(program.lower), np.minimum(np.array(program.upper), inf))
    highs.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(program.costs))
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
    return highs


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
    if status == highspy.HighsModelStatus.kOptimal:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else objective
        gap = max(0.0, float(info.mip_gap)) if np.isfinite(info.mip_gap) else 0.0
        return SolveResult(SolveStatus.OPTIMAL, values, objective, bound, gap, seconds, text)
    if not (np.isfinite(info.mip_dual_bound) and np.isfinite(info.mip_gap)):
        # Stopped before HiGHS had any bound (in presolve or the root LP): nothing is proven.
        return SolveResult(SolveStatus.FEASIBLE, values, objective, None, None, seconds, text)
    bound, gap = float(info.mip_dual_bound), max(0.0, float(info.mip_gap))
    # Stopped by the time limit with the gap already proven (a sub-MIP found the plan just
    # before it) is proven all the same: the bound is HiGHS's own.
    kind = SolveStatus.OPTIMAL if gap <= asked else SolveStatus.FEASIBLE
    return SolveResult(kind, values, objective, bound, gap, seconds, text)


def prices_with_highs(program: LinearProgram, *, time_limit: float) -> Relaxation:
    """The LP relaxation of `program` as it stands (no presolve of its own rows' meaning: the
    row prices are for `program`'s rows), by the dual simplex; no prices when it stops short.

    For small programs re-solved often, where what matters is the price of each named row
    (the future value of a node's stock) rather than a bound on a large wave."""
    began = time.perf_counter()
    highs = _loaded(program, time_limit)
    highs.setOptionValue("solver", "simplex")
    highs.run()
    status = highs.getModelStatus()
    text = highs.modelStatusToString(status)
    solution = highs.getSolution()
    if status != highspy.HighsModelStatus.kOptimal or not solution.dual_valid:
        return Relaxation(None, None, time.perf_counter() - began, text)
    return Relaxation(
        np.array(solution.col_value),
        np.array(solution.row_dual),
        time.perf_counter() - began,
        text,
    )
