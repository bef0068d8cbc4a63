"""Orders (issue #5): capture → source → allocate over HTTP, 3-line orders on the inventory
benchmark's network (200 nodes × 5,000 SKUs, a position for every pair), on PostgreSQL with one
and two `dom serve` workers and on SQLite with one.

Each backend's network is built once; its servers then take turns, round after round (the
configurations measured side by side, in a rotating order), each round a fixed count of orders
posted by many HTTP clients at once after an untimed warm-up. After every round the database is
read back: no position allocates more than it has on hand, and every position's allocated
units are the units the live fulfilment requests hold there. Then, on PostgreSQL, the same kind
of orders is captured in process (no HTTP), one at a time, timed, and once under cProfile; and
when py-spy is found (next to python or on PATH), one more (untimed) round of the two-worker
server is sampled by it. A client sweep (rounds per client count) shows where it saturates;
the goal is judged at the count serving the most orders within the latency goal.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event, select, text
from tests.support.postgres import start_cluster

from bench.cpu import own_cpu_seconds, tree_cpu_seconds
from bench.inventory import _admin_client, _new_database, _Server, _serving
from bench.inventory_data import NetworkSize, Stock, build_network, load_network
from bench.load_client import LoadClient, LoadError
from bench.orders_data import ORDER_LINES, OrderMaker
from bench.stats import Latencies
from dom.adapters.database import reading
from dom.adapters.tables import fulfilments
from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.api.routes.orders import draft_of
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.schemas.orders import OrderIn
from dom.services import order_changes, orders
from dom.services.keys import create_key
from dom.services.masterdata import MasterData

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
ORDERS_PER_SECOND = 200
P99_MS = 100.0
GOAL_WORKERS = 2
#: Fulfilment statuses whose units are still allocated at their node.
HOLDING = (
    "sourced",
    "released",
    "acknowledged",
    "picking",
    "packed",
    "ready_for_pickup",
    "customer_arrived",
)
PROFILE_TOP = 15
IN_PROCESS_WARM_UP = 20
WARM_UP_PER_CLIENT = 2
#: SQLite's clients: one worker's connection pool (5 + 10 overflow) deadlocks from 15 at once.
SQLITE_CLIENTS = 8

Log = Callable[[str], None]

#: `--small`: a quick look, in about three minutes.
SMALL = {"orders_nodes": 40, "orders_skus": 1_000, "orders": 300, "orders_in_process": 100}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("orders")
    group.add_argument("--orders-nodes", type=int, default=200)
    group.add_argument("--orders-skus", type=int, default=5_000)
    group.add_argument("--orders", type=int, default=2_000, help="timed orders per round")
    group.add_argument(
        "--orders-clients", type=int, default=32, help="HTTP clients posting orders at once"
    )
    group.add_argument(
        "--orders-sqlite-clients",
        type=int,
        default=SQLITE_CLIENTS,
        help="on SQLite (15 or more deadlock its connection pool: see docs/benchmarks.md)",
    )
    group.add_argument(
        "--orders-sweep",
        type=int,
        nargs="*",
        default=[4, 8, 16],
        help="more client counts on PostgreSQL with two workers (as many rounds as the servers)",
    )
    group.add_argument("--orders-rounds", type=int, default=3, help="rounds per server (≥ 3)")
    group.add_argument(
        "--orders-in-process", type=int, default=300, help="orders captured in process, timed"
    )


@dataclass(frozen=True)
class OrdersOptions:
    size: NetworkSize
    orders: int
    clients: int
    sqlite_clients: int
    sweep: tuple[int, ...]
    rounds: int
    in_process: int
    postgres: bool
    seed: int = 7

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace, postgres: bool) -> OrdersOptions:
        if arguments.orders_rounds < 3:
            raise SystemExit("--orders-rounds must be at least 3")
        return cls(
            size=NetworkSize(arguments.orders_nodes, arguments.orders_skus),
            orders=arguments.orders,
            clients=arguments.orders_clients,
            sqlite_clients=arguments.orders_sqlite_clients,
            sweep=tuple(arguments.orders_sweep),
            rounds=arguments.orders_rounds,
            in_process=arguments.orders_in_process,
            postgres=postgres,
        )


@dataclass(frozen=True)
class Audit:
    """What the database holds after a round, read back from the tables."""

    oversold: int  # positions allocating (and reserving) more than they have on hand
    mismatched: int  # positions whose allocated units are not what the live requests hold
    allocated: int  # units allocated, in all


@dataclass(frozen=True)
class Round:
    """One configuration's round: a fixed count of orders from many clients at once."""

    backend: str
    workers: int
    clients: int
    number: int  # from 0; -1: the py-spy round, -2: a round of the client sweep
    orders: int  # timed orders sent
    created: int  # answered 201
    errors: dict[str, int]  # "status code" (or transport error) → how many
    samples: tuple[str, ...]  # the first few error bodies
    seconds: float
    latencies: Latencies
    statuses: dict[str, int]  # order status in the 201 answers → how many
    requests: int  # fulfilment requests in the 201 answers
    audit: Audit
    cpu_ms: tuple[float, float | None, float]  # per order: server, database, clients

    @property
    def per_second(self) -> float:
        return self.created / self.seconds

    @property
    def sound(self) -> bool:
        return not self.errors and self.audit.oversold == 0 and self.audit.mismatched == 0


@dataclass(frozen=True)
class Profiled:
    """Where the time of in-process captures went: (function, share of the total) pairs."""

    total_seconds: float
    inclusive: tuple[tuple[str, float], ...]
    own: tuple[tuple[str, float], ...]


@dataclass
class OrdersResults:
    options: OrdersOptions
    code: str = ""
    stock: Stock | None = None
    setup: dict[str, float] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    sweep: list[Round] = field(default_factory=list)
    in_process: InProcess | None = None
    profile: Profiled | None = None
    py_spy: Profiled | None = None


@dataclass(frozen=True)
class _Config:
    backend: str
    workers: int
    clients: int


@dataclass(frozen=True)
class _Database:
    backend: str
    url: str
    engine: Engine
    token: str
    database_pid: int | None


# ---- the orders ------------------------------------------------------------------------------


# ---- a round over HTTP -----------------------------------------------------------------------


@dataclass
class _ClientLog:
    seconds: list[float] = field(default_factory=list)
    created: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    started: bool = False

    def failed(self, kind: str, body: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 3:
            self.samples.append(f"{kind}: {body[:300]}")


def _post_all(
    log: _ClientLog,
    base: str,
    token: str,
    warm_up: Sequence[dict[str, Any]],
    bodies: Sequence[dict[str, Any]],
    start: threading.Barrier,
) -> None:
    with LoadClient(base, token) as client:
        for body in warm_up:
            try:
                response = client.post("/v1/orders", body)
            except LoadError as error:
                log.failed(f"warm-up {type(error).__name__}", str(error))
                continue
            if response.status_code != 201:
                log.failed(f"warm-up {response.status_code}", response.text)
        start.wait()
        log.started = True
        for body in bodies:
            began = time.perf_counter()
            try:
                response = client.post("/v1/orders", body)
            except LoadError as error:
                log.failed(type(error).__name__, str(error))
                continue
            log.seconds.append(time.perf_counter() - began)
            if response.status_code == 201:
                found = response.json()
                log.created += 1
                log.statuses[found["status"]] += 1
                log.requests += len(found["fulfilments"])
            else:
                log.failed(str(response.status_code), response.text)


def _round(
    database: _Database,
    server: _Server,
    maker: OrderMaker,
    options: OrdersOptions,
    clients: int,
    number: int,
) -> Round:
    """Every client posts its orders one after another, all clients at once, after two untimed
    warm-up orders each."""
    _reset_capacity(database.engine)
    tag = f"{database.backend}-{server.workers}-{clients}-{number}"
    warm = [maker.bodies(WARM_UP_PER_CLIENT, f"{tag}-warm") for _ in range(clients)]
    timed = maker.bodies(options.orders, tag)
    per_client = [timed[i::clients] for i in range(clients)]
    start = threading.Barrier(clients + 1)
    logs = [_ClientLog() for _ in range(clients)]

    def run(index: int) -> None:
        log = logs[index]
        try:
            _post_all(log, server.base, database.token, warm[index], per_client[index], start)
        except Exception as error:  # a client that died is an error of the round, not a crash
            log.failed("client died", f"{type(error).__name__}: {error}")
            if not log.started:
                start.wait()  # the others start without it

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(logs))]
    for thread in threads:
        thread.start()
    start.wait()
    cpu_before = _cpu(server, database)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu_after = _cpu(server, database)
    created = sum(log.created for log in logs)
    server_ms, database_ms, clients_ms = (
        None if after is None or before is None else 1000 * (after - before) / max(1, created)
        for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    assert server_ms is not None and clients_ms is not None
    errors: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for log in logs:
        errors.update(log.errors)
        statuses.update(log.statuses)
    return Round(
        backend=database.backend,
        workers=server.workers,
        clients=clients,
        number=number,
        orders=options.orders,
        created=created,
        errors=dict(errors),
        samples=tuple(sample for log in logs for sample in log.samples)[:5],
        seconds=seconds,
        latencies=Latencies.of([s for log in logs for s in log.seconds] or [0.0, 0.0]),
        statuses=dict(statuses),
        requests=sum(log.requests for log in logs),
        audit=_audit(database.engine),
        cpu_ms=(server_ms, database_ms, clients_ms),
    )


def _cpu(server: _Server, database: _Database) -> tuple[float, float | None, float]:
    """CPU seconds so far of the server, the database server and this process (the clients)."""
    pid = database.database_pid
    return (
        tree_cpu_seconds(server.pid),
        None if pid is None else tree_cpu_seconds(pid),
        (own_cpu_seconds()),
    )


def _reset_capacity(engine: Engine) -> None:
    """Every round starts from nodes with their whole day's capacity: rounds stay comparable
    (the stock they allocate is a small share of the network's)."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM capacity_used"))


def _audit(engine: Engine) -> Audit:
    """Nothing oversold; allocated units are exactly what the live fulfilment requests hold."""
    with reading(engine) as connection:
        oversold = connection.execute(
            text(
                "SELECT count(*) FROM positions "
                "WHERE allocated > on_hand OR reserved + allocated > on_hand OR allocated < 0"
            )
        ).scalar_one()
        allocated = {
            (sku, node): int(units)
            for sku, node, units in connection.execute(
                text("SELECT sku, node_id, allocated FROM positions WHERE allocated <> 0")
            )
        }
        held: dict[tuple[str, str], int] = {}
        live = connection.execute(
            select(fulfilments.c.node_id, fulfilments.c.document).where(
                fulfilments.c.status.in_(HOLDING)
            )
        )
        for node, document in live:
            for part in document["parts"]:
                key = (part["sku"], node)
                held[key] = held.get(key, 0) + int(part["quantity"])
    mismatched = sum(
        1 for key in allocated.keys() | held.keys() if allocated.get(key) != held.get(key)
    )
    return Audit(int(oversold), mismatched, sum(allocated.values()))


# ---- in process ------------------------------------------------------------------------------


def _captures(
    engine: Engine, zips: ZipDirectory, bodies: Sequence[dict[str, Any]]
) -> list[Callable[[], object]]:
    policy = order_changes.Policy()

    def call(body: dict[str, Any]) -> object:
        draft = draft_of(OrderIn.model_validate(body))
        return orders.capture(engine, LOCAL_OPERATOR, zips, draft, (), policy)

    return [partial(call, body) for body in bodies]


@dataclass(frozen=True)
class InProcess:
    """In-process captures: their latencies, and the database work of one, on average."""

    latencies: Latencies
    statements: float  # SQL statements sent per order
    checkouts: float  # connections taken from the pool per order
    sql_ms: float  # milliseconds per order from sending statements to having their results


def _time_in_process(
    database: _Database, zips: ZipDirectory, maker: OrderMaker, options: OrdersOptions
) -> InProcess:
    """`orders.capture` called one order after another, from the parsed body on; statements
    and pool checkouts counted by SQLAlchemy's events."""
    engine = database.engine
    _reset_capacity(engine)
    bodies = maker.bodies(IN_PROCESS_WARM_UP + options.in_process, "in-process")
    calls = _captures(engine, zips, bodies)
    for call in calls[:IN_PROCESS_WARM_UP]:
        call()
    counts = {"statements": 0, "checkouts": 0, "sql": 0.0}
    sent: dict[int, float] = {}

    def before(connection: Any, *_: Any) -> None:
        sent[id(connection)] = time.perf_counter()

    def after(connection: Any, *_: Any) -> None:
        counts["statements"] += 1
        counts["sql"] += time.perf_counter() - sent.pop(id(connection))

    def checkout(*_: Any) -> None:
        counts["checkouts"] += 1

    listeners = (("before_cursor_execute", before), ("after_cursor_execute", after))
    for name, listener in listeners:
        event.listen(engine, name, listener)
    event.listen(engine.pool, "checkout", checkout)
    seconds: list[float] = []
    try:
        for call in calls[IN_PROCESS_WARM_UP:]:
            began = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - began)
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
        event.remove(engine.pool, "checkout", checkout)
    count = len(seconds)
    return InProcess(
        Latencies.of(seconds),
        counts["statements"] / count,
        counts["checkouts"] / count,
        1000 * counts["sql"] / count,
    )


def _profile_in_process(
    database: _Database, zips: ZipDirectory, maker: OrderMaker, options: OrdersOptions
) -> Profiled:
    """The same captures once more under cProfile: inclusive and own time per function."""
    _reset_capacity(database.engine)
    calls = _captures(database.engine, zips, maker.bodies(options.in_process, "profiled"))
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    total = time.perf_counter() - began
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows: list[tuple[str, float, float]] = []
    for (filename, line, name), (_, _, own, inclusive, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((_where(filename, line, name), own, inclusive))
    ours = [row for row in rows if "dom/" in row[0] or "sqlalchemy" in row[0]]
    by_inclusive = sorted(ours, key=lambda row: -row[2])[:PROFILE_TOP]
    by_own = sorted(rows, key=lambda row: -row[1])[:PROFILE_TOP]
    return Profiled(
        total,
        tuple((where, inclusive / total) for where, _, inclusive in by_inclusive),
        tuple((where, own / total) for where, own, _ in by_own),
    )


def _where(filename: str, line: int, name: str) -> str:
    if filename == "~":
        return name
    parts = Path(filename).parts
    for anchor in ("dom", "sqlalchemy", "fastapi", "starlette", "pydantic", "httpx"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            return f"{'/'.join(parts[index:])}:{line} {name}"
    return f"{Path(filename).name}:{line} {name}"


# ---- py-spy on the server --------------------------------------------------------------------


def _py_spy_round(
    database: _Database,
    server: _Server,
    maker: OrderMaker,
    options: OrdersOptions,
    out: Path,
    log: Log,
) -> Profiled | None:
    """One more round of the server, sampled by py-spy (all its processes, active time only)."""
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if py_spy is None:
        log("py-spy not found (next to python or on PATH): no sampled round")
        return None
    command = [
        py_spy,
        "record",
        "--pid",
        str(server.pid),
        "--subprocesses",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    said = out.with_suffix(".log")
    with said.open("wb") as sink:
        recorder = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        time.sleep(2.0)  # py-spy attaches
        try:
            _round(database, server, maker, options, options.clients, -1)
        finally:
            recorder.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
            recorder.wait(timeout=60)
    if not out.exists():
        log(f"py-spy wrote nothing: {said.read_text()[-500:]}")
        return None
    return _collapsed(out.read_text())


def _collapsed(raw: str) -> Profiled:
    """Inclusive (dom functions) and own (any) sample shares from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(frame) for frame in stack.split(";")[1:]]  # the first is the process
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            if "dom/" in frame:
                inclusive[frame] += count
    total = max(total, 1)
    return Profiled(
        float(total),
        tuple((frame, n / total) for frame, n in inclusive.most_common(PROFILE_TOP)),
        tuple((frame, n / total) for frame, n in own.most_common(PROFILE_TOP)),
    )


def _frame(frame: str) -> str:
    """'name (path/to/file.py:12)' as 'file path from the package:line name', line dropped."""
    name, _, where = frame.partition(" (")
    filename = where.rstrip(")").rsplit(":", 1)[0]
    return _where(filename, 0, name).replace(":0 ", " ")


# ---- the run ---------------------------------------------------------------------------------


def _configs(options: OrdersOptions) -> list[_Config]:
    found = [_Config("sqlite", 1, options.sqlite_clients)]
    if options.postgres:
        found = [
            _Config("postgresql", GOAL_WORKERS, options.clients),
            _Config("postgresql", 1, options.clients),
            *found,
        ]
    return found


def _prepare(
    backend: str, url: str, database_pid: int | None, data: MasterData, results: OrdersResults
) -> _Database:
    engine = _new_database(url)
    began = time.perf_counter()
    results.stock = load_network(engine, data, results.options.seed)
    results.setup[backend] = time.perf_counter() - began
    token = create_key(engine, "bench", Role.ADMIN).token
    return _Database(backend, url, engine, token, database_pid)


def run_orders_benchmark(options: OrdersOptions, log: Log) -> OrdersResults:
    zips = zip_directory()
    data = build_network(zips, options.size)
    results = OrdersResults(options, code=_code_version())
    with tempfile.TemporaryDirectory(prefix="dom-bench-orders-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        databases: dict[str, _Database] = {}
        databases["sqlite"] = _prepare(
            "sqlite", f"sqlite:///{scratch / 'orders.sqlite3'}", None, data, results
        )
        if options.postgres:
            cluster = start_cluster()
            stack.callback(cluster.stop)
            postmaster = (cluster.folder / "data" / "postmaster.pid").read_text().split()[0]
            databases["postgresql"] = _prepare(
                "postgresql",
                cluster.url(cluster.create_database()),
                int(postmaster),
                data,
                results,
            )
        for name, seconds in results.setup.items():
            log(f"{name}: {options.size.describe()} loaded in {seconds:.1f} s")
        assert results.stock is not None
        maker = OrderMaker(results.stock, zips, options.seed)
        configs = _configs(options)
        servers = {
            config: stack.enter_context(
                _serving(databases[config.backend].url, config.workers, scratch)
            )
            for config in configs
        }
        for config, server in servers.items():  # each server's first requests, untimed
            with _admin_client(server, databases[config.backend].token) as client:
                client.get("/v1/nodes").raise_for_status()
        gc.collect()
        gc.freeze()
        for number in range(options.rounds):
            for config in _rotated(configs, number):
                found = _round(
                    databases[config.backend],
                    servers[config],
                    maker,
                    options,
                    config.clients,
                    number,
                )
                results.rounds.append(found)
                log(
                    f"round {number + 1}: {config.backend}, {config.workers} worker(s): "
                    f"{found.per_second:,.0f} orders/s, p99 "
                    f"{1000 * found.latencies.p99:.0f} ms, {sum(found.errors.values())} errors"
                )
        if options.postgres:
            postgres = databases["postgresql"]
            spied = servers[configs[0]]
            for number in range(options.rounds if options.sweep else 0):
                for clients in _rotated(options.sweep, number):
                    found = _round(postgres, spied, maker, options, clients, -2)
                    results.sweep.append(found)
                    log(
                        f"sweep {number + 1}: {clients} clients: {found.per_second:,.0f} "
                        f"orders/s, p99 {1000 * found.latencies.p99:.0f} ms"
                    )
            results.in_process = _time_in_process(postgres, zips, maker, options)
            log(f"in process: p50 {1000 * results.in_process.latencies.median:.1f} ms")
            results.profile = _profile_in_process(postgres, zips, maker, options)
            results.py_spy = _py_spy_round(
                postgres, spied, maker, options, scratch / "spy.txt", log
            )
            if results.py_spy is not None:
                log("py-spy round sampled")
        gc.unfreeze()
        for database in databases.values():
            database.engine.dispose()
    return results


def _code_version() -> str:
    """The commit measured, and whether src/ had changes not yet committed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"{commit} with uncommitted changes in src/" if dirty else commit


# ---- report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One configuration's rounds: medians, and the range around them."""

    backend: str
    workers: int
    rounds: tuple[Round, ...]

    def median(self, value: Callable[[Round], float]) -> float:
        values = sorted(value(r) for r in self.rounds)
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    def spread(self, value: Callable[[Round], float], scale: float = 1.0, digits: int = 0) -> str:
        values = [scale * value(r) for r in self.rounds]
        return f"{min(values):,.{digits}f}-{max(values):,.{digits}f}"

    @property
    def rate(self) -> float:
        return self.median(lambda r: r.per_second)

    @property
    def p99_ms(self) -> float:
        return 1000 * self.median(lambda r: r.latencies.p99)

    @property
    def sound(self) -> bool:
        return all(r.sound for r in self.rounds)

    @property
    def met(self) -> bool:
        return self.rate >= ORDERS_PER_SECOND and self.p99_ms <= P99_MS and self.sound


def _rotated(items: Sequence[T], turn: int) -> list[T]:
    """`items` starting at the `turn`-th (modulo): each takes each place in turn."""
    start = turn % len(items)
    return [*items[start:], *items[:start]]


def sweep_summaries(results: OrdersResults) -> list[tuple[int, Summary]]:
    """Per client count of the sweep (PostgreSQL, two workers), its rounds."""
    counts = sorted({r.clients for r in results.sweep})
    return [
        (
            clients,
            Summary(
                "postgresql",
                GOAL_WORKERS,
                tuple(r for r in results.sweep if r.clients == clients),
            ),
        )
        for clients in counts
    ]


def at_the_latency_goal(results: OrdersResults) -> tuple[int, Summary] | None:
    """Of the client counts measured on PostgreSQL with two workers (the main rounds' and the
    sweep's), the one serving the most orders per second with a median p99 within the goal's
    100 ms: the throughput the server sustains at that latency (more clients only queue)."""
    points = list(sweep_summaries(results))
    for summary in summaries(results):
        if summary.backend == "postgresql" and summary.workers == GOAL_WORKERS:
            points.append((results.options.clients, summary))
    within = [(c, s) for c, s in points if s.p99_ms <= P99_MS and s.sound]
    return max(within, key=lambda point: point[1].rate, default=None)


def summaries(results: OrdersResults) -> list[Summary]:
    found = []
    for config in _configs(results.options):
        rounds = tuple(
            r
            for r in results.rounds
            if (r.backend, r.workers) == (config.backend, config.workers) and r.number >= 0
        )
        if rounds:
            found.append(Summary(config.backend, config.workers, rounds))
    return found


def goals_missed(results: OrdersResults) -> list[str]:
    """The goal: on PostgreSQL with two workers, at least 200 orders per second with p99 within
    100 ms, both at once — at the client count serving the most orders within that latency."""
    missed = [
        f"orders on {summary.backend}: errors, oversold or mismatched units"
        for summary in summaries(results)
        if not summary.sound
    ]
    missed += [
        f"orders on PostgreSQL, {clients} clients: errors, oversold or mismatched units"
        for clients, summary in sweep_summaries(results)
        if not summary.sound
    ]
    best = at_the_latency_goal(results)
    if best is None:
        missed.append(
            f"orders on PostgreSQL, {GOAL_WORKERS} workers: p99 over {P99_MS:.0f} ms at every "
            "client count measured"
        )
    elif best[1].rate < ORDERS_PER_SECOND:
        missed.append(
            f"orders on PostgreSQL, {GOAL_WORKERS} workers: {best[1].rate:,.0f}/s with p99 within "
            f"{P99_MS:.0f} ms ({best[0]} clients) < {ORDERS_PER_SECOND}/s"
        )
    return missed


def report_lines(results: OrdersResults) -> list[str]:
    options, stock = results.options, results.stock
    assert stock is not None
    loaded = ", ".join(f"{seconds:.1f} s on {name}" for name, seconds in results.setup.items())
    lines = [
        f"### Orders: {options.size.describe()}",
        "",
        f"Code measured: {results.code}.",
        "",
        f"The inventory benchmark's network and stock ({stock.stocked:,} of {stock.positions:,} "
        f"positions stocked; loaded in {loaded}). An order: {ORDER_LINES} ship lines of distinct "
        "SKUs stocked at a DC, 1-3 units each, to a random real ZIP, channel `web`, the active "
        f"routing rules. HTTP clients (threads; {options.clients} on PostgreSQL, "
        f"{options.sqlite_clients} on SQLite) post `POST /v1/orders` at once, each its orders "
        f"one after another: {WARM_UP_PER_CLIENT} untimed warm-up orders per client, "
        f"then {options.orders:,} timed, per round; {options.rounds} rounds per server, the "
        "servers taking turns (rotating order), the nodes' used capacity cleared before each "
        "round. Afterwards: positions allocating more than on hand (oversold), and positions "
        "whose allocated units differ from what the live fulfilment requests hold there "
        "(mismatched). CPU per order from /proc: `dom serve` processes, PostgreSQL server, the "
        "benchmark's client threads.",
        "",
        "| backend | workers | clients | orders/s median (range) | p50 ms | p95 ms | p99 ms (range) "
        "| max ms | 201s | errors | oversold | mismatched | requests/order "
        "| CPU ms/order (server, database, clients) | goal (≥ 200/s, p99 ≤ 100 ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in summaries(results):
        sent = sum(r.orders for r in s.rounds)
        created = sum(r.created for r in s.rounds)
        errors = sum(sum(r.errors.values()) for r in s.rounds)
        requests = sum(r.requests for r in s.rounds) / max(1, created)
        cpu = [s.median(partial(_cpu_ms, index=i)) for i in range(3)]
        database = f"{cpu[1]:.1f}" if s.backend == "postgresql" else "—"
        verdict = "—"
        if s.backend == "postgresql":
            verdict = "met" if s.met else "**missed**"
        lines.append(
            f"| {s.backend} | {s.workers} | {s.rounds[0].clients} "
            f"| {s.rate:,.0f} ({s.spread(lambda r: r.per_second)}) "
            f"| {1000 * s.median(lambda r: r.latencies.median):.1f} "
            f"| {1000 * s.median(lambda r: r.latencies.p95):.1f} "
            f"| {s.p99_ms:.1f} ({s.spread(lambda r: r.latencies.p99, 1000)}) "
            f"| {1000 * max(r.latencies.slowest for r in s.rounds):.0f} "
            f"| {created / sent:.1%} | {errors} "
            f"| {max(r.audit.oversold for r in s.rounds)} "
            f"| {max(r.audit.mismatched for r in s.rounds)} | {requests:.2f} "
            f"| {cpu[0]:.1f}, {database}, {cpu[2]:.1f} | {verdict} |"
        )
    lines.append("")
    lines += _ratio_lines(results)
    for s in summaries(results):
        statuses: Counter[str] = Counter()
        for r in s.rounds:
            statuses.update(r.statuses)
        shown = ", ".join(f"{name} {count:,}" for name, count in statuses.most_common())
        lines.append(f"- {s.backend}, {s.workers} worker(s): order status in the answers: {shown}.")
        kinds: Counter[str] = Counter()
        for r in s.rounds:
            kinds.update(r.errors)
        if kinds:
            lines.append(f"  Errors: {', '.join(f'{k} × {v}' for k, v in kinds.items())}.")
            samples = [x for r in s.rounds for x in r.samples][:3]
            lines += [f"  `{x}`" for x in samples]
    lines.append("")
    lines += _per_round_lines(results)
    lines += _sweep_lines(results)
    lines += _in_process_lines(results)
    return lines


def _cpu_ms(found: Round, index: int) -> float:
    return found.cpu_ms[index] or 0.0


def _ratio_lines(results: OrdersResults) -> list[str]:
    by = {(s.backend, s.workers): s for s in summaries(results)}
    pairs = [
        (("postgresql", 2), ("postgresql", 1), "PostgreSQL 2 workers / 1 worker"),
        (("postgresql", 2), ("sqlite", 1), "PostgreSQL 2 workers / SQLite 1 worker"),
        (("postgresql", 1), ("sqlite", 1), "PostgreSQL 1 worker / SQLite 1 worker"),
    ]
    lines = []
    for left, right, label in pairs:
        if left in by and right in by:
            ratios = sorted(
                a.per_second / b.per_second
                for a, b in zip(by[left].rounds, by[right].rounds, strict=True)
            )
            lines.append(
                f"- Throughput ratio {label}, round by round: median {ratios[len(ratios) // 2]:.2f} "
                f"({ratios[0]:.2f}-{ratios[-1]:.2f})."
            )
    return lines


def _per_round_lines(results: OrdersResults) -> list[str]:
    lines = [
        "| round | backend | workers | orders/s | p50 ms | p99 ms | seconds |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results.rounds:
        if r.number < 0:
            continue
        lines.append(
            f"| {r.number + 1} | {r.backend} | {r.workers} | {r.per_second:,.0f} "
            f"| {1000 * r.latencies.median:.1f} | {1000 * r.latencies.p99:.1f} | {r.seconds:.1f} |"
        )
    return [*lines, ""]


def _sweep_lines(results: OrdersResults) -> list[str]:
    if not results.sweep:
        return []
    rounds = len(results.sweep) // max(1, len({r.clients for r in results.sweep}))
    lines = [
        f"Client sweep: {rounds} rounds of {results.options.orders:,} orders for each client "
        f"count, PostgreSQL, {GOAL_WORKERS} workers, the counts in a rotating order; medians "
        f"over the rounds (the {results.options.clients}-client row: the rounds above). With "
        "each client posting its next order as soon as the last is answered, more clients than "
        "the server can serve at once only wait in its queue: throughput stays, latency grows "
        "(Little's law: clients ÷ orders per second is the mean latency).",
        "",
        "| clients | orders/s median (range) | p50 ms | p95 ms | p99 ms (range) | errors, "
        "oversold, mismatched |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for clients, summary in sweep_summaries(results):
        lines.append(
            f"| {clients} | {summary.rate:,.0f} ({summary.spread(lambda r: r.per_second)}) "
            f"| {summary.median(lambda r: r.latencies.median) * 1000:.1f} "
            f"| {summary.median(lambda r: r.latencies.p95) * 1000:.1f} "
            f"| {summary.p99_ms:.1f} ({summary.spread(lambda r: r.latencies.p99, 1000)}) "
            f"| {'none' if summary.sound else '**some**'} |"
        )
    best = at_the_latency_goal(results)
    verdict = (
        f"p99 over {P99_MS:.0f} ms at every client count"
        if best is None
        else f"{best[1].rate:,.0f} orders/s with p99 {best[1].p99_ms:.0f} ms, at {best[0]} clients"
    )
    met = best is not None and best[1].rate >= ORDERS_PER_SECOND
    lines += [
        "",
        f"**Goal (≥ {ORDERS_PER_SECOND}/s with p99 ≤ {P99_MS:.0f} ms, both at once): "
        f"{'met' if met else 'missed'}** — the most orders per second within the latency: "
        f"{verdict}.",
    ]
    return [*lines, ""]


def _in_process_lines(results: OrdersResults) -> list[str]:
    if results.in_process is None:
        return ["In process: skipped (no PostgreSQL).", ""]
    found = results.in_process
    lines = [
        f"In process on PostgreSQL: `orders.capture` (from the parsed body on), one order at a "
        f"time, after {IN_PROCESS_WARM_UP} warm-up orders; per order, the SQL statements sent, "
        "the connections taken from the pool, and the time from sending each statement to "
        "having its result (driver, round trip and server).",
        "",
        "| samples | median ms | p95 ms | p99 ms | max ms | statements | pool checkouts | SQL ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {found.latencies.cells()} | {found.statements:.1f} | {found.checkouts:.1f} "
        f"| {found.sql_ms:.1f} |",
        "",
    ]
    for title, profiled, unit in (
        ("cProfile of in-process captures", results.profile, "s"),
        ("py-spy of the 2-worker server, one round", results.py_spy, "samples"),
    ):
        if profiled is None:
            continue
        lines += [
            f"{title} ({profiled.total_seconds:,.1f} {unit}): inclusive share, our code "
            "and SQLAlchemy | own share, anything",
            "",
            "| inclusive | share | own | share |",
            "|---|---:|---|---:|",
        ]
        for (inner, a), (outer, b) in zip(profiled.inclusive, profiled.own, strict=False):
            lines.append(f"| `{inner}` | {a:.0%} | `{outer}` | {b:.0%} |")
        lines.append("")
    return lines
