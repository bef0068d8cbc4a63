"""The sourcing benchmarks' data: scenarios from the simulator's generator (real US geography,
Zipf popularity, research-style stocking; see docs/scenarios.md), and orders of a chosen number
of lines drawn from a generated stream. All seeded."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.sourcing.model import Order, OrderLine
from dom.simulation.generator import Tightness, generate_scenario
from dom.simulation.model import Arrival, Scenario
from dom.simulation.scenario import load_scenario


@dataclass(frozen=True)
class ScenarioSize:
    nodes: int
    skus: int
    orders: int
    capacity: Tightness

    def describe(self) -> str:
        return (
            f"{self.nodes} nodes, {self.skus:,} SKUs, {self.orders:,} orders, "
            f"{self.capacity.value} capacity"
        )


def scenario(zips: ZipDirectory, size: ScenarioSize, seed: int) -> Scenario:
    """The generated scenario, read back through the same checks as a scenario file."""
    document = generate_scenario(
        zips,
        nodes=size.nodes,
        skus=size.skus,
        orders=size.orders,
        capacity=size.capacity,
        seed=seed,
    )
    return load_scenario(json.dumps(document), document["name"], zips)


class OrderMaker:
    """Orders to time: each takes an arrival of the generated stream (its destination, service
    level, promise, residential flag and time) and either keeps its lines (the generated mix:
    1-5 lines) or gets `k` lines of distinct SKUs drawn from the lines of the whole stream, so
    SKUs come with their Zipf popularity and quantities with the stream's."""

    def __init__(self, stream: Sequence[Arrival], seed: int) -> None:
        self._stream = stream
        self._lines = [(line.sku, line.quantity) for a in stream for line in a.order.lines]
        self._skus = len({sku for sku, _ in self._lines})
        self._rng = random.Random(f"bench-sourcing:{seed}")
        self._made = 0

    def with_lines(self, count: int) -> Arrival:
        if count > self._skus:
            raise ValueError(f"the stream has only {self._skus} SKUs, {count} lines asked")
        chosen: dict[str, int] = {}
        while len(chosen) < count:
            sku, quantity = self._rng.choice(self._lines)
            chosen.setdefault(sku, quantity)
        lines = tuple(
            OrderLine(str(number), sku, quantity)
            for number, (sku, quantity) in enumerate(chosen.items(), start=1)
        )
        return self._from_template(lines)

    def generated(self) -> Arrival:
        template = self._rng.choice(self._stream)
        return self._from_template(template.order.lines, template)

    def _from_template(
        self, lines: tuple[OrderLine, ...], template: Arrival | None = None
    ) -> Arrival:
        template = template or self._rng.choice(self._stream)
        self._made += 1
        order: Order = replace(template.order, id=f"bench-{self._made:07d}", lines=lines)
        return replace(template, order=order)
