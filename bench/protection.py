"""Inventory protection on the order path (issue #4): what reading the stored demand forecast
and pricing every offered unit with its future value adds to capturing an order.

3-line shipping orders on the inventory benchmark's network (200 nodes × 1,000 SKUs, a position
for every pair), with a stored forecast of store demand (every store, a Zipf-popular share of
the SKUs, 28 days). Two profiles alike but for `inventory_protection` (1 and 0) are chosen by a
tag; orders alternate between them, so both see the same database, cache and load. Each is
`orders.capture` in process, timed one at a time after an untimed warm-up, on SQLite and (when
its binaries are found) PostgreSQL. Also timed: the forecast read alone (one statement, the
order's SKUs).

python -m bench.protection                 # SQLite and PostgreSQL
python -m bench.protection --no-postgres --orders 200
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.inventory import _new_database
from bench.inventory_data import NetworkSize, build_network, load_network
from bench.orders_data import OrderMaker
from bench.stats import Latencies
from dom.adapters import forecast_store
from dom.adapters.database import reading, writing
from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.api.routes.orders import draft_of
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.network import NodeType
from dom.domain.sourcing.forecast import Demand, estimate
from dom.schemas.orders import OrderIn
from dom.schemas.sourcing import ProfileDoc, RuleSetDoc
from dom.services import order_changes, orders, profiles
from dom.services.masterdata import MasterData

WARM_UP = 20
DAYS = 28
SKUS_PER_STORE = 0.3  # share of the SKUs each store has seen demand for


def _forecast(engine: Engine, data: MasterData, seed: int) -> int:
    """Store a forecast of pickup demand at every store; returns its cells."""
    rng = random.Random(f"bench-protection:{seed}")
    skus = [p.sku for p in data.products]
    weights = [1 / (rank + 1) for rank in range(len(skus))]  # Zipf popularity
    history = []
    for found in data.nodes:
        if found.type is not NodeType.STORE:
            continue
        seen = set(rng.choices(skus, weights, k=int(SKUS_PER_STORE * len(skus))))
        for sku in seen:
            for _ in range(rng.randint(1, 6)):
                history.append(Demand(found.id, sku, rng.randint(1, DAYS), 1, 30.0))
    forecast = estimate(history, DAYS)
    moment = datetime.now(UTC)
    with writing(engine) as connection:
        forecast_store.lock_state(connection, moment)
        units = len(history)
        header = {"computed_at": moment, "days": DAYS, "lines": len(history), "units": units}
        forecast_store.replace_forecast(connection, f"bench{seed}", forecast, header)
    return len(forecast.cells)


def _profiles(engine: Engine) -> None:
    for name, protection in (("guard", 1.0), ("guard-off", 0.0)):
        weights = {"shipping_cost": 1.0, "handling_cost": 1.0, "inventory_protection": protection}
        doc = ProfileDoc.model_validate({"name": name, "weights": weights})
        profiles.activate(
            engine, LOCAL_OPERATOR, name, profiles.save_draft(engine, LOCAL_OPERATOR, doc)
        )
    rules = RuleSetDoc.model_validate(
        {
            "rules": [{"name": "protect", "when": {"any_tags": ["protect"]}, "profile": "guard"}],
            "fallback": "guard-off",
        }
    )
    profiles.activate_rules(
        engine, LOCAL_OPERATOR, profiles.save_rules_draft(engine, LOCAL_OPERATOR, rules)
    )


def _capture(engine: Engine, zips: ZipDirectory, body: dict[str, Any]) -> Callable[[], object]:
    policy = order_changes.Policy()

    def call() -> object:
        return orders.capture(
            engine, LOCAL_OPERATOR, zips, draft_of(OrderIn.model_validate(body)), (), policy
        )

    return call


def run(
    engine: Engine, zips: ZipDirectory, size: NetworkSize, count: int, log: Callable[[str], None]
) -> dict[str, Latencies]:
    data = build_network(zips, size)
    stock = load_network(engine, data, seed=1)
    cells = _forecast(engine, data, seed=1)
    _profiles(engine)
    log(
        f"  {engine.dialect.name}: {size.nodes} nodes × {size.skus} SKUs, forecast of {cells:,} cells"
    )
    maker = OrderMaker(stock, zips, seed=1)
    bodies = maker.bodies(2 * (WARM_UP + count), engine.dialect.name)
    for index, body in enumerate(bodies):
        if index % 2 == 0:
            body["tags"] = ["protect"]
    calls = [_capture(engine, zips, body) for body in bodies]
    for call in calls[: 2 * WARM_UP]:
        call()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM capacity_used"))
    seconds: dict[str, list[float]] = {"protected": [], "unprotected": []}
    for index, call in enumerate(calls[2 * WARM_UP :]):
        began = time.perf_counter()
        call()
        seconds["protected" if index % 2 == 0 else "unprotected"].append(
            time.perf_counter() - began
        )
    reads = []
    for body in bodies[:count]:
        skus = sorted({line["sku"] for line in body["lines"]})
        with reading(engine) as connection:
            began = time.perf_counter()
            forecast_store.forecast_for(connection, skus)
            reads.append(time.perf_counter() - began)
    found = {name: Latencies.of(values) for name, values in seconds.items()}
    found["forecast read"] = Latencies.of(reads)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.protection", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--skus", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=300, help="timed orders per profile")
    parser.add_argument("--no-postgres", action="store_true")
    arguments = parser.parse_args()
    zips = zip_directory()
    size = NetworkSize(arguments.nodes, arguments.skus)
    rows: list[tuple[str, str, Latencies]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        urls = [f"sqlite:///{Path(scratch) / 'protection.sqlite3'}"]
        if not arguments.no_postgres:
            from tests.support.postgres import start_cluster

            try:
                cluster = start_cluster()
            except OSError as error:
                print(f"PostgreSQL skipped: {error}")
            else:
                stack.callback(cluster.stop)
                urls.append(cluster.url(cluster.create_database()))
        for url in urls:
            engine = _new_database(url)
            try:
                for name, latencies in run(engine, zips, size, arguments.orders, print).items():
                    rows.append((engine.dialect.name, name, latencies))
            finally:
                engine.dispose()
    print("\n| backend | capture | p50 ms | p95 ms | p99 ms |\n|---|---|---:|---:|---:|")
    for backend, name, latencies in rows:
        print(
            f"| {backend} | {name} | {1000 * latencies.median:.2f} | "
            f"{1000 * latencies.p95:.2f} | {1000 * latencies.percentile(99):.2f} |"
        )


if __name__ == "__main__":
    main()
