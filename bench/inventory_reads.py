"""Inventory reads of two trees side by side: cart promise and availability, in process.

python -m bench.inventory_reads --baseline-src /tmp/old/src            # 200 nodes × 5,000 SKUs
python -m bench.inventory_reads --baseline-src /tmp/old/src --small --no-postgres

The network of `bench.inventory` is loaded once per backend; then one worker process per tree
(`bench.inventory_reads_worker`, the baseline with its `src` first on PYTHONPATH) serves the
same requests in alternating rounds, the order of the two swapped every round, so that both
see the same machine load. Every request's answer must be the same from both trees. Without
`--baseline-src` only this tree is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.support.postgres import find_bindir, start_cluster

from bench.inventory import AVAILABILITY_SKUS, CART_LINES, WARM_UP
from bench.inventory_data import NetworkSize, build_network, carts, load_network, sku_lists
from bench.machine import describe_machine
from bench.stats import Latencies
from bench.tree_workers import add_tree_arguments, tree_sources, tree_workers
from dom.adapters.database import make_engine
from dom.adapters.zip_directory import zip_directory
from dom.services.masterdata import MasterData
from dom.services.schema import migrate

KINDS = ("promise", "availability")


@dataclass
class _Tree:
    name: str
    src: Path
    wall: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    digests: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})


def _side_by_side(trees: Sequence[_Tree], url: str, requests: Path, rounds: int, per: int) -> None:
    with tree_workers(
        [t.src for t in trees], "bench.inventory_reads_worker", url, str(requests)
    ) as workers:
        for worker in workers:
            for what in KINDS:
                worker.ask(what, 0, WARM_UP)
        for number in range(rounds):
            order = list(zip(trees, workers, strict=True))
            if number % 2:
                order.reverse()
            for what in KINDS:
                first = WARM_UP + number * per
                for tree, worker in order:
                    got = worker.ask(what, first, per)
                    tree.wall[what] += got["wall"]
                    tree.cpu[what] += got["cpu"]
                    tree.digests[what].append(got["digest"])


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def _report(backend: str, trees: Sequence[_Tree]) -> list[str]:
    lines = []
    for what in KINDS:
        for tree in trees:
            lat = Latencies.of(tree.wall[what])
            lines.append(
                f"| {backend} | {what} | {tree.name} | {len(lat.seconds)} | {_ms(lat.median)} "
                f"| {_ms(lat.p95)} | {_ms(lat.p99)} | {_ms(lat.slowest)} "
                f"| {_ms(statistics.median(tree.cpu[what]))} "
                f"| {_ms(Latencies.of(tree.cpu[what]).p99)} |"
            )
        if len(trees) == 2:
            base, new = (statistics.median(t.wall[what]) for t in trees)
            same = trees[0].digests[what] == trees[1].digests[what]
            lines.append(
                f"| {backend} | {what} | ratio of medians | | {base / new:.2f}× | | | "
                f"| {'same answers' if same else '**ANSWERS DIFFER**'} | |"
            )
    return lines


def _requests(folder: Path, options: argparse.Namespace, data: MasterData) -> Path:
    """The requests both trees answer, in a file: carts to random ZIPs and SKU lists."""
    zips = zip_directory()
    count = WARM_UP + options.rounds * options.per_round
    body = {
        "now": datetime.now(UTC).isoformat(),
        "carts": [
            (zip_code, [(line.sku, line.quantity) for line in cart])
            for zip_code, cart in carts(data, zips, count, CART_LINES, options.seed)
        ],
        "sku_lists": sku_lists(data, count, AVAILABILITY_SKUS, options.seed),
    }
    path = folder / "requests.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory_reads")
    add_tree_arguments(parser)
    parser.add_argument("--small", action="store_true", help="40 nodes × 1,000 SKUs")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=50, help="requests per tree and round")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    size = NetworkSize(40, 1_000) if options.small else NetworkSize(200, 5_000)
    sources = tree_sources(options)
    rows = [
        "| backend | request | code | samples | median ms | p95 ms | p99 ms | max ms "
        "| CPU median ms | CPU p99 ms |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="dom-bench-reads-") as tmp:
        folder = Path(tmp)
        data = build_network(zip_directory(), size)
        requests = _requests(folder, options, data)
        backends: list[str] = [] if options.only_postgres else ["sqlite"]
        if not options.no_postgres and find_bindir() is not None:
            backends.append("postgresql")
        for backend in backends:
            cluster = start_cluster() if backend == "postgresql" else None
            try:
                if cluster is None:
                    url = f"sqlite:///{folder / 'reads.sqlite3'}"
                else:
                    url = cluster.url(cluster.create_database())
                engine = make_engine(url)
                migrate(engine)
                load_network(engine, data, options.seed)
                engine.dispose()
                print(f"· {backend}: {size.describe()} loaded", file=sys.stderr, flush=True)
                trees = [_Tree(name, src) for name, src in sources]
                _side_by_side(trees, url, requests, options.rounds, options.per_round)
                rows += _report(backend, trees)
            finally:
                if cluster is not None:
                    cluster.stop()
    machine = [f"| {label} | {value} |" for label, value in describe_machine()]
    print("\n".join(["| | |", "|---|---|", *machine, "", *rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
