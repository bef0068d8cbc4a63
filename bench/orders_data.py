"""The orders the orders benchmarks post: shared by `bench/orders.py` and the side-by-side
in-process comparison (`bench/orders_in_process.py`), which also imports it under older trees."""

from __future__ import annotations

import random
from typing import Any

from bench.inventory_data import Stock
from dom.adapters.zip_directory import ZipDirectory

ORDER_LINES = 3


class OrderMaker:
    """3-line orders of SKUs that have stock at a DC, 1-3 units a line, each to a random real
    ZIP, each with its own external id."""

    def __init__(self, stock: Stock, zips: ZipDirectory, seed: int) -> None:
        self.rng = random.Random(f"bench-orders:{seed}")
        self.skus = sorted({sku for sku, _ in stock.roomy})
        self.places = sorted(
            (p for p in zips.places() if p.active and p.is_standard and p.has_location),
            key=lambda p: p.zip,
        )
        self.count = 0

    def bodies(self, count: int, tag: str) -> list[dict[str, Any]]:
        return [self.body(tag) for _ in range(count)]

    def body(self, tag: str) -> dict[str, Any]:
        self.count += 1
        place = self.rng.choice(self.places)
        return {
            "channel": "web",
            "external_id": f"bench-{tag}-{self.count}",
            "customer": {"id": f"c-{self.rng.randrange(100_000)}", "email": "ada@example.com"},
            "ship_to": {
                "name": "Ada Lovelace",
                "line1": "1 High Street",
                "city": place.city,
                "state": place.state,
                "zip": place.zip,
            },
            "lines": [
                {
                    "sku": sku,
                    "quantity": self.rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0],
                    "unit_price": round(self.rng.uniform(5, 80), 2),
                    "method": "ship",
                }
                for sku in self.rng.sample(self.skus, ORDER_LINES)
            ],
        }
