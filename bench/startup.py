"""Cold start: from launching the `dom` command until the service answers over HTTP.

`dom serve` runs on a SQLite file that already holds the demo network: we time the first answer
of `GET /healthz` (no database) and of an authenticated `GET /v1/nodes` (database and key check).
`dom up` starts from an empty file, so it migrates and loads the demo network before serving:
we time it until `GET /openapi.json` answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.server import free_port

from bench.stats import Timing
from dom.adapters.database import make_engine
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.services.demo import load_demo
from dom.services.keys import create_key
from dom.services.schema import migrate

DOM = Path(sys.executable).parent / "dom"
POLL_SECONDS = 0.01
UP_DEADLINE_SECONDS = 120.0


@dataclass(frozen=True)
class StartupResults:
    healthz: Timing
    nodes: Timing
    up: Timing
    up_rows: int


class ServiceDied(RuntimeError):
    pass


@contextmanager
def _launched(
    command: list[str], database_url: str, log: Path, python_path: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` in a process of its own on the database; with `python_path`, that tree's
    `dom` is imported instead of this one's."""
    env = {**os.environ, "DOM_DATABASE_URL": database_url, "DOM_LOG_LEVEL": "WARNING"}
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(
    process: subprocess.Popen[bytes],
    url: str,
    deadline: float,
    log: Path,
    headers: dict[str, str] | None = None,
) -> float:
    """Poll until `url` answers 200; returns the moment it did (time.perf_counter)."""
    with httpx.Client(timeout=2, headers=headers) as client:
        while True:
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter()
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise ServiceDied(f"{url}: the service exited; see {log}")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{url} did not answer in time; see {log}")
            time.sleep(POLL_SECONDS)


def _demo_database(folder: Path) -> tuple[str, str]:
    """A migrated SQLite file holding the demo network, and an admin key for it."""
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    load_demo(engine, LOCAL_OPERATOR, zip_directory())
    token = create_key(engine, "bench", Role.ADMIN).token
    engine.dispose()
    return url, token


def time_serve(folder: Path, repeat: int) -> tuple[Timing, Timing]:
    url, token = _demo_database(folder)
    log = folder / "serve.log"
    healthz: list[float] = []
    nodes: list[float] = []
    for _ in range(repeat):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        with _launched([str(DOM), "serve", "--port", str(port)], url, log) as process:
            deadline = started + UP_DEADLINE_SECONDS
            healthy = _wait_for(process, f"{base}/healthz", deadline, log)
            answered = _wait_for(
                process,
                f"{base}/v1/nodes",
                deadline,
                log,
                headers={"Authorization": f"Bearer {token}"},
            )
        healthz.append(healthy - started)
        nodes.append(answered - started)
    return Timing.of(healthz), Timing.of(nodes)


def time_up(folder: Path, repeat: int) -> tuple[Timing, int]:
    """`dom up` on a new, empty SQLite file, until /openapi.json answers."""
    times: list[float] = []
    rows = 0
    log = folder / "up.log"
    for run in range(repeat):
        database = folder / f"up-{run}.sqlite3"
        url = f"sqlite:///{database}"
        port = free_port()
        started = time.perf_counter()
        with _launched([str(DOM), "up", "--port", str(port)], url, log) as process:
            answered = _wait_for(
                process,
                f"http://127.0.0.1:{port}/openapi.json",
                started + UP_DEADLINE_SECONDS,
                log,
            )
        times.append(answered - started)
        engine = make_engine(url)
        with engine.connect() as connection:
            rows = sum(
                int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
                for table in ("nodes", "products", "carrier_services")
            )
        engine.dispose()
    return Timing.of(times), rows


def run_startup_benchmark(*, repeat: int) -> StartupResults:
    with tempfile.TemporaryDirectory(prefix="dom-bench-start-") as tmp:
        folder = Path(tmp)
        healthz, nodes = time_serve(folder, repeat)
        up, rows = time_up(folder, repeat)
    return StartupResults(healthz, nodes, up, rows)


def report_lines(results: StartupResults) -> list[str]:
    ratio = results.nodes.median / results.healthz.median
    return [
        "### Cold start",
        "",
        "From launching the command until the first successful answer (polling every 10 ms).",
        "",
        "| command | database | until | median (min-max, runs) |",
        "|---|---|---|---|",
        f"| `dom serve` | SQLite with the demo network | `GET /healthz` | "
        f"{results.healthz.describe()} |",
        f"| `dom serve` | SQLite with the demo network | authenticated `GET /v1/nodes` | "
        f"{results.nodes.describe()} |",
        f"| `dom up` | new, empty SQLite file (migrate, load demo: {results.up_rows:,} "
        f"nodes, products and services, serve) | `GET /openapi.json` | {results.up.describe()} |",
        "",
        f"The first authenticated `/v1/nodes` answer comes {ratio:.2f}× as late as the first "
        f"`/healthz` answer (same runs).",
        "",
    ]
