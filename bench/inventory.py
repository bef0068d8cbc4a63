"""Inventory: cart promises, availability, racing reservations and full-count syncs on a network
of 200 nodes × 5,000 SKUs (a million positions), on SQLite and PostgreSQL.

Reads are timed one request at a time, in process (the service function) and over HTTP against
a real `dom serve` in its own process; after a warm-up, every request is a sample, and the
report gives the median, p95, p99 and slowest. Reservations are raced by many HTTP clients at
once, and the database is checked afterwards: nothing oversold, and every unit a client was
told it holds is held. Syncs are timed as whole calls, one per run, and reported per position.
"""

from __future__ import annotations

import gc
import json
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from tests.support.postgres import start_cluster
from tests.support.server import free_port

from bench.cpu import own_cpu_seconds, tree_cpu_seconds, wait_until_idle
from bench.inventory_data import (
    RECOUNT_SHARE,
    STOCKING,
    THIRD_PARTY,
    VENDORS,
    HoldPlan,
    NetworkSize,
    Stock,
    build_network,
    carts,
    hold_plan,
    load_network,
    make_scarce,
    recount,
    sku_lists,
)
from bench.load_client import LoadClient, LoadError
from bench.startup import DOM, UP_DEADLINE_SECONDS, _launched, _wait_for
from bench.stats import Latencies, Timing
from dom.adapters.database import make_engine, reading
from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.domain.network import NodeType
from dom.domain.promise import CartLine
from dom.services.inventory import availability, sync_node
from dom.services.keys import create_key
from dom.services.masterdata import MasterData
from dom.services.promising import promise_cart
from dom.services.schema import migrate

CART_LINES = 10
AVAILABILITY_SKUS = 100
WARM_UP = 20
SYNC_NODES = 10  # the network of the large sync: few nodes, many SKUs
SCARCE_POSITIONS = 20
SCARCE_UNITS = 15
HTTP_AVAILABILITY_SAMPLES = 100  # no goal over HTTP, and each takes a third of a second
ROOT = Path(__file__).resolve().parent.parent
PROMISE = f"cart promise, {CART_LINES} lines"
AVAILABILITY = f"availability, {AVAILABILITY_SKUS} SKUs"

PROMISE_P99_MS = {"in process": 20.0, "HTTP": 50.0}
AVAILABILITY_P99_MS = 20.0
RESERVATIONS_PER_SECOND = 500
SYNC_POSITIONS_PER_SECOND = 50_000

Log = Callable[[str], None]


@dataclass(frozen=True)
class InventoryOptions:
    size: NetworkSize
    sync_skus: int
    samples: int
    repeat: int
    reservations: int
    clients: int
    workers: tuple[int, ...]
    postgres: bool
    seed: int = 7


@dataclass(frozen=True)
class Measured:
    """Latencies of one kind of request on one backend, one way in."""

    what: str
    backend: str
    via: str  # "in process" or "HTTP"
    latencies: Latencies
    goal_ms: float | None

    @property
    def met(self) -> bool | None:
        return None if self.goal_ms is None else 1000 * self.latencies.p99 <= self.goal_ms


@dataclass(frozen=True)
class HoldAudit:
    """What the database holds after a race, read back from the tables."""

    oversold: int  # positions with more held (or reserved) and allocated than on hand
    miscounted: int  # positions whose reserved count is not the sum of their holds
    held: dict[tuple[str, str], int]  # units held per position


@dataclass(frozen=True)
class CpuPerRequest:
    """Milliseconds of CPU per answered request: the server's processes, the database server's
    (None when the database lives inside the server, as SQLite does), the clients'."""

    server: float
    database: float | None
    clients: float


@dataclass(frozen=True)
class Race:
    """Many clients reserving at once over HTTP, and what the database holds afterwards."""

    backend: str
    workers: int
    clients: int
    created: int
    refused: int
    errors: tuple[str, ...]
    seconds: float
    latencies: Latencies
    confirmed: dict[tuple[str, str], int]  # units the clients were told they hold, per position
    audit: HoldAudit
    scarce_held: int
    scarce_units: int
    cpu: CpuPerRequest

    @property
    def created_per_second(self) -> float:
        return self.created / self.seconds

    @property
    def answered_per_second(self) -> float:
        return (self.created + self.refused) / self.seconds

    @property
    def matches(self) -> bool:
        """Every position holds exactly the units its clients were told they hold."""
        return self.confirmed == self.audit.held and self.audit.miscounted == 0

    @property
    def sound(self) -> bool:
        return not self.errors and self.audit.oversold == 0 and self.matches


@dataclass(frozen=True)
class Sync:
    backend: str
    via: str
    positions: int
    timing: Timing

    @property
    def rate(self) -> float:
        return self.timing.rate(self.positions)


@dataclass
class InventoryResults:
    options: InventoryOptions
    code: str = ""  # the commit measured
    stock: Stock | None = None
    setup: dict[str, float] = field(default_factory=dict)  # backend: seconds to load positions
    reads: list[Measured] = field(default_factory=list)
    races: list[Race] = field(default_factory=list)
    syncs: list[Sync] = field(default_factory=list)


@dataclass(frozen=True)
class _Backend:
    name: str
    new_url: Callable[[], str]  # a new, empty database
    database_pid: int | None  # the database server's main process, if it has one


@dataclass(frozen=True)
class _Server:
    base: str
    pid: int
    workers: int


# ---- timing ----------------------------------------------------------------------------------


def _sample(calls: Sequence[Callable[[], object]], warm_up: int) -> Latencies:
    """Run the first `warm_up` calls untimed, then time each of the rest on its own."""
    for call in calls[:warm_up]:
        call()
    seconds: list[float] = []
    for call in calls[warm_up:]:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return Latencies.of(seconds)


def _time_reads_in_process(
    engine: Engine, zips: ZipDirectory, data: MasterData, backend: str, options: InventoryOptions
) -> list[Measured]:
    """The service functions themselves, called one after another."""
    count = WARM_UP + options.samples
    promises = [
        partial(promise_cart, engine, LOCAL_OPERATOR, zips, cart, zip_code=zip_code)
        for zip_code, cart in carts(data, zips, count, CART_LINES, options.seed)
    ]
    lists = [
        partial(availability, engine, LOCAL_OPERATOR, skus)
        for skus in sku_lists(data, count, AVAILABILITY_SKUS, options.seed)
    ]
    via = "in process"
    return [
        Measured(PROMISE, backend, via, _sample(promises, WARM_UP), PROMISE_P99_MS[via]),
        Measured(AVAILABILITY, backend, via, _sample(lists, WARM_UP), AVAILABILITY_P99_MS),
    ]


def _time_reads_over_http(
    client: httpx.Client,
    zips: ZipDirectory,
    data: MasterData,
    backend: str,
    options: InventoryOptions,
) -> list[Measured]:
    """The same requests through `dom serve`, one keep-alive client, one request at a time."""
    promises = [
        partial(_post, client, "/v1/promise", _promise_body(zip_code, cart))
        for zip_code, cart in carts(data, zips, WARM_UP + options.samples, CART_LINES, options.seed)
    ]
    lists = [
        partial(_get, client, "/v1/availability", {"sku": skus})
        for skus in sku_lists(
            data,
            WARM_UP + min(options.samples, HTTP_AVAILABILITY_SAMPLES),
            AVAILABILITY_SKUS,
            options.seed,
        )
    ]
    via = "HTTP"
    return [
        Measured(PROMISE, backend, via, _sample(promises, WARM_UP), PROMISE_P99_MS[via]),
        Measured(AVAILABILITY, backend, via, _sample(lists, WARM_UP), None),
    ]


def _promise_body(zip_code: str, cart: Sequence[CartLine]) -> dict[str, Any]:
    return {"zip": zip_code, "lines": [{"sku": x.sku, "quantity": x.quantity} for x in cart]}


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return _ok(client.post(path, json=body))


def _get(client: httpx.Client, path: str, params: dict[str, Any]) -> httpx.Response:
    return _ok(client.get(path, params=params))


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:500]}")
    return response


# ---- reservations ----------------------------------------------------------------------------


@dataclass
class _ClientLog:
    seconds: list[float] = field(default_factory=list)
    created: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    held: dict[tuple[str, str], int] = field(default_factory=dict)


def _reserve_all(
    base: str, token: str, bodies: Sequence[dict[str, Any]], start: threading.Barrier
) -> _ClientLog:
    log = _ClientLog()
    with LoadClient(base, token) as client:
        client.get("/healthz")  # connect before the start
        start.wait()
        for body in bodies:
            began = time.perf_counter()
            try:
                response = client.post("/v1/reservations", body)
            except LoadError as error:
                log.errors.append(f"{type(error).__name__}: {error}")
                continue
            log.seconds.append(time.perf_counter() - began)
            if response.status_code == 201:
                log.created += 1
                for line in response.json()["lines"]:
                    key = (line["sku"], line["node_id"])
                    log.held[key] = log.held.get(key, 0) + int(line["held"])
            elif response.status_code == 409:
                log.refused += 1
            else:
                log.errors.append(f"{response.status_code}: {response.text[:300]}")
    return log


def _race(engine: Engine, server: _Server, token: str, plan: HoldPlan, backend: _Backend) -> Race:
    """Every client posts its reservations one after another, all clients at once."""
    _release_all(engine)
    make_scarce(engine, plan.scarce, plan.scarce_units)
    start = threading.Barrier(len(plan.bodies) + 1)
    logs: list[_ClientLog] = [_ClientLog() for _ in plan.bodies]

    def run(index: int) -> None:
        try:
            logs[index] = _reserve_all(server.base, token, plan.bodies[index], start)
        except Exception as error:  # a client that died is an error of the run, not a crash
            logs[index].errors.append(f"client died: {type(error).__name__}: {error}")
            start.abort()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(logs))]
    for thread in threads:
        thread.start()
    cpu_before = _cpu(server, backend)
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu_after = _cpu(server, backend)
    confirmed: dict[tuple[str, str], int] = {}
    for log in logs:
        for key, units in log.held.items():
            confirmed[key] = confirmed.get(key, 0) + units
    audit = _audit_holds(engine)
    answered = max(1, sum(log.created + log.refused for log in logs))
    server_ms, database_ms, clients_ms = (
        None if after is None or before is None else 1000 * (after - before) / answered
        for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    assert server_ms is not None and clients_ms is not None
    return Race(
        backend=backend.name,
        workers=server.workers,
        clients=len(logs),
        created=sum(log.created for log in logs),
        refused=sum(log.refused for log in logs),
        errors=tuple(error for log in logs for error in log.errors),
        seconds=seconds,
        latencies=Latencies.of([s for log in logs for s in log.seconds]),
        confirmed=confirmed,
        audit=audit,
        scarce_held=sum(audit.held.get(key, 0) for key in plan.scarce),
        scarce_units=len(plan.scarce) * plan.scarce_units,
        cpu=CpuPerRequest(server_ms, database_ms, clients_ms),
    )


def _cpu(server: _Server, backend: _Backend) -> tuple[float, float | None, float]:
    """CPU seconds so far of the server, the database server and this process (the clients)."""
    database = None if backend.database_pid is None else tree_cpu_seconds(backend.database_pid)
    return tree_cpu_seconds(server.pid), database, own_cpu_seconds()


def _audit_holds(engine: Engine) -> HoldAudit:
    held_by_position = "SELECT sku, node_id, SUM(quantity) AS held FROM holds GROUP BY sku, node_id"
    joined = (
        f"SELECT count(*) FROM positions p LEFT JOIN ({held_by_position}) h "
        "ON h.sku = p.sku AND h.node_id = p.node_id "
    )
    with reading(engine) as connection:
        oversold = connection.execute(
            text(
                joined + "WHERE p.reserved + p.allocated > p.on_hand "
                "OR COALESCE(h.held, 0) + p.allocated > p.on_hand"
            )
        ).scalar_one()
        miscounted = connection.execute(
            text(joined + "WHERE p.reserved <> COALESCE(h.held, 0)")
        ).scalar_one()
        held = {
            (sku, node): int(units)
            for sku, node, units in connection.execute(text(held_by_position))
        }
    return HoldAudit(int(oversold), int(miscounted), held)


def _release_all(engine: Engine) -> None:
    """Start a race from no holds: give back what an earlier race held."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM holds"))
        connection.execute(text("UPDATE positions SET reserved = 0 WHERE reserved <> 0"))


# ---- syncs -----------------------------------------------------------------------------------


def _time_syncs(
    engine: Engine,
    client: httpx.Client,
    node_id: str,
    backend: str,
    options: InventoryOptions,
    workers: int,
) -> list[Sync]:
    """Full counts of one node, alternately in process and over HTTP, a new count each run,
    after one untimed run per server worker (a worker's first count builds its statements)."""
    times: dict[str, list[float]] = {"in process": [], "HTTP": []}
    positions = 0
    for run in range(-workers, options.repeat):
        for via, timed in times.items():
            seconds = timed if run >= 0 else []
            counts = recount(engine, node_id, RECOUNT_SHARE, f"{options.seed}:{run}:{via}")
            positions = len(counts)
            key = f"bench-sync-{uuid.uuid4().hex[:12]}"
            source_time = datetime.now(UTC)
            if via == "in process":
                began = time.perf_counter()
                sync_node(
                    engine,
                    LOCAL_OPERATOR,
                    node_id,
                    counts,
                    source="bench",
                    source_time=source_time,
                    idempotency_key=key,
                )
                seconds.append(time.perf_counter() - began)
            else:
                body = {
                    "idempotency_key": key,
                    "source": "bench",
                    "source_time": source_time.isoformat(),
                    "quantities": counts,  # the compact form a large count is sent in
                }
                # Encoded before the clock starts: the sender's JSON is its own work, not dom's.
                encoded = json.dumps(body).encode()
                headers = {"Content-Type": "application/json"}
                path = f"/v1/inventory/nodes/{node_id}/sync"
                began = time.perf_counter()
                _ok(client.post(path, content=encoded, headers=headers))
                seconds.append(time.perf_counter() - began)
    return [Sync(backend, via, positions, Timing.of(seconds)) for via, seconds in times.items()]


# ---- one backend -----------------------------------------------------------------------------


@contextmanager
def _serving(url: str, workers: int, scratch: Path, src: Path | None = None) -> Iterator[_Server]:
    """`dom serve` on the database in its own process (another tree's, from its `src`, if
    given), once it answers and has warmed its caches (the ZIP directory, the console's map: a
    second or two of CPU per worker, which would otherwise fall into the first thing timed)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(DOM), "serve", "--port", str(port), "--workers", str(workers)]
    log = scratch / f"serve-{port}.log"
    with _launched(command, url, log, src) as process:
        _wait_for(process, f"{base}/healthz", time.perf_counter() + UP_DEADLINE_SECONDS, log)
        wait_until_idle(process.pid)
        yield _Server(base, process.pid, workers)


def _admin_client(server: _Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=300
    )


def _new_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def _first_dc(data: MasterData) -> str:
    return next(n.id for n in data.nodes if n.type is NodeType.DISTRIBUTION_CENTRE)


@dataclass(frozen=True)
class _Bench:
    """What every backend's run shares."""

    options: InventoryOptions
    zips: ZipDirectory
    data: MasterData  # the network of the reads and races
    sync_data: MasterData  # few nodes, many SKUs: the large full count
    scratch: Path
    results: InventoryResults
    log: Log

    def run(self, backend: _Backend) -> None:
        self._main_database(backend)
        self._sync_database(backend)

    def _main_database(self, backend: _Backend) -> None:
        options, results, name = self.options, self.results, backend.name
        url = backend.new_url()
        engine = _new_database(url)
        began = time.perf_counter()
        results.stock = load_network(engine, self.data, options.seed)
        results.setup[name] = time.perf_counter() - began
        self.log(f"{name}: {options.size.describe()} loaded in {results.setup[name]:.1f} s")
        token = create_key(engine, "bench", Role.ADMIN).token
        plan = hold_plan(
            results.stock,
            options.clients,
            options.reservations,
            SCARCE_POSITIONS,
            SCARCE_UNITS,
            options.seed,
        )
        # The benchmark's own data lives as long as the run: keep the collector off it, as a
        # server process would not hold it.
        gc.collect()
        gc.freeze()
        results.reads += _time_reads_in_process(engine, self.zips, self.data, name, options)
        self.log(f"{name}: in-process reads timed")
        for number, workers in enumerate(options.workers):
            with (
                _serving(url, workers, self.scratch) as server,
                _admin_client(server, token) as client,
            ):
                if number == 0:
                    results.reads += _time_reads_over_http(
                        client, self.zips, self.data, name, options
                    )
                    self.log(f"{name}: HTTP reads timed")
                race = _race(engine, server, token, plan, backend)
                results.races.append(race)
                self.log(
                    f"{name}: {race.created:,} reservations made, {race.refused:,} refused, "
                    f"{len(race.errors)} errors in {race.seconds:.1f} s, {workers} worker(s)"
                )
                if number == len(options.workers) - 1:
                    self._syncs(engine, client, _first_dc(self.data), name, workers)
        gc.unfreeze()
        engine.dispose()

    def _sync_database(self, backend: _Backend) -> None:
        url = backend.new_url()
        engine = _new_database(url)
        load_network(engine, self.sync_data, self.options.seed)
        token = create_key(engine, "bench", Role.ADMIN).token
        with (
            _serving(url, self.options.workers[0], self.scratch) as server,
            _admin_client(server, token) as client,
        ):
            self._syncs(
                engine, client, _first_dc(self.sync_data), backend.name, self.options.workers[0]
            )
        engine.dispose()

    def _syncs(
        self, engine: Engine, client: httpx.Client, node_id: str, backend: str, workers: int
    ) -> None:
        found = _time_syncs(engine, client, node_id, backend, self.options, workers)
        for sync in found:
            self.log(f"{backend}: sync of {sync.positions:,} {sync.via}: {sync.timing.describe()}")
        self.results.syncs += found


def run_inventory_benchmark(options: InventoryOptions, log: Log) -> InventoryResults:
    zips = zip_directory()
    data = build_network(zips, options.size)
    sync_data = build_network(zips, NetworkSize(SYNC_NODES, options.sync_skus))
    results = InventoryResults(options, code=_code_version())
    with tempfile.TemporaryDirectory(prefix="dom-bench-inventory-") as tmp:
        scratch = Path(tmp)
        bench = _Bench(options, zips, data, sync_data, scratch, results, log)
        files = iter(range(1_000))
        bench.run(
            _Backend("sqlite", lambda: f"sqlite:///{scratch / f'inv-{next(files)}.sqlite3'}", None)
        )
        if options.postgres:
            cluster = start_cluster()
            try:
                postmaster = (cluster.folder / "data" / "postmaster.pid").read_text().split()[0]
                bench.run(
                    _Backend(
                        "postgresql",
                        lambda: cluster.url(cluster.create_database()),
                        int(postmaster),
                    )
                )
            finally:
                cluster.stop()
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


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def goals_missed(results: InventoryResults) -> list[str]:
    missed = [
        f"{m.what} on {m.backend} {m.via}: p99 {1000 * m.latencies.p99:.1f} ms > {m.goal_ms:.0f} ms"
        for m in results.reads
        if m.met is False
    ]
    for race in results.races:
        if not race.sound:
            missed.append(f"reservations on {race.backend} oversold, miscounted or failed")
        if race.backend == "postgresql" and race.created_per_second < RESERVATIONS_PER_SECOND:
            missed.append(
                f"reservations on PostgreSQL, {race.workers} worker(s): "
                f"{race.created_per_second:,.0f}/s < {RESERVATIONS_PER_SECOND}/s"
            )
    missed += [
        f"sync of {s.positions:,} positions on {s.backend} {s.via}: {s.rate:,.0f}/s "
        f"< {SYNC_POSITIONS_PER_SECOND:,}/s"
        for s in results.syncs
        if s.rate < SYNC_POSITIONS_PER_SECOND
    ]
    return missed


def report_lines(results: InventoryResults) -> list[str]:
    return [
        *_setup_lines(results),
        *_read_lines(results),
        *_race_lines(results),
        *_sync_lines(results),
    ]


def _setup_lines(results: InventoryResults) -> list[str]:
    options, stock, size = results.options, results.stock, results.options.size
    assert stock is not None
    store_share, _ = STOCKING[NodeType.STORE]
    dc_share, _ = STOCKING[NodeType.DISTRIBUTION_CENTRE]
    loaded = ", ".join(f"{seconds:.1f} s on {name}" for name, seconds in results.setup.items())
    return [
        f"### Inventory: {size.describe()}",
        "",
        f"Code measured: {results.code}.",
        "",
        f"The demo network (distribution centres: {size.dcs}, stores: {size.stores}, dropship "
        f"vendors: {VENDORS}, 3PL: {THIRD_PARTY}; seed {options.seed}) with a position for every SKU at every node: "
        f"{stock.stocked:,} of {stock.positions:,} positions hold stock ({stock.units:,} units): "
        f"each DC stocks {dc_share:.0%} of the SKUs, each store {store_share:.0%} a few units "
        f"deep (some kept back as safety stock), the rest count zero. Positions written by bulk "
        f"insert (COPY on PostgreSQL), then ANALYZE: {loaded}.",
        "",
    ]


def _read_lines(results: InventoryResults) -> list[str]:
    options = results.options
    lines = [
        f"Reads: after {WARM_UP} warm-up requests, {options.samples} requests timed one at a "
        f"time (availability over HTTP: {min(options.samples, HTTP_AVAILABILITY_SAMPLES)}, "
        f"for time; it has no goal). A cart is {CART_LINES} distinct stock-tracked SKUs of 1-3 "
        f"units to a random ZIP; an availability request asks for {AVAILABILITY_SKUS} random "
        f"SKUs. In process: `promise_cart` and `availability`; HTTP: `POST /v1/promise` and "
        f"`GET /v1/availability` to `dom serve --workers {options.workers[0]}` in its own "
        "process, one keep-alive client with an admin key.",
        "",
        "| request | backend | via | samples | median ms | p95 ms | p99 ms | max ms "
        "| goal (p99) | |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in results.reads:
        goal = "—" if m.goal_ms is None else f"≤ {m.goal_ms:.0f} ms"
        lines.append(
            f"| {m.what} | {m.backend} | {m.via} | {m.latencies.cells()} | {goal} "
            f"| {_verdict(m.met)} |"
        )
    return [*lines, ""]


def _race_lines(results: InventoryResults) -> list[str]:
    options = results.options
    lines = [
        f"Reservations: {options.clients} HTTP clients (threads) at once, each posting its "
        f"carts one after another, {options.reservations:,} carts in all, each 1-3 lines of 2 "
        f"units at well-stocked DC positions; one cart in four also wants a unit of one of "
        f"{SCARCE_POSITIONS} scarce positions holding {SCARCE_UNITS} units each, so clients race "
        "for the last units and some carts are refused (409). Then the database is read: no "
        "position may hold and allocate more than it has on hand, every position's reserved "
        "count must be the sum of its holds, and each position must hold exactly the units its "
        "clients were told they hold. CPU per answered request from /proc: the `dom serve` "
        "processes, the PostgreSQL server's processes, the benchmark's client threads.",
        "",
        "| backend | workers | made | refused | errors | seconds | made/s | median ms | p95 ms "
        "| p99 ms | oversold | held = confirmed | scarce units held | CPU ms/request "
        "(server, database, clients) | goal (PostgreSQL: made ≥ 500/s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    for race in results.races:
        met = race.created_per_second >= RESERVATIONS_PER_SECOND and race.sound
        lat, cpu = race.latencies, race.cpu
        database = "—" if cpu.database is None else f"{cpu.database:.1f}"
        lines.append(
            f"| {race.backend} | {race.workers} | {race.created:,} | {race.refused:,} "
            f"| {len(race.errors)} | {race.seconds:.1f} | {race.created_per_second:,.0f} "
            f"| {1000 * lat.median:.1f} | {1000 * lat.p95:.1f} | {1000 * lat.p99:.1f} "
            f"| {race.audit.oversold} "
            f"| {'yes' if race.matches else '**no**'} ({sum(race.audit.held.values()):,} units) "
            f"| {race.scarce_held} of {race.scarce_units} "
            f"| {cpu.server:.1f}, {database}, {cpu.clients:.1f} "
            f"| {_verdict(met) if race.backend == 'postgresql' else '—'} |"
        )
    lines.append("")
    for race in results.races:
        lines += [f"{race.backend} error: `{error}`" for error in race.errors[:3]]
    return lines


def _sync_lines(results: InventoryResults) -> list[str]:
    options = results.options
    lines = [
        f"Full-count sync of one DC: `sync_node` in process and `POST "
        "/v1/inventory/nodes/{id}/sync` over HTTP (the compact `quantities` form, its JSON "
        f"encoded before the clock starts), alternately, {options.repeat} runs each after one "
        "untimed run per server worker; "
        f"every run a new count in which {RECOUNT_SHARE:.0%} of the SKUs differ from the books. "
        f"{options.size.skus:,} positions: a DC of the network above; {options.sync_skus:,}: "
        f"a DC of a {SYNC_NODES}-node network with {options.sync_skus:,} SKUs.",
        "",
        "| backend | positions | via | median (min-max, runs) | positions/s at median "
        "| goal ≥ 50,000/s |",
        "|---|---:|---|---|---:|---|",
    ]
    for sync in sorted(results.syncs, key=lambda s: (s.backend != "sqlite", s.positions)):
        lines.append(
            f"| {sync.backend} | {sync.positions:,} | {sync.via} | {sync.timing.describe()} "
            f"| {sync.rate:,.0f} | {_verdict(sync.rate >= SYNC_POSITIONS_PER_SECOND)} |"
        )
    return [*lines, ""]
