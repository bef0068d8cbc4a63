"""Full-count syncs of two trees side by side, in process, on SQLite and PostgreSQL.

python -m bench.inventory_sync --baseline-src /tmp/old/src           # 200 × 5,000 and 10 × 20,000
python -m bench.inventory_sync --baseline-src /tmp/old/src --small --no-postgres

Per backend two databases are loaded once, as `bench.inventory` loads them: the network of
200 nodes × 5,000 SKUs (a DC's count is 5,000 positions among a million) and a network of 10
nodes × 20,000 SKUs (a DC's count is 20,000). Both are migrated by this tree, so a baseline
without this tree's migrations runs on its indexes too. One worker process per tree
(`bench.inventory_sync_worker`, the baseline with its `src` first on PYTHONPATH) syncs the
first DC in alternating rounds, the order swapped every round; each sync is a new count of the
node's current stock with 30% of its SKUs off by a few units, and must leave every position's
on hand at its count. Reported: median wall and CPU time, positions per second, the ratio of
the medians, and the load average before each backend.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.postgres import find_bindir, start_cluster

from bench.inventory import SYNC_NODES
from bench.inventory_data import NetworkSize, build_network, load_network
from bench.machine import describe_machine
from bench.tree_workers import add_tree_arguments, tree_sources, tree_workers
from dom.adapters.database import make_engine
from dom.adapters.zip_directory import zip_directory
from dom.domain.network import NodeType
from dom.services.masterdata import MasterData
from dom.services.schema import migrate


@dataclass
class _Tree:
    name: str
    src: Path
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    counted: bool = True
    positions: int = 0


def _side_by_side(trees: Sequence[_Tree], url: str, node_id: str, rounds: int) -> None:
    with tree_workers([t.src for t in trees], "bench.inventory_sync_worker") as workers:
        for index, worker in enumerate(workers):
            worker.ask("sync", url, node_id, f"warm-up:{index}")  # imports, caches, first plans
        for number in range(rounds):
            order = list(enumerate(zip(trees, workers, strict=True)))
            if number % 2:
                order.reverse()
            for index, (tree, worker) in order:
                got = worker.ask("sync", url, node_id, f"{number}:{index}")
                tree.wall.append(got["wall"])
                tree.cpu.append(got["cpu"])
                tree.counted = tree.counted and got["counted"]
                tree.positions = got["positions"]


def _first_dc(data: MasterData) -> str:
    return next(n.id for n in data.nodes if n.type is NodeType.DISTRIBUTION_CENTRE)


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f}"


def _report(backend: str, load: float, trees: Sequence[_Tree]) -> list[str]:
    lines = []
    for tree in trees:
        wall = statistics.median(tree.wall)
        lines.append(
            f"| {backend} | {tree.positions:,} | {tree.name} | {len(tree.wall)} | {_ms(wall)} "
            f"| {_ms(min(tree.wall))}–{_ms(max(tree.wall))} "
            f"| {_ms(statistics.median(tree.cpu))} | {tree.positions / wall:,.0f} "
            f"| {'yes' if tree.counted else '**NO**'} | {load:.2f} |"
        )
    if len(trees) == 2:
        base, new = (statistics.median(t.wall) for t in trees)
        base_cpu, new_cpu = (statistics.median(t.cpu) for t in trees)
        lines.append(
            f"| {backend} | {trees[0].positions:,} | ratio of medians | | {base / new:.2f}× "
            f"| | {base_cpu / new_cpu:.2f}× | | | |"
        )
    return lines


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory_sync")
    add_tree_arguments(parser)
    parser.add_argument("--small", action="store_true", help="40 × 1,000 and 10 × 4,000")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    if options.small:
        sizes = [NetworkSize(40, 1_000), NetworkSize(SYNC_NODES, 4_000)]
    else:
        sizes = [NetworkSize(200, 5_000), NetworkSize(SYNC_NODES, 20_000)]
    sources = tree_sources(options)
    rows = [
        "| backend | positions | code | syncs | median ms | range ms | CPU median ms "
        "| positions/s | on hand = count | load avg |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    zips = zip_directory()
    networks = [(size, build_network(zips, size)) for size in sizes]
    backends: list[str] = [] if options.only_postgres else ["sqlite"]
    if not options.no_postgres and find_bindir() is not None:
        backends.append("postgresql")
    with tempfile.TemporaryDirectory(prefix="dom-bench-sync-") as tmp:
        for backend in backends:
            cluster = start_cluster() if backend == "postgresql" else None
            try:
                for number, (size, data) in enumerate(networks):
                    if cluster is None:
                        url = f"sqlite:///{Path(tmp) / f'sync-{number}.sqlite3'}"
                    else:
                        url = cluster.url(cluster.create_database())
                    engine = make_engine(url)
                    migrate(engine)
                    load_network(engine, data, options.seed)
                    engine.dispose()
                    print(f"· {backend}: {size.describe()} loaded", file=sys.stderr, flush=True)
                    load = os.getloadavg()[0]
                    trees = [_Tree(name, src) for name, src in sources]
                    _side_by_side(trees, url, _first_dc(data), options.rounds)
                    rows += _report(backend, load, trees)
                    print("\n".join(rows[-len(trees) - 1 :]), file=sys.stderr, flush=True)
            finally:
                if cluster is not None:
                    cluster.stop()
    machine = [f"| {label} | {value} |" for label, value in describe_machine()]
    print("\n".join(["| | |", "|---|---|", *machine, "", *rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
