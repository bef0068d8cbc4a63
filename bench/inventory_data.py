"""The inventory benchmarks' data: a demo network, a stock position for every SKU at every node,
carts and SKU lists to ask about, reservations to race, full counts to sync. All seeded.

Positions are written straight into the `positions` table (one driver `executemany` on SQLite,
`COPY` on PostgreSQL): loading a million of them through the event API would take minutes and
is not what is measured here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from dom.adapters.database import reading, writing
from dom.adapters.tables import positions
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.network import NodeType
from dom.domain.promise import CartLine
from dom.services.demo import demo_network
from dom.services.masterdata import MasterData, store_master_data

VENDORS = 3
THIRD_PARTY = 1
NODES_PER_DC = 25
COLUMNS = ("sku", "node_id", "on_hand", "reserved", "allocated", "safety_stock", "snapshot_at")
COPY_CHUNK = 100_000

#: Per node type: the share of SKUs it stocks and the median units of a stocked position.
STOCKING: dict[NodeType, tuple[float, float]] = {
    NodeType.DISTRIBUTION_CENTRE: (0.85, 120.0),
    NodeType.THIRD_PARTY_WAREHOUSE: (0.5, 60.0),
    NodeType.DROPSHIP_VENDOR: (0.2, 200.0),
    NodeType.STORE: (0.3, 4.0),
}
#: Share of a store's stocked positions that keep one or two units back from shipping.
STORE_SAFETY_SHARE = 0.4
#: Units a reservation line at a general position asks for: it never runs short there.
ROOMY_UNITS = 20


@dataclass(frozen=True)
class NetworkSize:
    nodes: int
    skus: int

    @property
    def positions(self) -> int:
        return self.nodes * self.skus

    @property
    def dcs(self) -> int:
        return max(1, self.nodes // NODES_PER_DC)

    @property
    def stores(self) -> int:
        return self.nodes - self.dcs - VENDORS - THIRD_PARTY

    def describe(self) -> str:
        return f"{self.nodes:,} nodes × {self.skus:,} SKUs = {self.positions:,} positions"


@dataclass(frozen=True)
class Stock:
    """What the fill put where: totals, and positions roomy enough to hold from freely."""

    positions: int
    stocked: int
    units: int
    roomy: tuple[tuple[str, str], ...]  # (sku, node) at a DC with ≥ ROOMY_UNITS on hand


def build_network(zips: ZipDirectory, size: NetworkSize) -> MasterData:
    if size.stores < 0:
        raise ValueError(f"{size.nodes} nodes is too few: need {size.dcs + VENDORS + THIRD_PARTY}")
    data = demo_network(zips, stores=size.stores, dcs=size.dcs, skus=size.skus)
    assert len(data.nodes) == size.nodes, (len(data.nodes), size.nodes)
    return data


def load_network(engine: Engine, data: MasterData, seed: int) -> Stock:
    """Store the master data, give every SKU a position at every node, analyse the tables."""
    store_master_data(engine, LOCAL_OPERATOR, data)
    now = datetime.now(UTC)
    counted = now - timedelta(hours=20)
    stock = _Tally()
    rows = _stock_rows(data, random.Random(f"bench-inventory:{seed}"), counted, stock)
    if engine.dialect.name == "postgresql":
        _copy_positions(engine, rows, now)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            # A second pass fills the visibility map after a bulk load, as autovacuum does on a
            # live database; without it index-only scans still visit the table.
            connection.exec_driver_sql("VACUUM positions")
            # The COPY and the vacuums pass through small ring buffers and leave the index the
            # reads use (`ix_positions_stocked`) out of shared buffers: the first few hundred
            # reads fetched its pages from the OS, evicting dirty ones, at up to twice the time
            # of later reads. A live database's reads keep it cached; read it once here.
            connection.exec_driver_sql("SELECT count(*) FROM positions WHERE on_hand > 0")
    else:
        _insert_positions(engine, rows, now)
        with writing(engine) as connection:
            connection.exec_driver_sql("ANALYZE")
    return Stock(stock.positions, stock.stocked, stock.units, tuple(stock.roomy))


class _Tally:
    def __init__(self) -> None:
        self.positions = 0
        self.stocked = 0
        self.units = 0
        self.roomy: list[tuple[str, str]] = []


def _stock_rows(
    data: MasterData, rng: random.Random, counted: datetime, tally: _Tally
) -> Iterator[tuple[Any, ...]]:
    """(sku, node, on hand, reserved, allocated, safety stock, counted at) for every pair."""
    tracked = {p.sku for p in data.products if p.stock_tracked}
    for node in data.nodes:
        share, median = STOCKING[node.type]
        mu = math.log(median)
        is_store = node.type is NodeType.STORE
        is_dc = node.type is NodeType.DISTRIBUTION_CENTRE
        for product in data.products:
            on_hand = safety = 0
            if product.sku in tracked and rng.random() < share:
                on_hand = 1 + int(rng.lognormvariate(mu, 0.8))
                if is_store and rng.random() < STORE_SAFETY_SHARE:
                    safety = min(on_hand, rng.choice((1, 2)))
            tally.positions += 1
            if on_hand:
                tally.stocked += 1
                tally.units += on_hand
                if is_dc and on_hand >= ROOMY_UNITS:
                    tally.roomy.append((product.sku, node.id))
            yield (product.sku, node.id, on_hand, 0, 0, safety, counted)


def _insert_positions(engine: Engine, rows: Iterator[tuple[Any, ...]], now: datetime) -> None:
    with writing(engine) as connection:
        dialect = connection.dialect
        convert = positions.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
        assert convert is not None
        updated = convert(now)
        marks = ", ".join("?" for _ in range(len(COLUMNS) + 1))
        sql = f"INSERT INTO positions ({', '.join(COLUMNS)}, updated_at) VALUES ({marks})"
        counted: dict[datetime, Any] = {}
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            when = row[-1]
            if when not in counted:
                counted[when] = convert(when)
            batch.append((*row[:-1], counted[when], updated))
            if len(batch) == COPY_CHUNK:
                connection.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            connection.exec_driver_sql(sql, batch)


def _copy_positions(engine: Engine, rows: Iterator[tuple[Any, ...]], now: datetime) -> None:
    updated = now.astimezone(UTC).replace(tzinfo=None)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY positions ({', '.join(COLUMNS)}, updated_at) FROM STDIN") as copy,
        ):
            for row in rows:
                counted = row[-1].astimezone(UTC).replace(tzinfo=None)
                copy.write_row((*row[:-1], counted, updated))
        driver.commit()
    finally:
        raw.close()


# ---- what the benchmarks ask ---------------------------------------------------------------


def carts(
    data: MasterData, zips: ZipDirectory, count: int, lines: int, seed: int
) -> list[tuple[str, list[CartLine]]]:
    """`count` carts of `lines` distinct stock-tracked SKUs, each to a random deliverable ZIP."""
    rng = random.Random(f"bench-carts:{seed}")
    tracked = [p.sku for p in data.products if p.stock_tracked]
    places = sorted(p.zip for p in zips.places() if p.active and p.is_standard and p.has_location)
    return [
        (
            rng.choice(places),
            [
                CartLine(sku, rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0])
                for sku in rng.sample(tracked, lines)
            ],
        )
        for _ in range(count)
    ]


def sku_lists(data: MasterData, count: int, size: int, seed: int) -> list[list[str]]:
    """`count` lists of `size` distinct SKUs, as a product page or a search result asks."""
    rng = random.Random(f"bench-skus:{seed}")
    skus = [p.sku for p in data.products]
    return [sorted(rng.sample(skus, size)) for _ in range(count)]


@dataclass(frozen=True)
class HoldPlan:
    """Reservation bodies for each racing client, and the scarce positions they fight over."""

    bodies: tuple[tuple[dict[str, Any], ...], ...]  # per client
    scarce: tuple[tuple[str, str], ...]
    scarce_units: int


def hold_plan(
    stock: Stock, clients: int, total: int, scarce: int, scarce_units: int, seed: int
) -> HoldPlan:
    """Carts of one to three lines at roomy DC positions; one cart in four also wants a unit
    of a scarce position, so that clients race for the last units and some are refused."""
    rng = random.Random(f"bench-holds:{seed}")
    chosen = rng.sample(stock.roomy, scarce)
    taken = set(chosen)
    roomy = [key for key in stock.roomy if key not in taken]
    expires = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    per_client: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for number in range(total):
        keys = rng.sample(roomy, rng.choice((1, 2, 3)))
        if rng.random() < 0.25:
            keys[0] = rng.choice(chosen)
        lines = [
            {"sku": sku, "node_id": node, "quantity": 1 if (sku, node) in taken else 2}
            for sku, node in keys
        ]
        body = {"reference": f"bench-cart-{number}", "lines": lines, "expires_at": expires}
        per_client[number % clients].append(body)
    return HoldPlan(tuple(tuple(b) for b in per_client), tuple(chosen), scarce_units)


def make_scarce(engine: Engine, keys: Sequence[tuple[str, str]], units: int) -> None:
    """Set the scarce positions' stock to a few units, with nothing committed."""
    with writing(engine) as connection:
        for sku, node in keys:
            connection.execute(
                positions.update()
                .where(positions.c.sku == sku, positions.c.node_id == node)
                .values(on_hand=units, reserved=0, allocated=0, safety_stock=0)
            )


#: share of a full count that differs from the books
RECOUNT_SHARE = 0.3


def recount(engine: Engine, node_id: str, changed_share: float, seed: str) -> dict[str, int]:
    """A full count of a node: the current on hand, a share of the SKUs off by a few units."""
    rng = random.Random(f"bench-count:{seed}")
    with reading(engine) as connection:
        query = select(positions.c.sku, positions.c.on_hand).where(positions.c.node_id == node_id)
        current = {sku: int(on_hand) for sku, on_hand in connection.execute(query)}
    return {
        sku: max(0, on_hand + rng.choice((-3, -2, -1, 1, 2, 3)))
        if rng.random() < changed_share
        else on_hand
        for sku, on_hand in current.items()
    }
