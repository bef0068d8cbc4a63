"""`orders.capture` in process, this tree against another, side by side (issue #5).

    python -m bench.orders_in_process --baseline-src /tmp/old/src [--backend sqlite] [--rounds 3]

Each round runs, one after the other and each in a process of its own, the baseline tree and
this one: a fresh database (PostgreSQL: one cluster for the run, a database per process), a
network of 200 nodes × 2,000 SKUs with the inventory benchmark's stock, 30 untimed captures
of 3-line orders, then 300 timed, one at a time. Reported per tree: the median over the rounds
of each run's median and p95 latency, CPU per capture (the process's own: the engine, the
service, SQLAlchemy and the driver; PostgreSQL's work is not in it) and SQL statements per
capture; and the round-by-round ratio of CPU per capture. The full HTTP benchmark is
`python -m bench --only orders`; this one isolates what a change does to the capture path
while the machine's load moves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 30
TIMED = 300
MEASURES = ("median_ms", "p95_ms", "cpu_ms", "statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="another tree's src")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a database URL: run one tree
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(_measure(arguments.child)))
        return
    _compare(arguments.baseline_src.resolve(), arguments.backend, arguments.rounds)


def _compare(baseline: Path, backend: str, rounds: int) -> None:
    from tests.support.postgres import start_cluster

    trees = {"baseline": baseline, "this tree": ROOT / "src"}
    cluster = start_cluster() if backend == "postgresql" else None
    scratch = Path(tempfile.mkdtemp(prefix="dom-bench-in-process-"))
    found: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    try:
        for number in range(rounds):
            for name, src in trees.items():
                if cluster is not None:
                    url = cluster.url(cluster.create_database())
                else:
                    url = f"sqlite:///{scratch / f'{number}-{len(found[name])}-{name}.db'}"
                load = os.getloadavg()[0]
                result = _run_child(src, url)
                found[name].append(result)
                print(f"round {number + 1}, {name}: {result} (load {load:.1f})", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{backend}, {rounds} rounds; medians over the rounds")
    print("| tree | median ms | p95 ms | CPU ms per capture | statements |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in found.items():
        cells = " | ".join(f"{statistics.median(r[m] for r in runs):.2f}" for m in MEASURES)
        print(f"| {name} | {cells} |")
    ratios = [
        old["cpu_ms"] / new["cpu_ms"]
        for old, new in zip(found["baseline"], found["this tree"], strict=True)
    ]
    print(
        f"CPU per capture, baseline / this tree, round by round: median "
        f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
    )


def _run_child(src: Path, url: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "bench.orders_in_process", "--baseline-src", str(src)]
    done = subprocess.run(
        [*command, "--child", url], env=env, capture_output=True, text=True, cwd=ROOT
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the run on {src} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(lines[-1])
    return result


def _measure(url: str) -> dict[str, float]:
    """One tree: whichever `dom` the PYTHONPATH gives."""
    from sqlalchemy import event

    from bench.inventory import _new_database
    from bench.inventory_data import NetworkSize, build_network, load_network
    from bench.orders_data import OrderMaker
    from dom.adapters.zip_directory import zip_directory

    zips = zip_directory()
    engine = _new_database(url)
    stock = load_network(engine, build_network(zips, NetworkSize(200, 2_000)), 7)
    calls = _captures(engine, zips, OrderMaker(stock, zips, 7).bodies(WARM_UP + TIMED, "ip"))
    for call in calls[:WARM_UP]:
        call()
    sent = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        sent[0] += 1

    latencies = []
    began = time.process_time()
    for call in calls[WARM_UP:]:
        start = time.perf_counter()
        call()
        latencies.append(1000 * (time.perf_counter() - start))
    cpu = time.process_time() - began
    latencies.sort()
    return {
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * len(latencies))], 2),
        "cpu_ms": round(1000 * cpu / TIMED, 2),
        "statements": round(sent[0] / TIMED, 2),
    }


def _captures(engine: Any, zips: Any, bodies: list[dict[str, Any]]) -> list[Callable[[], object]]:
    from dom.api.routes.orders import draft_of
    from dom.domain.access import LOCAL_OPERATOR
    from dom.schemas.orders import OrderIn
    from dom.services import orders

    try:  # where the automation policy lives since services/orders.py was split
        from dom.services.order_changes import Policy
    except ImportError:  # an older tree
        Policy = orders.Policy  # type: ignore[attr-defined,misc]
    policy = Policy()

    def call(body: dict[str, Any]) -> object:
        draft = draft_of(OrderIn.model_validate(body))
        return orders.capture(engine, LOCAL_OPERATOR, zips, draft, (), policy)

    return [partial(call, body) for body in bodies]


if __name__ == "__main__":
    main()
