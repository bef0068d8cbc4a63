"""Reservation races over HTTP on PostgreSQL, this tree against another, side by side (issue #3).

    python -m bench.inventory_races --baseline-src /tmp/old/src [--rounds 4] [--workers 1]

One PostgreSQL database of the inventory benchmark's network (200 nodes × 5,000 SKUs, its
seed), built by this tree; the two trees share it (their schemas must agree), each served by
its own `dom serve` (the same interpreter and libraries). Rounds alternate between the trees:
every round is the full benchmark's race (`bench.inventory._race`: 32 clients, 4,000 carts, 20
scarce positions of 15 units), from no holds. Reported per tree: the median over the rounds of
reservations per second, p99, and the server's and PostgreSQL's CPU per request; and the
round-by-round throughput ratio. Each race is audited as in the full benchmark: nothing
oversold, every position holding what its clients were told.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from tests.support.postgres import start_cluster

from bench.inventory import (
    SCARCE_POSITIONS,
    SCARCE_UNITS,
    InventoryOptions,
    Race,
    _Backend,
    _new_database,
    _race,
    _serving,
)
from bench.inventory_data import NetworkSize, build_network, hold_plan, load_network
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import Role
from dom.services.keys import create_key

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="another tree's src")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    trees = {"baseline": arguments.baseline_src.resolve(), "this tree": ROOT / "src"}
    options = InventoryOptions(
        size=NetworkSize(200, 5_000),
        sync_skus=0,
        samples=0,
        repeat=0,
        reservations=4_000,
        clients=32,
        workers=(arguments.workers,),
        postgres=True,
    )
    cluster = start_cluster()
    try:
        postmaster = int((cluster.folder / "data" / "postmaster.pid").read_text().split()[0])
        url = cluster.url(cluster.create_database())
        backend = _Backend("postgresql", lambda: url, postmaster)
        engine = _new_database(url)
        stock = load_network(engine, build_network(zip_directory(), options.size), options.seed)
        token = create_key(engine, "bench", Role.ADMIN).token
        plan = hold_plan(
            stock,
            options.clients,
            options.reservations,
            SCARCE_POSITIONS,
            SCARCE_UNITS,
            options.seed,
        )
        found: dict[str, list[Race]] = {name: [] for name in trees}
        with tempfile.TemporaryDirectory(prefix="dom-bench-races-") as tmp, ExitStack() as stack:
            servers = {
                name: stack.enter_context(_serving(url, arguments.workers, Path(tmp), src))
                for name, src in trees.items()
            }
            for number in range(arguments.rounds):
                for name, server in servers.items():
                    race = _race(engine, server, token, plan, backend)
                    _check(race)
                    found[name].append(race)
                    print(
                        f"round {number + 1}, {name}: {race.created / race.seconds:.0f}/s, p99 "
                        f"{1000 * race.latencies.percentile(99):.0f} ms, CPU ms/request server "
                        f"{race.cpu.server:.2f} database {race.cpu.database or 0.0:.2f} "
                        f"(load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
        engine.dispose()
    finally:
        cluster.stop()
    _report(found)


def _check(race: Race) -> None:
    if race.errors or race.audit.oversold or race.audit.miscounted:
        raise RuntimeError(f"a race went wrong: {race.errors[:3]} {race.audit}")
    if race.scarce_held != race.scarce_units:
        raise RuntimeError(f"scarce units held {race.scarce_held} of {race.scarce_units}")


def _report(found: dict[str, list[Race]]) -> None:
    print("\n| tree | reservations/s | p99 ms | server CPU ms | PostgreSQL CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for name, races in found.items():
        rate = statistics.median(r.created / r.seconds for r in races)
        p99 = statistics.median(1000 * r.latencies.percentile(99) for r in races)
        server = statistics.median(r.cpu.server for r in races)
        database = statistics.median(r.cpu.database or 0.0 for r in races)
        print(f"| {name} | {rate:.0f} | {p99:.0f} | {server:.2f} | {database:.2f} |")
    ratios = [
        (new.created / new.seconds) / (old.created / old.seconds)
        for old, new in zip(found["baseline"], found["this tree"], strict=True)
    ]
    print(
        "reservations/s, this tree / baseline, round by round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
    )


if __name__ == "__main__":
    main()
