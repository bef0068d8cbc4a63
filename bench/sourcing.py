"""Sourcing (issue #4): real-time decision latency of the engine, the quality of batch waves
against the order-by-order baselines, and how waves scale.

- Latency: `engine.route` under lowest-cost, in process, one order at a time, on a generated
  200-node network (20 DCs, 180 stores; 2,000 SKUs, stock for a generated day of 5,000 orders,
  slack capacity); the rate and date books shared by every call, the offers built once.
- Quality: `route_wave` (HiGHS, 60 s, gap 0.5 %) over every order of a generated day (100
  nodes, 2,000 SKUs, tight capacity, the generator's scarce stock), against the myopic baseline
  the wave starts from and the nearest baseline order by order; measured as `dom simulate`
  measures a replay, every plan checked by `plan_violations`.
- Scale: the same waves for more orders, each with its solver time limit: stage times, model
  size, peak memory, gap.

Every measurement runs in a process of its own (`bench/sourcing_worker.py`), one at a time.
With `--baseline-src`, the latency is measured `--repeat` times for each tree, alternately (the
baseline first), so both see the same load on the machine; the report gives per kind the
median over the runs of each run's median and p99, and the median of the run-by-run ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.sourcing_worker import (
    TYPICAL_PROFILED,
    WARM_UP,
    Hot,
    LatencyResult,
    PolicyResult,
    WaveResult,
    progress_file,
)
from bench.stats import Latencies
from dom.domain.sourcing.wave import UNFILLED_PER_UNIT

ROOT = Path(__file__).resolve().parent.parent
LATENCY_P99_MS = 10.0
WAVE_GAP = 0.005
WAVE_SECONDS = 60.0
BELOW_MYOPIC = 0.02  # cost per unit shipped, at least this far below the myopic baseline
#: "Far below nearest", read as at least this far below it per unit shipped.
BELOW_NEAREST = 0.10
WAVE_NODES = 100
WAVE_SKUS = 2_000
#: A wave still solving this long after its solver's time limit is stopped and reported, as is
#: any measurement still running after `DEADLINE_SECONDS`.
SOLVER_GRACE_SECONDS = 30.0
DEADLINE_SECONDS = 1_200.0
POLL_SECONDS = 1.0

Log = Callable[[str], None]

#: `--small`: a quick look at every part, in about two minutes.
SMALL = {
    "sourcing_samples": 100,
    "wave_sizes": [500, 1_000],
    "wave_time_limit": 20.0,
    "scale_sizes": [2_000],
    "scale_time_limit": 30.0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sourcing")
    group.add_argument("--latency-nodes", type=int, default=200)
    group.add_argument("--latency-skus", type=int, default=2_000)
    group.add_argument(
        "--sourcing-samples", type=int, default=300, help="timed orders per line count"
    )
    group.add_argument(
        "--wave-sizes",
        type=int,
        nargs="*",
        default=[2_000, 5_000],
        help="orders per wave (none: no quality waves)",
    )
    group.add_argument("--wave-time-limit", type=float, default=WAVE_SECONDS)
    group.add_argument(
        "--scale-sizes",
        type=int,
        nargs="*",
        default=[1_000, 20_000, 50_000],
        help="more waves for the scale curve (the quality waves join it)",
    )
    group.add_argument("--scale-time-limit", type=float, default=120.0)


@dataclass(frozen=True)
class SourcingOptions:
    latency_nodes: int
    latency_skus: int
    samples: int
    wave_sizes: tuple[int, ...]
    wave_time_limit: float
    scale_sizes: tuple[int, ...]
    scale_time_limit: float
    seed: int = 7
    #: another tree's src folder: its latency measured alternately with this one's
    baseline_src: Path | None = None
    repeat: int = 1  # latency runs per tree when side by side

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace) -> SourcingOptions:
        return cls(
            latency_nodes=arguments.latency_nodes,
            latency_skus=arguments.latency_skus,
            samples=arguments.sourcing_samples,
            wave_sizes=tuple(arguments.wave_sizes),
            wave_time_limit=arguments.wave_time_limit,
            scale_sizes=tuple(arguments.scale_sizes),
            scale_time_limit=arguments.scale_time_limit,
            baseline_src=arguments.baseline_src,
            repeat=arguments.repeat,
        )


@dataclass(frozen=True)
class Unfinished:
    """A wave stopped from outside (or failed), and how far it got."""

    orders: int
    time_limit: float
    seconds: float
    why: str
    stages: dict[str, float]  # the stages it finished (see `WaveResult.stages`)
    size: tuple[int, int, int] | None
    peak_mib: float | None  # its largest resident set, read before it was stopped


@dataclass
class SourcingResults:
    options: SourcingOptions
    code: str = ""  # the commit measured
    latency: LatencyResult | None = None
    #: side by side: (baseline, this tree) per round, each run in a process of its own
    paired: list[tuple[LatencyResult, LatencyResult]] = field(default_factory=list)
    quality: list[WaveResult | Unfinished] = field(default_factory=list)
    scale: list[WaveResult | Unfinished] = field(default_factory=list)
    seconds: float = 0.0


def run_sourcing_benchmark(options: SourcingOptions, log: Log) -> SourcingResults:
    began = time.perf_counter()
    results = SourcingResults(options, _code_version())
    with tempfile.TemporaryDirectory(prefix="dom-bench-sourcing-") as tmp:
        out = Path(tmp) / "result.json"
        log(f"sourcing latency on {options.latency_nodes} nodes …")
        if options.baseline_src is None:
            results.latency = _latency(options, out, None)
        for round_number in range(options.repeat if options.baseline_src else 0):
            log(f"side by side, round {round_number + 1} of {options.repeat} …")
            baseline = _latency(options, out, options.baseline_src)
            results.latency = _latency(options, out, None)
            results.paired.append((baseline, results.latency))
        for orders in options.wave_sizes:
            log(f"wave of {orders:,} orders, {options.wave_time_limit:.0f} s, with baselines …")
            found = _wave(orders, options.wave_time_limit, options.seed, out, ["--nearest"])
            results.quality.append(found)
            log(_summary(found))
        for orders in options.scale_sizes:
            log(f"wave of {orders:,} orders, {options.scale_time_limit:.0f} s …")
            found = _wave(orders, options.scale_time_limit, options.seed, out, [])
            results.scale.append(found)
            log(_summary(found))
    results.seconds = time.perf_counter() - began
    return results


def _latency(options: SourcingOptions, out: Path, src: Path | None) -> LatencyResult:
    """One latency run, of this tree or (`src`) of another."""
    arguments = [
        "latency",
        f"--nodes={options.latency_nodes}",
        f"--skus={options.latency_skus}",
        f"--samples={options.samples}",
        f"--seed={options.seed}",
    ]
    raw = _worker(arguments, out, None, src)
    if isinstance(raw, _Stopped):
        raise RuntimeError(f"the latency benchmark failed: {raw.why}")
    return LatencyResult.from_json(raw)


def _code_version() -> str:
    """The commit measured, and whether src/ had changes not yet committed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"{commit} with uncommitted changes in src/" if dirty else commit


def _wave(
    orders: int, time_limit: float, seed: int, out: Path, extra: list[str]
) -> WaveResult | Unfinished:
    arguments = [
        "wave",
        f"--orders={orders}",
        f"--nodes={WAVE_NODES}",
        f"--skus={WAVE_SKUS}",
        f"--time-limit={time_limit}",
        f"--seed={seed}",
        *extra,
    ]
    began = time.perf_counter()
    found = _worker(arguments, out, time_limit)
    if isinstance(found, _Stopped):
        return Unfinished(
            orders,
            time_limit,
            time.perf_counter() - began,
            found.why,
            found.progress.get("stages", {}),
            None if found.progress.get("size") is None else tuple(found.progress["size"]),
            found.peak_mib,
        )
    return WaveResult.from_json(found)


@dataclass(frozen=True)
class _Stopped:
    why: str
    progress: dict[str, Any]
    peak_mib: float | None


def _worker(
    arguments: list[str], out: Path, solver_limit: float | None, src: Path | None = None
) -> dict[str, Any] | _Stopped:
    """The worker's JSON result; or, if it failed, ran past `DEADLINE_SECONDS` or kept solving
    `SOLVER_GRACE_SECONDS` past the solver's time limit, why and how far it got. With `src`,
    the worker imports `dom` from that tree."""
    progress = progress_file(out)
    out.unlink(missing_ok=True)
    progress.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.sourcing_worker", *arguments, f"--out={out}"]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    began = time.monotonic()
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, env=env) as process:
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
            known = _read(progress)
            since = known.get("solving_since")
            why = None
            if time.monotonic() - began > DEADLINE_SECONDS:
                why = f"stopped after {DEADLINE_SECONDS:.0f} s"
            elif solver_limit is not None and since is not None:
                over = time.time() - since - solver_limit
                if over > SOLVER_GRACE_SECONDS:
                    why = (
                        f"stopped: the solver was still running {over:.0f} s past its "
                        f"{solver_limit:.0f} s time limit"
                    )
            if why is not None:
                peak = _peak_of(process.pid)
                process.kill()
                process.wait()
                return _Stopped(why, known, peak)
    if process.returncode != 0 or not out.exists():
        return _Stopped(
            f"the worker failed (exit code {process.returncode})", _read(progress), None
        )
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def _read(path: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found


def _peak_of(pid: int) -> float | None:
    """A live process's largest resident set since it last reset it, MiB (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _summary(found: WaveResult | Unfinished) -> str:
    if isinstance(found, Unfinished):
        return f"{found.orders:,} orders: {found.why}"
    gap = "—" if found.gap is None else f"{found.gap:.2%}"
    return (
        f"{found.orders:,} orders: {found.stages['total']:.0f} s, solver {found.status} "
        f"({found.detail}), gap {gap}, peak {found.peak_mib:,.0f} MiB"
    )


# ---- goals -------------------------------------------------------------------------------------


def _latencies(results: SourcingResults) -> list[tuple[str, Latencies]]:
    assert results.latency is not None
    return [(row.kind, Latencies.of(row.seconds)) for row in results.latency.rows]


def _below(wave: PolicyResult, other: PolicyResult | None) -> float | None:
    """How far below `other` the wave's cost per unit shipped is, as a share of other's."""
    if other is None or not other.cost_per_unit:
        return None
    return 1 - wave.cost_per_unit / other.cost_per_unit


@dataclass(frozen=True)
class _Quality:
    """The goals of one quality wave, each None when it could not be judged."""

    proven: bool | None
    below_myopic: bool | None
    below_nearest: bool | None
    promises: bool | None
    shipments: bool | None

    @classmethod
    def of(cls, found: WaveResult | Unfinished) -> _Quality:
        if isinstance(found, Unfinished):
            return cls(False, None, None, None, None)
        wave, myopic, nearest = (found.policy(n) for n in ("wave", "myopic", "nearest"))
        assert wave is not None and myopic is not None
        proven = (
            found.status == "optimal"
            and found.gap is not None
            and found.gap <= WAVE_GAP
            and found.stages["solve"] <= WAVE_SECONDS + 1
        )
        mine = _below(wave, myopic)
        near = _below(wave, nearest)
        baselines = [p for p in (myopic, nearest) if p is not None]
        return cls(
            proven,
            None if mine is None else mine >= BELOW_MYOPIC,
            None if near is None else near >= BELOW_NEAREST,
            all(wave.promise_misses <= p.promise_misses for p in baselines),
            all(wave.shipments_per_order < p.shipments_per_order for p in baselines),
        )


def goals_missed(results: SourcingResults) -> list[str]:
    missed = [
        f"sourcing latency, {kind}: p99 {1000 * lat.p99:.1f} ms > {LATENCY_P99_MS:.0f} ms"
        for kind, lat in _latencies(results)
        if 1000 * lat.p99 > LATENCY_P99_MS
    ]
    for found in results.quality:
        q = _Quality.of(found)
        what = f"wave of {found.orders:,}"
        if not q.proven:
            missed.append(f"{what}: no proven gap ≤ {WAVE_GAP:.1%} within {WAVE_SECONDS:.0f} s")
        if q.below_myopic is False:
            missed.append(f"{what}: less than {BELOW_MYOPIC:.0%} below myopic per unit")
        if q.below_nearest is False:
            missed.append(f"{what}: less than {BELOW_NEAREST:.0%} below nearest per unit")
        if q.promises is False:
            missed.append(f"{what}: more promise misses than a baseline")
        if q.shipments is False:
            missed.append(f"{what}: not fewer shipments per order than the baselines")
    return missed


# ---- report ------------------------------------------------------------------------------------


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def report_lines(results: SourcingResults) -> list[str]:
    return [
        f"### Sourcing ({results.seconds / 60:.1f} min)",
        "",
        f"Code measured: {results.code}.",
        "",
        *_latency_lines(results),
        *_side_by_side_lines(results),
        *_quality_lines(results),
        *_scale_lines(results),
    ]


def _latency_lines(results: SourcingResults) -> list[str]:
    latency = results.latency
    assert latency is not None
    lines = [
        f"Decision latency: `engine.route` under lowest-cost, in process, on a generated "
        f"network of {latency.scenario.split(',')[0]} ({latency.offers} with stock, "
        f"{latency.positions:,} positions with units; stock of a generated day of "
        f"{latency.scenario.split(', ')[2]}, slack capacity), one `RateBook` and `DateBook` "
        f"for every call, the offers built once. Each order takes a generated order's "
        f"destination, service level, promise and time, and k distinct SKUs drawn from the "
        f"generated stream's lines (Zipf popularity, the stream's quantities); the mix is the "
        f"generator's own orders. Kinds interleaved, {WARM_UP} warm-up rounds, then "
        f"{latency.samples} of each. Load (1, 5, 15 min) before: {latency.load[0]}, after: "
        f"{latency.load[1]}.",
        "",
        "| order | samples | median ms | p95 ms | p99 ms | max ms | plans splitting a line "
        "| shipments per plan | goal p99 ≤ 10 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row, (kind, lat) in zip(latency.rows, _latencies(results), strict=True):
        lines.append(
            f"| {kind} | {lat.cells()} | {row.split} ({row.split / len(row.seconds):.0%}) "
            f"| {row.shipments:.2f} | {_verdict(1000 * lat.p99 <= LATENCY_P99_MS)} |"
        )
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(latency.profiled.items()))
    lines += [
        "",
        f"The slowest {sum(latency.profiled.values())} samples ({kinds}; median "
        f"{latency.profiled_ms:.0f} ms when timed) re-run under cProfile — share of `route`'s "
        "time, in the function itself and with what it calls:",
        "",
        *_hot_table(latency.hot),
        f"And where the time of {min(TYPICAL_PROFILED, latency.samples)} orders of the "
        "generated mix goes:",
        "",
        *_hot_table(latency.typical),
    ]
    return lines


def _side_by_side_lines(results: SourcingResults) -> list[str]:
    """Per kind: the median over the rounds of each run's median and p99, per tree, and the
    median of the run-by-run ratios (baseline over this tree: above 1, this tree is faster)."""
    if not results.paired:
        return []
    lines = [
        f"Side by side with `{results.options.baseline_src}`: {len(results.paired)} rounds, "
        "each the baseline's run then this tree's, every run in a process of its own. Per "
        "kind, the median over the rounds of each run's median and p99 (ms), and the median "
        "of the run-by-run ratios baseline / this tree.",
        "",
        "| order | baseline median | this median | ratio | baseline p99 | this p99 | ratio "
        "| p99 per round, baseline / this |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    kinds = [row.kind for row in results.paired[0][1].rows]
    for index, kind in enumerate(kinds):
        pairs = [
            (Latencies.of(b.rows[index].seconds), Latencies.of(c.rows[index].seconds))
            for b, c in results.paired
        ]
        medians = [(b.median, c.median) for b, c in pairs]
        tails = [(b.p99, c.p99) for b, c in pairs]
        rounds = ", ".join(f"{1000 * b:.1f} / {1000 * c:.1f}" for b, c in tails)
        lines.append(
            f"| {kind} | {_ms(medians, 0)} | {_ms(medians, 1)} | {_ratio(medians):.2f}× "
            f"| {_ms(tails, 0)} | {_ms(tails, 1)} | {_ratio(tails):.2f}× | {rounds} |"
        )
    return [*lines, ""]


def _ms(pairs: Sequence[tuple[float, float]], side: int) -> str:
    return f"{1000 * statistics.median(p[side] for p in pairs):.2f}"


def _ratio(pairs: Sequence[tuple[float, float]]) -> float:
    return statistics.median(b / c for b, c in pairs)


def _hot_table(hot: Sequence[Hot]) -> list[str]:
    return [
        "| function | own | with callees |",
        "|---|---:|---:|",
        *(f"| `{h.function}` | {h.own:.0%} | {h.cumulative:.0%} |" for h in hot),
        "",
    ]


def _per(value: float, count: int) -> float:
    return value / count if count else 0.0


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _quality_lines(results: SourcingResults) -> list[str]:
    lines = [
        f"Wave quality: every order of a generated day ({WAVE_NODES} nodes: 10 DCs, 90 stores; "
        f"{WAVE_SKUS:,} SKUs; the generator's stock, 1.3 × the expected demand per SKU spread "
        "over its holders; tight capacity, 90 % of each node's expected share) routed at once "
        "when the last order is in: `route_wave(..., solver=solve_guarded, "
        f"time_limit={results.options.wave_time_limit:.0f}, gap={WAVE_GAP}, "
        "relax=relax_with_highs)` under "
        "lowest-cost; the myopic baseline is `result.baseline` (the plans the wave starts from); "
        "nearest is `route_nearest` order by order against a `Ledger`, in order of arrival. "
        "Every policy ships from the same stock and capacity at the same moment. Metrics as "
        "`dom simulate` computes them; the penalised objective adds the MIP's "
        f"${UNFILLED_PER_UNIT:,.0f} per unit left unfilled. Policies fill different numbers "
        "of units, so the cost goals compare cost per unit shipped.",
        "",
    ]
    for found in results.quality:
        lines += _quality_table(found)
    return lines


def _quality_table(found: WaveResult | Unfinished) -> list[str]:
    if isinstance(found, Unfinished):
        return [f"**Wave of {found.orders:,} orders**: {found.why} (see the scale table).", ""]
    policies = found.policies
    head = "| | " + " | ".join(p.name for p in policies) + " |"
    rule = "|---|" + "---:|" * len(policies)

    def row(label: str, cell: Callable[[PolicyResult], str]) -> str:
        return f"| {label} | " + " | ".join(cell(p) for p in policies) + " |"

    def days(p: PolicyResult) -> str:
        return "—" if p.delivery_days_mean is None else f"{p.delivery_days_mean:.2f}"

    wave, myopic, nearest = (found.policy(n) for n in ("wave", "myopic", "nearest"))
    assert wave is not None and myopic is not None
    q = _Quality.of(found)
    absolute = (
        None if found.objective is None or found.bound is None else found.objective - found.bound
    )
    lines = [
        f"**Wave of {found.orders:,} orders** — load before {found.load[0]}, after "
        f"{found.load[1]}.",
        "",
        head,
        rule,
        row("total cost (shipping + handling)", lambda p: _money(p.money)),
        row("cost per unit shipped", lambda p: f"${p.cost_per_unit:.2f}"),
        row("cost per order shipped", lambda p: f"${_per(p.money, p.orders_shipped):.2f}"),
        row("objective (lowest-cost)", lambda p: f"{p.objective:,.0f}"),
        row("penalised objective", lambda p: f"{p.penalised:,.0f}"),
        row("units shipped", lambda p: f"{p.units_shipped:,}"),
        row("unfilled units", lambda p: f"{p.unfilled_units:,}"),
        row("orders shipped", lambda p: f"{p.orders_shipped:,}"),
        row("units per order shipped", lambda p: f"{_per(p.units_shipped, p.orders_shipped):.2f}"),
        row("shipments per order shipped", lambda p: f"{p.shipments_per_order:.3f}"),
        row("delivery days, mean", days),
        row("promise misses", lambda p: f"{p.promise_misses} of {p.promised_orders}"),
        row("plan violations", lambda p: str(p.violations)),
        row("seconds", lambda p: f"{p.seconds:.1f}"),
        "",
        _solver_sentence(found, absolute, wave),
        "",
        "| goal | result | |",
        "|---|---|---|",
        f"| proven gap ≤ {WAVE_GAP:.1%} within {WAVE_SECONDS:.0f} s | {_gap_cell(found)} "
        f"| {_verdict(q.proven)} |",
        f"| cost per unit shipped ≥ {BELOW_MYOPIC:.0%} below myopic | "
        f"{_versus(wave, myopic)} | {_verdict(q.below_myopic)} |",
        f"| far (≥ {BELOW_NEAREST:.0%}) below nearest per unit shipped | "
        f"{_versus(wave, nearest)} | {_verdict(q.below_nearest)} |",
        f"| promise misses ≤ both baselines | {_misses(policies)} | {_verdict(q.promises)} |",
        f"| fewer shipments per order | {_shipments(policies)} | {_verdict(q.shipments)} |",
        "",
    ]
    return lines


def _solver_sentence(found: WaveResult, absolute: float | None, wave: PolicyResult) -> str:
    size = "—" if found.size is None else ", ".join(f"{n:,}" for n in found.size)
    text = (
        f"Model (variables, rows, nonzeros): {size}. Solver: {found.status} "
        f"(HiGHS: {found.detail}) after {found.stages['solve']:.1f} s; the whole wave took "
        f"{found.stages['total']:.1f} s (myopic baseline {found.stages['myopic']:.1f}, "
        f"candidates {found.stages['candidates']:.1f}, model {found.stages['build']:.1f}, "
        f"polish {found.stages['polish']:.1f}); {found.fallback:,} orders fell back to "
        "order by order in the polish."
    )
    if absolute is not None and found.objective:
        text += (
            f" The solver's gap is relative to its objective, {found.objective:,.0f}, of which "
            f"the unfilled units' penalty is most: its absolute gap, {absolute:,.0f}, is "
            f"{absolute / wave.money:.1%} of the wave's shipping and handling."
        )
    if found.kept_baseline:
        text += " The wave kept the myopic plans (it found nothing better)."
    return text


def _gap_cell(found: WaveResult) -> str:
    gap = "—" if found.gap is None else f"{found.gap:.2%}"
    return f"{found.status}, gap {gap}, solver {found.stages['solve']:.1f} s"


def _versus(wave: PolicyResult, other: PolicyResult | None) -> str:
    if other is None:
        return "—"
    below = _below(wave, other)
    total = 1 - wave.money / other.money if other.money else 0.0
    return (
        f"${wave.cost_per_unit:.2f} vs ${other.cost_per_unit:.2f}: {below:.1%} below per unit "
        f"({total:.1%} below in total, {wave.units_shipped - other.units_shipped:+,} units)"
    )


def _misses(policies: Sequence[PolicyResult]) -> str:
    return ", ".join(f"{p.name} {p.promise_misses}" for p in policies)


def _shipments(policies: Sequence[PolicyResult]) -> str:
    return ", ".join(f"{p.name} {p.shipments_per_order:.3f}" for p in policies)


def _scale_lines(results: SourcingResults) -> list[str]:
    found = sorted([*results.quality, *results.scale], key=lambda f: (f.orders, f.time_limit))
    lines = [
        "Scale: the same generated days with more orders (stock and capacity grow with the "
        "day), each wave in a process of its own, one at a time. Stages of `route_wave`: the "
        "myopic baseline (`route_one_by_one`), candidates per order, the model (`_program`), "
        "the warm start, the solve (HiGHS, one thread: loading the model and solving), and the "
        "polish (reading the solution, pricing each order exactly, re-routing each order "
        "against what the others leave). Peak: the largest resident set during `route_wave` "
        "(the peak is reset once the scenario is built); before: resident set when it starts.",
        "",
        "| orders | solver limit s | variables, rows, nonzeros | myopic s | candidates s "
        "| model s | start s | solve s | polish s | total s | solver status | gap | fallback "
        "| RSS before MiB | peak MiB | wave vs myopic per unit |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for f in found:
        if isinstance(f, Unfinished):
            lines.append(_unfinished_row(f))
            continue
        s = f.stages
        size = "—" if f.size is None else " / ".join(f"{n:,}" for n in f.size)
        gap = "—" if f.gap is None else f"{f.gap:.2%}"
        wave, myopic = f.policy("wave"), f.policy("myopic")
        assert wave is not None and myopic is not None
        below = _below(wave, myopic)
        lines.append(
            f"| {f.orders:,} | {f.time_limit:.0f} | {size} | {s['myopic']:.1f} "
            f"| {s['candidates']:.1f} | {s['build']:.1f} | {s['start']:.1f} | {s['solve']:.1f} "
            f"| {s['polish']:.1f} | {s['total']:.1f} | {f.status} ({f.detail}) | {gap} "
            f"| {f.fallback:,} | {f.rss_before_mib:,.0f} | {f.peak_mib:,.0f} "
            f"| {'—' if below is None else f'{-below:+.1%}'} |"
        )
    return [*lines, ""]


def _unfinished_row(f: Unfinished) -> str:
    def stage(name: str) -> str:
        return f"{f.stages[name]:.1f}" if f.stages.get(name) else "—"

    size = "—" if f.size is None else " / ".join(f"{n:,}" for n in f.size)
    peak = "—" if f.peak_mib is None else f"{f.peak_mib:,.0f}"
    return (
        f"| {f.orders:,} | {f.time_limit:.0f} | {size} | {stage('myopic')} "
        f"| {stage('candidates')} | {stage('build')} | {stage('start')} | — | — "
        f"| {f.seconds:.0f} (stopped) | **{f.why}** | — | — | — | {peak} | — |"
    )
