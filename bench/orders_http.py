"""Orders over HTTP, this tree against another, side by side (issue #5).

    python -m bench.orders_http --baseline-src /tmp/old/src [--rounds 4] [--clients 4]

Each tree gets its own SQLite database, built by that tree (the inventory benchmark's network
of 200 nodes × 1,000 SKUs and its stock, the same seed), and its own server (`uvicorn`, one
worker, the same interpreter and libraries). Then rounds alternate between the two: 10 untimed
orders, then `--orders` timed 3-line orders posted by `--clients` clients at once. Reported per
tree: the median over the rounds of orders per second and of the server's CPU per order (from
/proc), and the round-by-round throughput ratio. The full benchmark, on PostgreSQL with two
workers, is `python -m bench --only orders`; this one says what a change did while the
machine's load moves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import free_port

from bench.cpu import tree_cpu_seconds
from bench.inventory import _new_database
from bench.inventory_data import NetworkSize, build_network, load_network
from bench.orders_data import OrderMaker
from dom.adapters.zip_directory import zip_directory

ROOT = Path(__file__).resolve().parent.parent
SIZE = NetworkSize(200, 1_000)
SEED = 7
WARM_UP = 10
#: builds the database with the tree on PYTHONPATH and prints an admin key
PREPARE = (
    "import os, sys; sys.path.append(sys.argv[1]);"
    "from bench.inventory import _new_database;"
    "from bench.inventory_data import NetworkSize, build_network, load_network;"
    "from dom.adapters.zip_directory import zip_directory;"
    "from dom.services.keys import create_key; from dom.domain.access import Role;"
    "engine = _new_database(os.environ['DOM_DATABASE_URL']);"
    f"load_network(engine, build_network(zip_directory(), NetworkSize({SIZE.nodes}, {SIZE.skus})),"
    f" {SEED});"
    "print(create_key(engine, 'bench', Role.ADMIN).token)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="another tree's src")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--orders", type=int, default=300, help="timed orders per round")
    arguments = parser.parse_args()
    trees = {"baseline": arguments.baseline_src.resolve(), "this tree": ROOT / "src"}
    zips = zip_directory()
    with tempfile.TemporaryDirectory(prefix="dom-bench-orders-http-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        # The order maker needs the stock's roomy positions: the same seed gives the same ones.
        stock = load_network(
            _new_database(f"sqlite:///{scratch / 'plan.db'}"), build_network(zips, SIZE), SEED
        )
        maker = OrderMaker(stock, zips, SEED)
        servers = {
            name: stack.enter_context(_server(src, scratch / f"{number}.db"))
            for number, (name, src) in enumerate(trees.items())
        }
        found: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for number in range(arguments.rounds):
            for name, (base, token, pid) in servers.items():
                _post(base, token, maker.bodies(WARM_UP, f"warm-{name}-{number}"), 1)
                bodies = maker.bodies(arguments.orders, f"{name}-{number}")
                cpu, began = tree_cpu_seconds(pid), time.perf_counter()
                _post(base, token, bodies, arguments.clients)
                seconds = time.perf_counter() - began
                per_order = 1000 * (tree_cpu_seconds(pid) - cpu) / len(bodies)
                found[name].append((len(bodies) / seconds, per_order))
                print(
                    f"round {number + 1}, {name}: {len(bodies) / seconds:.1f} orders/s, "
                    f"server CPU {per_order:.2f} ms/order (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    print("\n| tree | orders/s, median of rounds | server CPU ms per order |")
    print("|---|---:|---:|")
    for name, runs in found.items():
        rate = statistics.median(r for r, _ in runs)
        print(f"| {name} | {rate:.1f} | {statistics.median(c for _, c in runs):.2f} |")
    ratios = [
        new[0] / old[0] for old, new in zip(found["baseline"], found["this tree"], strict=True)
    ]
    print(
        f"orders/s, this tree / baseline, round by round: {', '.join(f'{r:.2f}' for r in ratios)}"
    )


@contextmanager
def _server(src: Path, database: Path) -> Iterator[tuple[str, str, int]]:
    """The tree's database and server: (base URL, admin key, server pid)."""
    env = {
        **os.environ,
        "DOM_DATABASE_URL": f"sqlite:///{database}",
        "DOM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(src),
    }
    prepared = subprocess.run(
        [sys.executable, "-c", PREPARE, str(ROOT)], env=env, capture_output=True, text=True
    )
    if prepared.returncode != 0:
        raise RuntimeError(f"preparing {src} failed:\n{prepared.stderr[-3000:]}")
    token = prepared.stdout.strip().splitlines()[-1]
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "dom.api.app:create_app", "--factory"]
    process = subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        yield base, token, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not answer")


def _post(base: str, token: str, bodies: list[dict[str, Any]], clients: int) -> None:
    """Post the orders from `clients` threads at once; every one must be captured."""
    failures: list[str] = []

    def run(share: list[dict[str, Any]]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for body in share:
                answer = client.post("/v1/orders", json=body)
                if answer.status_code != 201:
                    failures.append(f"{answer.status_code}: {answer.text[:300]}")

    threads = [threading.Thread(target=run, args=(bodies[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} orders failed, first: {failures[0]}")


if __name__ == "__main__":
    main()
