"""Demo stock: seeded inventory for the stored network, the same plan for the same seed.

Distribution centres hold a position for every stock-tracked SKU they can handle, most of them
in stock and in depth; stores carry a fraction of the catalogue a few units deep, and some keep a
unit or two of their fast movers back from shipping as safety stock for walk-in customers;
dropship vendors hold deep stock of a slice of the catalogue (every oversize item, at vendors that
take oversize); third-party warehouses hold overflow. A SKU's popularity scales its quantities
everywhere. Counts go in through the inventory service as one full count per node (source
"demo"), and a few purchase orders replenish the distribution centres' emptiest positions.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import reading
from dom.domain.access import Action, Principal
from dom.domain.catalog import Product
from dom.domain.inventory import SupplyKind
from dom.domain.network import Handling, Node, NodeType
from dom.services import inventory, supply
from dom.services.supply import SupplyLine

SOURCE = "demo"
#: Shares of the catalogue: in stock at a distribution centre (the rest counted at zero),
#: ranged by a store of average popularity, by a vendor, by a third-party warehouse.
DC_IN_STOCK = 0.92
STORE_RANGE = 0.07
VENDOR_RANGE = 0.06
THIRD_PARTY_RANGE = 0.3
#: Every fourth store keeps safety stock on up to this many of its best-stocked positions.
SAFETY_STOCK_STORE_EVERY = 4
SAFETY_STOCK_POSITIONS = 6
#: Purchase orders per distribution centre, lines per order, and what a line orders.
ORDERS_PER_DC = 2
LINES_PER_ORDER = 10
REORDER_BELOW = 25


@dataclass(frozen=True)
class StockPlan:
    counts: dict[str, dict[str, int]]  # node id -> SKU -> units counted
    counted_at: dict[str, datetime]  # node id -> when its count was taken
    safety_stock: list[tuple[str, str, int]]  # (sku, node id, units kept back)
    inbound: list[SupplyLine]


@dataclass(frozen=True)
class StockReport:
    nodes: int
    positions: int
    units: int
    safety_stock: int
    inbound_lines: int


def plan_demo_stock(
    nodes: Sequence[Node], products: Sequence[Product], *, seed: int, now: datetime
) -> StockPlan:
    """Where the demo's stock sits, how much, and what is on order; `now` only dates it."""
    tracked = sorted((p for p in products if p.stock_tracked), key=lambda p: p.sku)
    popularity = _popularity(seed, tracked)
    counts: dict[str, dict[str, int]] = {}
    counted_at: dict[str, datetime] = {}
    safety: list[tuple[str, str, int]] = []
    store_number = 0
    for node in sorted(nodes, key=lambda n: n.id):
        rng = random.Random(f"dom-demo:{seed}:stock:{node.id}")
        handled = [p for p in tracked if node.handles(p.handling)]
        if node.type is NodeType.DISTRIBUTION_CENTRE:
            counts[node.id] = _dc_counts(rng, handled, popularity)
            hours_ago = rng.uniform(1, 10)  # the nightly WMS sync
        elif node.type is NodeType.STORE:
            counts[node.id] = _store_counts(rng, handled, popularity)
            hours_ago = rng.uniform(2, 72)  # cycle counts every few days
            store_number += 1
            if store_number % SAFETY_STOCK_STORE_EVERY == 1:
                safety += _safety_stock(rng, node.id, counts[node.id])
        elif node.type is NodeType.DROPSHIP_VENDOR:
            counts[node.id] = _vendor_counts(rng, node, handled, popularity)
            hours_ago = rng.uniform(6, 30)  # a daily feed
        else:
            counts[node.id] = _third_party_counts(rng, handled, popularity)
            hours_ago = rng.uniform(1, 24)
        counted_at[node.id] = now - timedelta(hours=round(hours_ago, 2))
    inbound = _purchase_orders(seed, nodes, counts, now.date())
    return StockPlan(counts, counted_at, safety, inbound)


def load_demo_stock(
    engine: Engine, principal: Principal, *, seed: int = 7, now: datetime | None = None
) -> StockReport:
    """Count the planned stock into every stored node, set the stores' safety stock, and place
    the purchase orders unless the network already has inbound supply on its way."""
    principal.require(Action.RECORD_INVENTORY)
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        nodes = repo.list_nodes(connection)
        products = repo.list_products(connection)
    plan = plan_demo_stock(nodes, products, seed=seed, now=moment)
    positions = 0
    for node_id, counts in plan.counts.items():
        if not counts:
            continue
        at = plan.counted_at[node_id]
        synced = inventory.sync_node(
            engine,
            principal,
            node_id,
            counts,
            source=SOURCE,
            source_time=at,
            idempotency_key=f"demo-stock:{seed}:{node_id}:{at.isoformat()}",
            now=moment,
        )
        positions += synced.positions
    for sku, node_id, units in plan.safety_stock:
        inventory.set_safety_stock(engine, principal, sku, node_id, units, now=moment)
    placed = 0
    if plan.inbound and not supply.open_supply(engine, principal):
        placed = len(supply.add_supply(engine, principal, plan.inbound))
    return StockReport(
        nodes=sum(1 for counts in plan.counts.values() if counts),
        positions=positions,
        units=sum(sum(counts.values()) for counts in plan.counts.values()),
        safety_stock=len(plan.safety_stock),
        inbound_lines=placed,
    )


# ---- quantities ------------------------------------------------------------------------------


def _popularity(seed: int, products: Sequence[Product]) -> dict[str, float]:
    """Sales velocity relative to the median SKU: a few sell many times more than most."""
    rng = random.Random(f"dom-demo:{seed}:stock:popularity")
    return {p.sku: rng.lognormvariate(0, 0.8) for p in products}


def _units(rng: random.Random, median: float, popularity: float, bulky: bool) -> int:
    scale = 0.25 if bulky else 1.0
    return max(1, round(median * scale * popularity * rng.lognormvariate(0, 0.5)))


def _bulky(product: Product) -> bool:
    return bool(product.handling & {Handling.OVERSIZE, Handling.HIGH_VALUE})


def _dc_counts(
    rng: random.Random, products: Sequence[Product], popularity: dict[str, float]
) -> dict[str, int]:
    """Every SKU the DC can handle, most in stock (median 120 units), the rest counted empty."""
    return {
        p.sku: _units(rng, 120, popularity[p.sku], _bulky(p)) if rng.random() < DC_IN_STOCK else 0
        for p in products
    }


def _store_counts(
    rng: random.Random, products: Sequence[Product], popularity: dict[str, float]
) -> dict[str, int]:
    """A popularity-weighted range a few units deep (median 4); a few ranged SKUs sold out."""
    counts: dict[str, int] = {}
    for p in products:
        if rng.random() < min(0.6, STORE_RANGE * popularity[p.sku]):
            sold_out = rng.random() < 0.05
            counts[p.sku] = 0 if sold_out else _units(rng, 4, popularity[p.sku], _bulky(p))
    return counts


def _vendor_counts(
    rng: random.Random, node: Node, products: Sequence[Product], popularity: dict[str, float]
) -> dict[str, int]:
    """Deep stock of a slice of the catalogue; every oversize item at a vendor that takes them."""
    counts: dict[str, int] = {}
    for p in products:
        if Handling.OVERSIZE in p.handling and Handling.OVERSIZE in node.handling:
            counts[p.sku] = _units(rng, 150, popularity[p.sku], bulky=False)
        elif rng.random() < VENDOR_RANGE:
            counts[p.sku] = _units(rng, 300, popularity[p.sku], _bulky(p))
    return counts


def _third_party_counts(
    rng: random.Random, products: Sequence[Product], popularity: dict[str, float]
) -> dict[str, int]:
    """Overflow of a third of the catalogue, less skewed by popularity than a DC's."""
    return {
        p.sku: _units(rng, 60, popularity[p.sku] ** 0.6, _bulky(p))
        for p in products
        if rng.random() < THIRD_PARTY_RANGE
    }


def _safety_stock(
    rng: random.Random, node_id: str, counts: dict[str, int]
) -> list[tuple[str, str, int]]:
    """One or two units kept back on the store's best-stocked positions."""
    best = sorted(counts, key=lambda sku: (-counts[sku], sku))[:SAFETY_STOCK_POSITIONS]
    return [(sku, node_id, rng.choice((1, 2))) for sku in best if counts[sku] >= 3]


def _purchase_orders(
    seed: int, nodes: Sequence[Node], counts: dict[str, dict[str, int]], today: date
) -> list[SupplyLine]:
    """Per distribution centre, orders for its emptiest positions: one due soon, one later."""
    rng = random.Random(f"dom-demo:{seed}:stock:purchase-orders")
    lines: list[SupplyLine] = []
    number = 0
    centres = sorted(
        (n for n in nodes if n.type is NodeType.DISTRIBUTION_CENTRE), key=lambda n: n.id
    )
    for node in centres:
        held = counts.get(node.id, {})
        low = sorted((units, sku) for sku, units in held.items() if units < REORDER_BELOW)
        for order in range(ORDERS_PER_DC):
            number += 1
            skus = [sku for _, sku in low[order * LINES_PER_ORDER : (order + 1) * LINES_PER_ORDER]]
            due = today + timedelta(days=rng.randint(3, 9) if order == 0 else rng.randint(12, 25))
            lines += [
                SupplyLine(
                    SupplyKind.PURCHASE_ORDER,
                    f"PO-DEMO-{seed}-{number:03d}",
                    sku,
                    node.id,
                    rng.randrange(100, 601, 50),
                    due,
                )
                for sku in skus
            ]
    return lines
