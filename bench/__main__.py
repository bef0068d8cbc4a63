"""`python -m bench`: import throughput, CLI end to end, cold start and inventory, as Markdown.

python -m bench                          # everything, 5 runs each, PostgreSQL if installed
python -m bench --only import --repeat 7
python -m bench --only inventory --small # inventory on 40 nodes × 1,000 SKUs, a quick look
python -m bench --only sourcing --small  # engine latency, small waves: a quick look
python -m bench --only orders --small    # orders over HTTP on 40 nodes × 1,000 SKUs, a quick look
python -m bench --only online            # forecast-aware routing against myopic and hindsight
python -m bench --baseline-src /tmp/old/src   # import path of another tree, side by side
python -m bench --markdown var/bench.md  # also write the report to a file
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tests.support.postgres import find_bindir

from bench import importing, inventory, online, orders, sourcing, startup
from bench.inventory_data import NetworkSize
from bench.machine import describe_machine

IMPORT_GOAL_ROWS_PER_SECOND = 50_000
UP_GOAL_SECONDS = 120
MIN_INVENTORY_NODES = 13  # a DC, 3 dropship vendors, a 3PL and some stores
SMALL = {
    "inventory_nodes": 40,
    "inventory_skus": 1_000,
    "sync_skus": 4_000,
    "samples": 100,
    "reservations": 1_000,
}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=("import", "startup", "inventory", "sourcing", "orders", "online"),
        help="run one benchmark",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (≥ 5)")
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another tree's src folder: time its import path alternately with this one's",
    )
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    group = parser.add_argument_group("inventory")
    group.add_argument("--inventory-nodes", type=int, default=200, help="nodes (≥ 13)")
    group.add_argument("--inventory-skus", type=int, default=5_000)
    group.add_argument(
        "--sync-skus", type=int, default=20_000, help="positions in the large full-count sync"
    )
    group.add_argument("--samples", type=int, default=300, help="timed requests per read")
    group.add_argument("--reservations", type=int, default=4_000, help="in each race")
    group.add_argument("--clients", type=int, default=32, help="racing HTTP clients")
    group.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="`dom serve --workers` of each reservation race, e.g. 1 2 (reads use the first)",
    )
    group.add_argument(
        "--small",
        action="store_true",
        help="a quick look: 40 nodes × 1,000 SKUs, 4,000-SKU sync, 100 samples, 1,000 holds",
    )
    sourcing.add_arguments(parser)
    orders.add_arguments(parser)
    online.add_arguments(parser)
    if "--small" in argv:  # its sizes are defaults: flags given beside it still win
        parser.set_defaults(**SMALL, **sourcing.SMALL, **orders.SMALL)
    arguments = parser.parse_args(argv)
    if arguments.inventory_nodes < MIN_INVENTORY_NODES:
        parser.error(f"--inventory-nodes must be at least {MIN_INVENTORY_NODES}")
    if arguments.repeat < 5:
        parser.error("--repeat must be at least 5: single or few times mean nothing here")
    return arguments


def _log(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    arguments = _arguments(argv)
    postgres = not arguments.no_postgres and find_bindir() is not None
    lines = ["## Results", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in describe_machine()]
    python = Path(sys.executable)
    if python.is_relative_to(Path.cwd()):
        python = python.relative_to(Path.cwd())
    command = shlex.join([str(python), "-m", "bench", *argv])
    lines += ["", f"Command: `{command}`", ""]
    failed: list[str] = []
    if arguments.only in (None, "import"):
        _log("import throughput …")
        results = importing.run_import_benchmark(
            stores=arguments.stores,
            skus=arguments.skus,
            repeat=arguments.repeat,
            postgres=postgres,
            baseline_src=arguments.baseline_src,
            log=_log,
        )
        label = f"`{arguments.baseline_src}`" if arguments.baseline_src else None
        lines += importing.report_lines(results, label)
        everything = next(
            r for r in results.scenarios if r.backend == "sqlite" and r.scenario == "everything"
        )
        if everything.current.rate(everything.rows) < IMPORT_GOAL_ROWS_PER_SECOND:
            failed.append(f"SQLite import below {IMPORT_GOAL_ROWS_PER_SECOND:,} rows/s")
        if not postgres:
            why = "--no-postgres" if arguments.no_postgres else "no server binaries found"
            lines += [f"PostgreSQL: skipped ({why}).", ""]
    if arguments.only in (None, "inventory"):
        _log("inventory …")
        options = inventory.InventoryOptions(
            size=NetworkSize(arguments.inventory_nodes, arguments.inventory_skus),
            sync_skus=arguments.sync_skus,
            samples=arguments.samples,
            repeat=arguments.repeat,
            reservations=arguments.reservations,
            clients=arguments.clients,
            workers=tuple(arguments.workers),
            postgres=postgres,
        )
        measured = inventory.run_inventory_benchmark(options, _log)
        lines += inventory.report_lines(measured)
        failed += inventory.goals_missed(measured)
        if not postgres:
            why = "--no-postgres" if arguments.no_postgres else "no server binaries found"
            lines += [f"PostgreSQL: skipped ({why}).", ""]
    if arguments.only in (None, "sourcing"):
        _log("sourcing …")
        measured_sourcing = sourcing.run_sourcing_benchmark(
            sourcing.SourcingOptions.from_arguments(arguments), _log
        )
        lines += sourcing.report_lines(measured_sourcing)
        failed += sourcing.goals_missed(measured_sourcing)
    if arguments.only in (None, "orders"):
        _log("orders …")
        measured_orders = orders.run_orders_benchmark(
            orders.OrdersOptions.from_arguments(arguments, postgres), _log
        )
        lines += orders.report_lines(measured_orders)
        failed += orders.goals_missed(measured_orders)
    if arguments.only in (None, "online"):
        measured_online = online.run_online_benchmark(arguments.online_seeds, _log)
        lines += online.report_lines(measured_online)
        failed += online.goals_missed(measured_online)
    if arguments.only in (None, "startup"):
        _log("cold start …")
        started = startup.run_startup_benchmark(repeat=arguments.repeat)
        lines += startup.report_lines(started)
        if started.up.slowest >= UP_GOAL_SECONDS:
            failed.append(f"`dom up` took {started.up.slowest:.0f} s or more")
    lines += [f"Goals missed: {'; '.join(failed)}." if failed else "All goals met.", ""]
    report = "\n".join(lines)
    print(report)
    if arguments.markdown is not None:
        arguments.markdown.parent.mkdir(parents=True, exist_ok=True)
        arguments.markdown.write_text(report, encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
