"""One sourcing measurement in a process of its own, its result written as JSON to `--out`.

python -m bench.sourcing_worker latency --nodes 200 --skus 2000 --samples 300 --out l.json
python -m bench.sourcing_worker wave --orders 2000 --time-limit 60 --nearest --out w.json
python -m bench.sourcing_worker wave --orders 50000 --time-limit 120 --profile 30 --out w.json
python -m bench.sourcing_worker model --orders 50000 --profile 30 --out m.json   # not solved

A process per measurement, so each wave's peak memory is its own (Linux: the peak is reset
through /proc/self/clear_refs once the scenario is built, then read from VmHWM) and no run
inherits another's heap. HiGHS prints its banner on stdout: the parent discards stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from bench.sourcing_data import OrderMaker, ScenarioSize, scenario
from dom.adapters.highs import relax_with_highs, solve_guarded
from dom.adapters.zip_directory import zip_directory
from dom.domain.sourcing import wave
from dom.domain.sourcing.baselines import route_nearest
from dom.domain.sourcing.engine import candidates, route
from dom.domain.sourcing.model import Offer, Order, Plan
from dom.domain.sourcing.profiles import LOWEST_COST, Profile
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.solver import LinearProgram, Relaxation, SolveResult
from dom.domain.sourcing.validate import plan_violations
from dom.simulation.generator import Tightness
from dom.simulation.metrics import measure
from dom.simulation.model import Arrival, Scenario
from dom.simulation.replay import Outcome, Policy, Run, myopic_policy, nearest_policy, wave_policy

LINE_COUNTS = (1, 2, 5, 10)
MIX = "generated mix (1-5 lines)"
WARM_UP = 20
#: The slowest samples re-run under cProfile to say where the tail's time goes: this share of
#: all samples, at least `PROFILED_AT_LEAST`.
PROFILED_SHARE = 0.01
PROFILED_AT_LEAST = 5
HOT_FUNCTIONS = 8
TYPICAL_PROFILED = 100  # orders of the generated mix re-run under cProfile
GAP = 0.005
#: Functions of `dom.domain.sourcing.wave` timed as stages of `route_wave`, by stage name.
STAGES = {
    "route_one_by_one": "myopic",
    "candidates": "candidates",
    "_program": "build",
    "_start": "start",
    "_solve": "solve",  # the LP relaxation, its rounding and the MIP
}

T = TypeVar("T")


def _log(message: str) -> None:
    print(f"  · {message}", file=sys.stderr, flush=True)


def _load() -> str:
    """The load averages over 1, 5 and 15 minutes, as `uptime` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- memory ------------------------------------------------------------------------------------


def _status_kib(field_name: str) -> int | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    return None


def _reset_peak() -> bool:
    """Start the process's peak resident set afresh (Linux ≥ 4.0); False if it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mib() -> float:
    """The largest resident set since the last reset (or since the start)."""
    found = _status_kib("VmHWM")
    kib = found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def _rss_mib() -> float:
    return (_status_kib("VmRSS") or 0) / 1024


# ---- latency -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyRow:
    kind: str
    seconds: list[float]
    split: int  # plans with a line shipped in parts from several nodes
    shipments: float  # mean shipments per plan


@dataclass(frozen=True)
class Hot:
    """A function and its share of the profiled time, itself and with what it calls."""

    function: str
    own: float
    cumulative: float


@dataclass(frozen=True)
class LatencyResult:
    scenario: str
    offers: int
    positions: int
    samples: int
    rows: list[LatencyRow]
    profiled: dict[str, int]  # the slowest samples re-run under cProfile, by kind
    profiled_ms: float  # their median latency when timed
    hot: list[Hot]  # where the slowest samples' time goes
    typical: list[Hot]  # where the generated mix's time goes
    load: tuple[str, str]  # before, after

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LatencyResult:
        return cls(
            **{
                **raw,
                "rows": [LatencyRow(**r) for r in raw["rows"]],
                "hot": [Hot(**h) for h in raw["hot"]],
                "typical": [Hot(**h) for h in raw["typical"]],
                "load": tuple(raw["load"]),
            }
        )


@dataclass(frozen=True)
class _Sample:
    kind: str
    arrival: Arrival
    seconds: float


def measure_latency(size: ScenarioSize, samples: int, seed: int) -> LatencyResult:
    """`engine.route` under lowest-cost, one order at a time, kinds interleaved: after
    `WARM_UP` rounds, `samples` orders of each kind."""
    zips = zip_directory()
    found = scenario(zips, size, seed)
    offers = found.day_offers({})
    maker = OrderMaker(found.arrivals, seed)
    kinds: list[tuple[str, Callable[[], Arrival]]] = [
        (f"{count} line{'s' if count > 1 else ''}", partial(maker.with_lines, count))
        for count in LINE_COUNTS
    ]
    kinds.append((MIX, maker.generated))
    book, dates = RateBook(), DateBook()

    def decide(arrival: Arrival) -> Plan:
        products, services, now = found.products, found.services, arrival.arrives_at
        return route(arrival.order, offers, products, services, LOWEST_COST, now, book, dates)

    _log(f"latency: {size.describe()}: {len(offers)} offers; timing")
    load_before = _load()
    # The setup's objects live as long as the process, as a server's network would: keep the
    # collector off them (new garbage is still collected, inside the timings).
    gc.collect()
    gc.freeze()
    timed: list[_Sample] = []
    plans: dict[str, list[Plan]] = {kind: [] for kind, _ in kinds}
    for round_number in range(WARM_UP + samples):
        for kind, make in kinds:  # interleaved: load on the machine falls on every kind alike
            arrival = make()
            began = time.perf_counter()
            plan = decide(arrival)
            took = time.perf_counter() - began
            if round_number >= WARM_UP:
                timed.append(_Sample(kind, arrival, took))
                plans[kind].append(plan)
    load_after = _load()
    rows = [
        LatencyRow(
            kind,
            [s.seconds for s in timed if s.kind == kind],
            sum(1 for p in plans[kind] if _splits_a_line(p)),
            sum(len(p.shipments) for p in plans[kind]) / len(plans[kind]),
        )
        for kind, _ in kinds
    ]
    slowest = sorted(timed, key=lambda s: -s.seconds)
    slowest = slowest[: max(PROFILED_AT_LEAST, round(PROFILED_SHARE * len(timed)))]
    typical = [s for s in timed if s.kind == MIX][:TYPICAL_PROFILED]
    gc.unfreeze()
    ordered = sorted(s.seconds for s in slowest)
    return LatencyResult(
        scenario=size.describe(),
        offers=len(offers),
        positions=sum(len(o.available) for o in offers),
        samples=samples,
        rows=rows,
        profiled=dict(Counter(s.kind for s in slowest)),
        profiled_ms=1000 * ordered[len(ordered) // 2],
        hot=_profiled(decide, slowest),
        typical=_profiled(decide, typical),
        load=(load_before, load_after),
    )


def _profiled(decide: Callable[[Arrival], Plan], samples: Sequence[_Sample]) -> list[Hot]:
    """The samples routed again under cProfile: where their time goes."""
    profile = cProfile.Profile()
    profile.enable()
    for sample in samples:
        decide(sample.arrival)
    profile.disable()
    return _hot(profile, "route")


def _splits_a_line(plan: Plan) -> bool:
    lines = [line.line_id for s in plan.shipments for line in s.lines]
    return len(lines) != len(set(lines))


def _hot(profile: cProfile.Profile, entry: str) -> list[Hot]:
    """The functions of dom taking the most time, with what they call, as shares of `entry`'s."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats
    total = max(
        (ct for (path, _, name), (_, _, _, ct, _) in rows.items() if name == entry), default=0.0
    )
    if not total:
        total = sum(tt for (_, _, _, tt, _) in rows.values())
    ours = [
        (ct, tt, f"{_module(path)}.{name}")
        for (path, _, name), (_, _, tt, ct, _) in rows.items()
        if "/dom/" in path and name != entry
    ]
    ours.sort(reverse=True)
    return [Hot(label, tt / total, ct / total) for ct, tt, label in ours[:HOT_FUNCTIONS]]


def _module(path: str) -> str:
    tail = path.split("/dom/", 1)[1].removesuffix(".py")
    return tail.replace("/", ".")


# ---- waves -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyResult:
    """A policy's plans for the wave's orders, measured as `dom simulate` measures them."""

    name: str
    money: float
    objective: float
    penalised: float  # objective + the MIP's price of each unit left unfilled
    orders_shipped: int
    units_shipped: int
    unfilled_units: int
    cost_per_unit: float
    shipments_per_order: float
    delivery_days_mean: float | None
    promised_orders: int
    promise_misses: int
    violations: int
    seconds: float


@dataclass
class WaveResult:
    orders: int
    scenario: str
    time_limit: float
    #: seconds per stage of `route_wave`: "myopic" (`route_one_by_one`, its warm start and
    #: baseline), "candidates", "build" (`_program`), "start", "solve", "polish" (the rest:
    #: reading the solution, `finish` and the exact re-route of every order), "total"
    stages: dict[str, float]
    size: tuple[int, int, int] | None  # (variables, rows, nonzeros)
    status: str | None
    detail: str
    gap: float | None
    objective: float | None
    bound: float | None
    fallback: int
    kept_baseline: bool  # the wave returned the myopic plans (no better plan found)
    rss_before_mib: float
    peak_mib: float
    peak_reset: bool  # False: the peak covers the scenario's building too
    policies: list[PolicyResult] = field(default_factory=list)
    load: tuple[str, str] = ("", "")

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> WaveResult:
        return cls(
            **{
                **raw,
                "size": None if raw["size"] is None else tuple(raw["size"]),
                "policies": [PolicyResult(**p) for p in raw["policies"]],
                "load": tuple(raw["load"]),
            }
        )

    def policy(self, name: str) -> PolicyResult | None:
        return next((p for p in self.policies if p.name == name), None)


class _Stopwatch:
    """Seconds spent in named functions of `wave`'s module while a wave runs: `route_wave` looks
    them up there at call time, so wrapping them times the stages without changing the code.
    After each stage, and when the solver starts, what is known so far goes to `progress`, so
    that a wave stopped from outside still tells how far it got."""

    def __init__(self, progress: Path) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES.values(), 0.0)
        self.sizes: list[tuple[int, int, int]] = []
        self.results: list[SolveResult] = []
        self._progress = progress
        self._solving_since: float | None = None

    @contextmanager
    def timing(self) -> Iterator[None]:
        with ExitStack() as stack:
            for name, stage in STAGES.items():
                original = getattr(wave, name)
                stack.enter_context(mock.patch.object(wave, name, self._timed(original, stage)))
            yield

    def _timed(self, function: Callable[..., T], stage: str) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - began
                if stage != "candidates":  # once per order: too often to write
                    self._save()

        return timed

    def _save(self) -> None:
        known = {
            "stages": self.seconds,
            "size": self.sizes[0] if self.sizes else None,
            "solving_since": self._solving_since,
        }
        self._progress.write_text(json.dumps(known), encoding="utf-8")

    def relax(self, program: LinearProgram, *, time_limit: float) -> Relaxation:
        """HiGHS's LP relaxation, noting the model's size."""
        if not self.sizes:
            self.sizes.append(program.size)
        _log(f"model {program.size[0]:,} variables, {program.size[1]:,} rows; relaxing")
        self._solving_since = time.time()
        self._save()
        relaxation = relax_with_highs(program, time_limit=time_limit)
        _log(f"relaxation: {relaxation.detail}, {relaxation.seconds:.1f} s")
        return relaxation

    def solver(
        self,
        program: LinearProgram,
        *,
        time_limit: float,
        gap: float,
        start: Sequence[float] | None = None,
    ) -> SolveResult:
        """HiGHS in a process of its own (stopped past its time limit), noting the model's
        size."""
        if not self.sizes:
            self.sizes.append(program.size)
        _log(f"model {program.size[0]:,} variables, {program.size[1]:,} rows; solving")
        self._solving_since = time.time()
        self._save()
        result = solve_guarded(program, time_limit=time_limit, gap=gap, start=start)
        self.results.append(result)
        self._solving_since = None
        self._save()
        return result


@dataclass(frozen=True)
class Day:
    """A generated day's orders routed at once, and what they were routed against."""

    scenario: Scenario
    orders: list[Order]
    offers: list[Offer]
    now: datetime


def generated_day(size: ScenarioSize, seed: int) -> Day:
    """Every order of a generated day, routed when the last one is in (as `dom simulate` runs a
    wave), against the day's stock and capacity."""
    found = scenario(zip_directory(), size, seed)
    orders = [a.order for a in found.arrivals]
    return Day(found, orders, found.day_offers({}), found.arrivals[-1].arrives_at)


def measure_wave(day: Day, time_limit: float, progress: Path, profile_top: int = 0) -> WaveResult:
    """`route_wave` over the day, stage by stage (written to `progress` as it goes), with its
    peak memory; its plans and the myopic baseline's measured. `profile_top` > 0: cProfile's
    top functions to stderr."""
    found, orders, offers, now = day.scenario, day.orders, day.offers, day.now
    profiles = {o.id: LOWEST_COST for o in orders}
    load_before = _load()
    gc.collect()
    rss = _rss_mib()
    reset = _reset_peak()
    watch = _Stopwatch(progress)
    profiler = cProfile.Profile() if profile_top else None
    _log(f"wave of {len(orders):,} orders: the myopic baseline and the model")
    began = time.perf_counter()
    with watch.timing():
        if profiler is not None:
            profiler.enable()
        result = wave.route_wave(
            orders,
            offers,
            found.products,
            found.services,
            profiles,
            now,
            watch.solver,
            time_limit=time_limit,
            gap=GAP,
            relax=watch.relax,
        )
        if profiler is not None:
            profiler.disable()
    total = time.perf_counter() - began
    peak = _peak_mib()
    stages = dict(watch.seconds)
    stages["polish"] = total - sum(stages.values())
    stages["total"] = total
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile_top)
    solved = result.solver
    _log(f"wave of {len(orders):,} orders: {total:.1f} s; measuring the plans")
    return WaveResult(
        orders=len(orders),
        scenario=f"{len(found.nodes)} nodes, {len(found.products):,} SKUs, tight capacity",
        time_limit=time_limit,
        stages=stages,
        size=watch.sizes[0] if watch.sizes else None,
        status=None if solved is None else solved.status.value,
        detail="" if solved is None else solved.detail,
        gap=None if solved is None else solved.gap,
        objective=None if solved is None else solved.objective,
        bound=None if solved is None else solved.bound,
        fallback=len(result.fallback),
        kept_baseline=all(result.plans[o.id] is result.baseline[o.id] for o in orders),
        rss_before_mib=rss,
        peak_mib=peak,
        peak_reset=reset,
        policies=[
            _measured(day, wave_policy(len(orders)), "wave", result.plans, total),
            _measured(day, myopic_policy(), "myopic", result.baseline, stages["myopic"]),
        ],
        load=(load_before, _load()),
    )


def measure_nearest(day: Day) -> PolicyResult:
    """The nearest baseline over the same orders, order by order in order of arrival."""
    began = time.perf_counter()
    plans = _route_nearest(day.scenario, day.orders, day.offers, day.now)
    return _measured(day, nearest_policy(), "nearest", plans, time.perf_counter() - began)


@dataclass(frozen=True)
class ModelResult:
    """The wave's model built the way `route_wave` builds it, not solved."""

    orders: int
    stages: dict[str, float]  # "myopic", "candidates", "build", "start"
    size: tuple[int, int, int]
    rows: dict[str, int]  # rows per business rule
    rss_before_mib: float
    peak_mib: float
    #: units the myopic plans ship, and how many of them the warm start keeps: the rest ship
    #: from nodes outside the order's shortlist (or as parts the wave splits otherwise)
    myopic_units: int
    start_units: int
    start_objective: float  # the warm start's objective in the model
    myopic_penalised: float  # the myopic plans' objective + the unfilled units' price


def measure_model(day: Day, profile_top: int = 0) -> ModelResult:
    """Myopic baseline, candidates, model and warm start, timed one by one (cProfile's top
    `profile_top` functions to stderr when > 0)."""
    found, orders, offers, now = day.scenario, day.orders, day.offers, day.now
    profiles = {o.id: LOWEST_COST for o in orders}
    book, calendar = RateBook(), DateBook()
    gc.collect()
    rss = _rss_mib()
    _reset_peak()
    profiler = cProfile.Profile() if profile_top else None
    if profiler is not None:
        profiler.enable()
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    baseline = wave.route_one_by_one(
        orders, offers, found.products, found.services, profiles, now, book, calendar
    )
    seconds["myopic"] = time.perf_counter() - began
    began = time.perf_counter()
    chosen = [
        candidates(o, offers, found.products, found.services, LOWEST_COST, now, calendar)
        for o in orders
    ]
    seconds["candidates"] = time.perf_counter() - began
    began = time.perf_counter()
    program, index = wave._program(chosen, offers, found.products, book, baseline)
    seconds["build"] = time.perf_counter() - began
    began = time.perf_counter()
    start = wave._start(program, index, chosen, baseline)
    seconds["start"] = time.perf_counter() - began
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile_top)
    peak = _peak_mib()
    rows = Counter(name.split(" of ")[0].split(" at ")[0] for name in program.row_names)
    shipped = sum(line.quantity for p in baseline.values() for s in p.shipments for line in s.lines)
    kept = sum(
        chosen[o].work[line].quantity
        for (o, line, _), column in index.x.items()
        if start[column] > 0.5
    )
    unfilled = sum(u.quantity for p in baseline.values() for u in p.unfilled)
    money = sum(p.costs.objective for p in baseline.values())
    return ModelResult(
        orders=len(orders),
        stages=seconds,
        size=program.size,
        rows=dict(rows),
        rss_before_mib=rss,
        peak_mib=peak,
        myopic_units=shipped,
        start_units=kept,
        start_objective=sum(c * v for c, v in zip(program.costs, start, strict=True)),
        myopic_penalised=money + wave.UNFILLED_PER_UNIT * unfilled,
    )


def _route_nearest(
    found: Scenario, orders: Sequence[Order], offers: Sequence[Offer], now: datetime
) -> dict[str, Plan]:
    """The nearest baseline order by order, each from what the orders before it left."""
    book, dates = RateBook(), DateBook()
    ledger = wave.Ledger(offers)
    plans = {}
    for order in orders:
        available = ledger.offers_for(order)
        plan = route_nearest(order, available, found.products, found.services, now, book, dates)
        plans[order.id] = plan
        ledger.take(plan)
    return plans


def _measured(
    day: Day, policy: Policy, name: str, plans: Mapping[str, Plan], seconds: float
) -> PolicyResult:
    """The simulator's metrics of the plans; every plan checked by `plan_violations` against
    the day's starting stock and capacity, and the plans together against them too."""
    found, offers, now = day.scenario, day.offers, day.now
    outcomes = []
    for arrival in found.arrivals:
        plan = plans[arrival.order.id]
        broken = _violations(plan, arrival.order, offers, found, policy.profile, now)
        outcomes.append(Outcome(arrival, plan, seconds, tuple(broken)))
    m = measure(Run(policy, tuple(outcomes), seconds), found)
    return PolicyResult(
        name=name,
        money=m.cost,
        objective=m.objective,
        penalised=round(m.objective + wave.UNFILLED_PER_UNIT * m.unfilled_units, 2),
        orders_shipped=m.shipped_orders,
        units_shipped=m.units_shipped,
        unfilled_units=m.unfilled_units,
        cost_per_unit=m.cost / m.units_shipped if m.units_shipped else 0.0,
        shipments_per_order=m.shipments_per_order,
        delivery_days_mean=m.delivery_days_mean,
        promised_orders=m.promised_orders,
        promise_misses=m.promise_misses,
        violations=m.violations + len(_overdrawn(plans.values(), offers)),
        seconds=seconds,
    )


def _violations(
    plan: Plan,
    order: Order,
    offers: Sequence[Offer],
    found: Scenario,
    profile: Profile,
    now: datetime,
) -> list[str]:
    return plan_violations(plan, order, offers, found.products, found.services, profile, now)


def _overdrawn(plans: Iterable[Plan], offers: Sequence[Offer]) -> list[str]:
    """Stock, units and shipments the plans take together beyond what the nodes had."""
    units: Counter[tuple[str, str]] = Counter()
    shipped: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    for plan in plans:
        for s in plan.shipments:
            opened[s.node_id] += 1
            for line in s.lines:
                units[(s.node_id, line.sku)] += line.quantity
                shipped[s.node_id] += line.quantity
    by_node = {o.node.id: o for o in offers}
    found = [
        f"{n} of {sku} taken at {node}"
        for (node, sku), n in units.items()
        if n > by_node[node].available.get(sku, 0)
    ]
    for node, n in shipped.items():
        room = by_node[node].units_left_today
        if room is not None and n > room:
            found.append(f"{n} units shipped from {node}, room for {room}")
    for node, n in opened.items():
        room = by_node[node].orders_left_today
        if room is not None and n > room:
            found.append(f"{n} shipments from {node}, room for {room}")
    return found


def progress_file(out: Path) -> Path:
    """Where a wave writes how far it got, beside its result."""
    return out.with_name(f"{out.stem}.progress.json")


# ---- the command -------------------------------------------------------------------------------


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sourcing_worker")
    kinds = parser.add_subparsers(dest="kind", required=True)
    latency = kinds.add_parser("latency", help="engine.route, one order at a time")
    latency.add_argument("--nodes", type=int, default=200)
    latency.add_argument("--skus", type=int, default=2_000)
    latency.add_argument(
        "--stock-orders", type=int, default=5_000, help="a day's stream sizing the stock"
    )
    latency.add_argument("--samples", type=int, default=300, help="timed orders per kind")
    waves = kinds.add_parser("wave", help="route_wave over one generated day")
    waves.add_argument("--nodes", type=int, default=100)
    waves.add_argument("--skus", type=int, default=2_000)
    waves.add_argument("--orders", type=int, required=True)
    waves.add_argument("--time-limit", type=float, default=60.0, help="the solver's, seconds")
    waves.add_argument("--nearest", action="store_true", help="also route the nearest baseline")
    waves.add_argument("--profile", type=int, default=0, help="print cProfile's top N to stderr")
    model = kinds.add_parser("model", help="the wave's model of one generated day, unsolved")
    model.add_argument("--nodes", type=int, default=100)
    model.add_argument("--skus", type=int, default=2_000)
    model.add_argument("--orders", type=int, required=True)
    model.add_argument("--profile", type=int, default=0, help="print cProfile's top N to stderr")
    for sub in (latency, waves, model):
        sub.add_argument("--seed", type=int, default=7)
        sub.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = _arguments(argv)
    result: LatencyResult | WaveResult | ModelResult
    if arguments.kind == "latency":
        size = ScenarioSize(
            arguments.nodes, arguments.skus, arguments.stock_orders, Tightness.SLACK
        )
        result = measure_latency(size, arguments.samples, arguments.seed)
    elif arguments.kind == "model":
        size = ScenarioSize(arguments.nodes, arguments.skus, arguments.orders, Tightness.TIGHT)
        result = measure_model(generated_day(size, arguments.seed), arguments.profile)
    else:
        size = ScenarioSize(arguments.nodes, arguments.skus, arguments.orders, Tightness.TIGHT)
        day = generated_day(size, arguments.seed)
        result = measure_wave(
            day, arguments.time_limit, progress_file(arguments.out), arguments.profile
        )
        if arguments.nearest:
            result.policies.append(measure_nearest(day))
    arguments.out.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    # HiGHS prints its banner on stdout; keep stdout for nothing but this process's own output.
    os.dup2(2, 1)
    sys.exit(main(sys.argv[1:]))
