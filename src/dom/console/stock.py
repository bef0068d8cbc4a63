"""The inventory page's content: one SKU's positions across the nodes a key may see, their map
markers, network totals and the latest stock events, all read through the services."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from dom.console.mapview import TYPE_LABELS, MapView, Marker, map_view, place
from dom.console.usmap import Point
from dom.domain.access import Principal
from dom.domain.catalog import Product
from dom.domain.inventory import EventKind, Position, Supply
from dom.domain.network import Node
from dom.services import catalog, inventory, supply

#: a count older than this is flagged: the position may have drifted from the shelf
STALE_AFTER = timedelta(days=30)
RECENT_EVENTS = 10
SUGGESTIONS = 20
PAGE_SIZE = 1000
#: marker sizes: the node with the most available units is drawn this much larger than normal
LARGEST, SMALLEST = 2.0, 0.7


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class PositionRow:
    """A position as the page shows it, with its node when the key may read the network."""

    position: Position
    node: Node | None
    at: Point | None
    now: datetime

    @property
    def node_label(self) -> str:
        return self.node.name if self.node is not None else self.position.node_id

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.node.type] if self.node is not None else "—"

    @property
    def city(self) -> str:
        if self.node is None:
            return "—"
        return f"{self.node.address.city}, {self.node.address.state}"

    @property
    def stale(self) -> bool:
        counted = self.position.snapshot_at
        return counted is not None and self.now - counted > STALE_AFTER

    @property
    def counted(self) -> str:
        """When the position was last counted, with its age once the count is stale."""
        counted = self.position.snapshot_at
        if counted is None:
            return "never"
        if self.stale:
            return f"{when(counted)} ({(self.now - counted).days} days ago)"
        return when(counted)

    @property
    def summary(self) -> str:
        p = self.position
        return (
            f"{self.node_label} ({p.node_id}) — on hand {p.on_hand:,}, reserved {p.reserved:,}, "
            f"allocated {p.allocated:,}, safety stock {p.safety_stock:,}, "
            f"available {p.available:,}, last counted {self.counted}"
        )


@dataclass(frozen=True)
class Totals:
    """The sums over the positions shown: the network's, or a node key's own node's."""

    on_hand: int
    reserved: int
    allocated: int
    safety_stock: int
    available: int
    stocked: int

    @classmethod
    def of(cls, positions: Iterable[Position]) -> Totals:
        listed = list(positions)
        return cls(
            sum(p.on_hand for p in listed),
            sum(p.reserved for p in listed),
            sum(p.allocated for p in listed),
            sum(p.safety_stock for p in listed),
            sum(p.available for p in listed),
            sum(1 for p in listed if p.available > 0),
        )


@dataclass(frozen=True)
class EventRow:
    """One recorded stock event, worded for people."""

    recorded_at: datetime
    node_id: str
    node_label: str
    kind: str
    quantity: str
    source: str
    by: str
    applied: bool
    note: str

    @property
    def when(self) -> str:
        return when(self.recorded_at)


@dataclass(frozen=True)
class StockView:
    """A SKU's page: the product, its positions, totals, latest events, and the map if allowed."""

    product: Product
    rows: list[PositionRow]
    totals: Totals
    events: list[EventRow]
    map: MapView | None
    inbound: list[Supply]

    @property
    def off_map(self) -> int:
        """Positions at nodes the map does not show (not those whose node this key may not see)."""
        return sum(1 for row in self.rows if row.node is not None and row.at is None)


def stock_view(
    engine: Engine,
    principal: Principal,
    product: Product,
    nodes: Mapping[str, Node] | None,
    now: datetime,
) -> StockView:
    """Read a SKU's positions and events as this principal; `nodes` is None without network:read."""
    found = sku_positions(engine, principal, product.sku, now)
    known = nodes or {}
    rows = [
        PositionRow(p, known.get(p.node_id), _place(known.get(p.node_id)), now)
        for p in sorted(found, key=lambda p: (-p.available, p.node_id))
    ]
    events = recent_events(engine, principal, product.sku, rows)
    drawn = None if nodes is None else map_view(markers(rows))
    inbound = supply.open_supply(engine, principal, sku=product.sku)
    return StockView(product, rows, Totals.of(found), events, drawn, inbound)


def sku_positions(engine: Engine, principal: Principal, sku: str, now: datetime) -> list[Position]:
    """Every position of a SKU the principal may see, page by page."""
    found: list[Position] = []
    after: tuple[str, str] | None = None
    while True:
        page = inventory.positions(
            engine, principal, sku=sku, limit=PAGE_SIZE, after=after, now=now
        )
        found.extend(page)
        if len(page) < PAGE_SIZE:
            return found
        after = (page[-1].sku, page[-1].node_id)


def markers(rows: list[PositionRow]) -> list[Marker]:
    """A marker per placed position, its area growing with the units available there."""
    most = max((row.position.available for row in rows), default=0)
    drawn: list[Marker] = []
    for row in rows:
        if row.node is None or row.at is None:
            continue
        available = row.position.available
        share = math.sqrt(available / most) if most else 0.0
        scale = round(SMALLEST + (LARGEST - SMALLEST) * share, 2)
        classes = () if available else ("out",)
        drawn.append(Marker(row.node, row.at, row.summary, classes, scale))
    return drawn


def recent_events(
    engine: Engine, principal: Principal, sku: str, rows: list[PositionRow]
) -> list[EventRow]:
    """The latest events of the SKU across the positions shown, newest first."""
    by_node = {row.position.node_id: row for row in rows}
    history = inventory.sku_history(engine, principal, sku, RECENT_EVENTS)
    return [
        event_row(entry, by_node[entry["node_id"]])
        for entry in history
        if entry["node_id"] in by_node
    ]


def event_row(entry: Mapping[str, Any], row: PositionRow) -> EventRow:
    kind = EventKind(entry["kind"])
    quantity = int(entry["quantity"])
    if kind is EventKind.SNAPSHOT:
        shown = f"= {quantity:,}"
    elif kind in (EventKind.SHRINK, EventKind.DAMAGE):
        shown = f"−{quantity:,}"
    else:
        shown = f"{quantity:+,}".replace("-", "−")
    notes = [f"reason: {entry['reason']}"] if entry["reason"] else []
    if entry["note"]:
        notes.append(str(entry["note"]))
    if entry["uncovered"]:
        notes.append(f"{entry['uncovered']:,} committed unit(s) left uncovered")
    return EventRow(
        recorded_at=entry["recorded_at"],
        node_id=row.position.node_id,
        node_label=row.node_label,
        kind=kind.value,
        quantity=shown,
        source=f"{entry['source']} · {when(entry['source_time'])}",
        by=str(entry["recorded_by"]),
        applied=bool(entry["applied"]),
        note="; ".join(notes),
    )


def suggestions(engine: Engine, principal: Principal, query: str) -> tuple[list[Product], bool]:
    """Products whose SKU or name contains the query, and whether there are more than shown."""
    found = catalog.list_products(engine, principal, search=query, limit=SUGGESTIONS + 1)
    return found[:SUGGESTIONS], len(found) > SUGGESTIONS


def _place(node: Node | None) -> Point | None:
    return place(node) if node is not None else None
