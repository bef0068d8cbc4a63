"""Exact search for one order: the cheapest way to group its lines into shipments.

For every subset of lines (a bit mask), the cheapest single shipment that carries exactly those
lines: over every candidate node that can fill them all and every service it may use
(`ShipmentTable`). Then the cheapest partition of all lines into at most k such shipments, by
dynamic programming over subsets — best_k(S) = min over groups T ⊆ S holding S's lowest line of
shipment(T) + best_{k-1}(S \\ T) — vectorized over every (S, T) pair with numpy. With L lines
that is 3^L / 2 pairs per level: 29,524 for 10 lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dom.domain.carriers import billable_weight
from dom.domain.catalog import Product

if TYPE_CHECKING:
    from dom.domain.sourcing.engine import NodeModel, WorkLine
    from dom.domain.sourcing.model import Order
    from dom.domain.sourcing.profiles import Profile
    from dom.domain.sourcing.rates import RateBook

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ShipmentTable:
    """The cheapest single shipment of each subset of lines, and the node that makes it."""

    lines: int
    nodes: tuple[str, ...]
    best: Floats  # objective per subset mask; inf where no node can ship it
    node_of: Ints  # index into `nodes` of the node that ships it cheapest
    first_credit: float  # the first shipment does not pay the split penalty
    costs: Floats  # objective per node (row) and subset mask (column)
    holds: tuple[int, ...]  # per node, the mask of lines it can fill

    @classmethod
    def build(
        cls,
        kept: Sequence[NodeModel],
        work: Sequence[WorkLine],
        products: Mapping[str, Product],
        profile: Profile,
        book: RateBook,
        order: Order,
    ) -> ShipmentTable:
        count = len(work)
        size = 1 << count
        masks = np.arange(size, dtype=np.int64)
        bits = ((masks[:, None] >> np.arange(count)) & 1).astype(np.float64)
        quantity = np.array([w.quantity for w in work], dtype=np.float64)
        units = bits @ quantity
        # Parts of one split line share their SKU's stock: a group may not take more than it.
        shared: dict[str, Floats] = {}
        for sku in {x.sku for x in work}:
            parts = [i for i, x in enumerate(work) if x.sku == sku]
            if len(parts) > 1:
                shared[sku] = bits[:, parts] @ quantity[parts]
        costs = np.full((len(kept), size), np.inf)
        pounds_by_divisor: dict[float, Ints] = {}
        w = profile.weights
        for n, model in enumerate(kept):
            if not model.holds:
                continue
            fits = (masks & ~model.holds) == 0
            left = model.offer.units_left_today
            if left is not None:
                fits &= units <= left
            fits[0] = False
            for sku, taken in shared.items():
                fits &= taken <= model.usable.get(sku, 0)
            per_line = bits @ np.array(model.line_costs, dtype=np.float64)
            freight_part = np.full(size, np.inf)
            for option in model.options:
                divisor = option.service.dim_divisor
                pounds = pounds_by_divisor.get(divisor)
                if pounds is None:
                    each = np.array(
                        [_pounds(products[x.sku], divisor) * x.quantity for x in work],
                        dtype=np.int64,
                    )
                    pounds = (bits.astype(np.int64) @ each).astype(np.int64)
                    pounds_by_divisor[divisor] = pounds
                table = book.table(option.service, option.zone, order.residential, int(pounds[-1]))
                value = w.shipping_cost * table[pounds] + w.delivery_days * option.days
                freight_part = np.minimum(freight_part, value)
            costs[n] = np.where(fits, model.fixed + per_line + freight_part, np.inf)
        node_of = np.argmin(costs, axis=0) if len(kept) else np.zeros(size, dtype=np.int64)
        best = costs[node_of, masks] if len(kept) else np.full(size, np.inf)
        return cls(
            count,
            tuple(m.id for m in kept),
            best,
            node_of.astype(np.int64),
            w.split_penalty,
            costs,
            tuple(m.holds for m in kept),
        )


def _pounds(product: Product, divisor: float) -> int:
    return 0 if product.dimensions is None else billable_weight(product.dimensions, divisor)


@dataclass(frozen=True)
class Solved:
    blocks: list[tuple[str, tuple[int, ...]]]  # (node, work line indexes) per shipment
    #: the best objective for all lines in at most k shipments, per k searched (a lower
    #: bound when the search was not exact)
    by_level: dict[int, float]
    #: False when the exact search was too large: `blocks` is empty, `bound` bounds the best
    exact: bool = True
    bound: float = 0.0


#: The search by node (when the quick search put two shipments on one node) runs exactly up
#: to this many (node, group of lines) pairs; beyond, the caller falls back to a heuristic.
BY_NODE_BUDGET = 6_000


@lru_cache(maxsize=16)
def _pairs(count: int) -> tuple[Ints, Ints, Ints]:
    """Every (S, T) with T ⊆ S holding S's lowest line, grouped by S; and where each S starts."""
    subsets: list[int] = []
    groups: list[int] = []
    starts: list[int] = []
    for s in range(1, 1 << count):
        starts.append(len(subsets))
        low = s & -s
        rest = s ^ low
        sub = rest
        while True:
            subsets.append(s)
            groups.append(sub | low)
            if sub == 0:
                break
            sub = (sub - 1) & rest
    return (
        np.array(subsets, dtype=np.int64),
        np.array(groups, dtype=np.int64),
        np.array(starts, dtype=np.int64),
    )


def best_partition(table: ShipmentTable, limit: int) -> Solved:
    """The cheapest grouping of the lines into at most `limit` shipments; when no grouping
    carries every line, the one that carries the most lines, then the cheapest."""
    count = table.lines
    full = (1 << count) - 1
    if count == 0:
        return Solved([], {})
    subsets, groups, starts = _pairs(count)
    single = table.best
    levels = [np.where(np.arange(1 << count) == 0, 0.0, np.inf), single.copy()]
    levels[1][0] = 0.0
    converged = False
    while len(levels) <= count and not converged:  # beyond `limit` only to tell what it costs
        previous = levels[-1]
        values = single[groups] + previous[subsets ^ groups]
        current = np.concatenate(([0.0], np.minimum.reduceat(values, starts)))
        converged = bool(np.array_equal(current, previous))  # nor will any further shipment
        levels.append(current)
    credit = table.first_credit
    by_level = {k: float(level[full]) - credit for k, level in enumerate(levels) if k}
    by_level[count] = float(levels[-1][full]) - credit  # the best with no limit at all
    levels = levels[: limit + 1]
    target = _widest_cheapest(levels[-1])
    if target is None:
        return Solved([], by_level)
    blocks = _unwind(table, levels, target, subsets, groups, starts)
    if len({node for node, _ in blocks}) == len(blocks):
        return Solved(blocks, by_level)  # the relaxation's best is feasible: it is the best
    # Two groups landed on one node (its capacity was counted per group): search node by node.
    bound = float(levels[-1][target]) - credit
    work = sum(int(np.isfinite(row).sum()) for row in table.costs)
    if work > BY_NODE_BUDGET:
        return Solved([], by_level, exact=False, bound=bound)
    return Solved(_by_node(table, limit), by_level, bound=bound)


def _widest_cheapest(best: Floats) -> int | None:
    """The subset of lines with the most lines, then the lowest objective; None if none."""
    full = len(best) - 1
    if np.isfinite(best[full]):
        return full
    reachable = np.flatnonzero(np.isfinite(best))
    reachable = reachable[reachable > 0]
    if not len(reachable):
        return None
    popcount = np.array([int(s).bit_count() for s in reachable])
    widest = reachable[popcount == popcount.max()]
    return int(widest[np.argmin(best[widest])])


def _by_node(table: ShipmentTable, limit: int) -> list[tuple[str, tuple[int, ...]]]:
    """Exact with each node shipping at most once: best[k][S] over nodes taken one at a time,
    each adding at most one group T of the lines it can fill to a plan of k - 1 shipments."""
    size = 1 << table.lines
    masks = np.arange(size, dtype=np.int64)
    best = np.full((limit + 1, size), np.inf)
    best[0, 0] = 0.0
    history = [best]
    for row in table.costs:
        grown = best.copy()
        for group in np.flatnonzero(np.isfinite(row)):
            free = masks[(masks & group) == 0]
            tried = best[:-1, free] + row[group]
            grown[1:, free | group] = np.minimum(grown[1:, free | group], tried)
        history.append(grown)
        best = grown
    target = _widest_cheapest(best.min(axis=0))
    if target is None:
        return []
    level = int(np.argmin(best[:, target]))
    blocks: list[tuple[str, tuple[int, ...]]] = []
    remaining = target
    for j in range(len(table.costs), 0, -1):
        value = history[j][level, remaining]
        if value == history[j - 1][level, remaining]:
            continue  # node j - 1 ships nothing in the best plan
        row = table.costs[j - 1]
        groups = [g for g in np.flatnonzero(np.isfinite(row)) if g & remaining == g]
        group = min(
            groups, key=lambda g: abs(history[j - 1][level - 1, remaining ^ g] + row[g] - value)
        )
        blocks.append((table.nodes[j - 1], tuple(i for i in range(table.lines) if group >> i & 1)))
        remaining ^= int(group)
        level -= 1
    return blocks


def _unwind(
    table: ShipmentTable,
    levels: list[Floats],
    target: int,
    subsets: Ints,
    groups: Ints,
    starts: Ints,
) -> list[tuple[str, tuple[int, ...]]]:
    blocks: list[tuple[str, tuple[int, ...]]] = []
    remaining = target
    level = len(levels) - 1
    while remaining:
        begin = int(starts[remaining - 1])
        end = int(starts[remaining]) if remaining < len(starts) else len(subsets)
        options = groups[begin:end]
        values = table.best[options] + levels[level - 1][remaining ^ options]
        group = int(options[int(np.argmin(values))])
        node = table.nodes[int(table.node_of[group])]
        blocks.append((node, tuple(i for i in range(table.lines) if group >> i & 1)))
        remaining ^= group
        level -= 1
    return blocks
