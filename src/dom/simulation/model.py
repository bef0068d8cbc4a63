"""A scenario as the simulator replays it: a network with stock and daily capacity, a stream
of orders with their arrival times, and optionally the orders of past days. Plain data; reading
and checking files is `scenario.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dom.domain.carriers import CarrierService
from dom.domain.catalog import Product
from dom.domain.network import Node
from dom.domain.sourcing.model import Offer, Order

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Arrival:
    """An order of the stream, when it arrives, and the facts routing rules look at."""

    order: Order
    arrives_at: datetime
    zip: str
    channel: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DailyCapacity:
    """Shipments and units a node can make per day; None: not limited."""

    orders: int | None
    units: int | None


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int | None
    start: datetime
    nodes: tuple[Node, ...]
    products: Mapping[str, Product]
    services: tuple[CarrierService, ...]
    inventory: Mapping[str, Mapping[str, int]]  # node id → SKU → units it can ship at the start
    capacity: Mapping[str, DailyCapacity]  # by node id, every node
    arrivals: tuple[Arrival, ...]  # in order of arrival
    #: past orders, all before `start`, in order of arrival: what demand forecasts learn from
    history: tuple[Arrival, ...] = ()

    def day_of(self, moment: datetime) -> int:
        """Which day of the scenario a moment falls in: capacity resets every 24 hours."""
        return (moment - self.start) // DAY

    @property
    def days(self) -> int:
        """Days the order stream spans, counting the days without orders between."""
        if not self.arrivals:
            return 1
        return (
            self.day_of(self.arrivals[-1].arrives_at) - self.day_of(self.arrivals[0].arrives_at) + 1
        )

    def day_offers(self, taken: Mapping[tuple[str, str], int]) -> list[Offer]:
        """Every node with stock at the start of a day: the stock less what was `taken`
        (by node and SKU), and a fresh day's capacity."""
        offers = []
        for node in self.nodes:
            stock = self.inventory.get(node.id)
            if not stock:
                continue
            capacity = self.capacity[node.id]
            available = {sku: units - taken.get((node.id, sku), 0) for sku, units in stock.items()}
            offers.append(Offer(node, available, capacity.units, capacity.orders))
        return offers
