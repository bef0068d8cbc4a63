"""Exact search for one order: the cheapest way to group its lines into shipments.

For every subset of lines (a bit mask), the cheapest single shipment that carries exactly those
lines: over every candidate node that can fill them all and every service it may use
(`ShipmentTable`). Then the cheapest partition of all lines into at most k such shipments, by
dynamic programming over subsets — best_k(S) = min over groups T ⊆ S holding S's lowest line of
shipment(T) + best_{k-1}(S \\ T) — vectorized over every (S, T) pair with numpy. With L lines
that is 3^L / 2 pairs per level: 29,524 for 10 lines.

That search lets a node ship two groups (each group was checked alone: two parts of a split
line that a node can give one at a time, or capacity for one group but not both). When its
best does, that node is made to ship at most once and the search runs again — the other nodes
as before, then that node adding at most one group — until the best ships once per node; it is
then the best of all plans (`ONCE_NODES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from dom.domain.carriers import CarrierService, billable_weight
from dom.domain.catalog import Product

if TYPE_CHECKING:
    from dom.domain.sourcing.engine import NodeModel, WorkLine
    from dom.domain.sourcing.model import Order
    from dom.domain.sourcing.profiles import Profile
    from dom.domain.sourcing.rates import RateBook

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Number = TypeVar("Number", np.float64, np.int64)


@dataclass(frozen=True)
class ShipmentTable:
    """The cheapest single shipment of each subset of lines, and the node that makes it."""

    lines: int
    nodes: tuple[str, ...]
    best: Floats  # objective per subset mask; inf where no node can ship it
    node_of: Ints  # index into `nodes` of the first node that ships it cheapest
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
        w = profile.weights
        per_line = np.array([m.line_costs for m in kept], dtype=np.float64)
        costs = _subset_sums(per_line.reshape(len(kept), len(work)))  # (node, subset)
        costs += np.array([m.fixed for m in kept], dtype=np.float64)[:, None]
        freight = _Freight(work, products, book, order.residential, w.shipping_cost)
        costs += _freight_rows(kept, freight, w.delivery_days)
        costs[~_fits(kept, work)] = np.inf
        node_of, best = _cheapest(costs)
        return cls(
            len(work),
            tuple(m.id for m in kept),
            best,
            node_of,
            w.split_penalty,
            costs,
            tuple(m.holds for m in kept),
        )


def _fits(kept: Sequence[NodeModel], work: Sequence[WorkLine]) -> npt.NDArray[np.bool_]:
    """Per node and subset of lines: can the node ship them together — it holds each line,
    has the units left today, and its stock of a split line's SKU covers the parts taken."""
    masks = np.arange(1 << len(work), dtype=np.int64)
    holds = np.array([m.holds for m in kept], dtype=np.int64)
    fits: npt.NDArray[np.bool_] = (masks[None, :] & ~holds[:, None]) == 0
    fits[:, 0] = False
    quantity = np.array([[x.quantity for x in work]], dtype=np.float64)
    lefts = [m.offer.units_left_today for m in kept]
    if any(left is not None for left in lefts):  # else room for any subset
        units = _subset_sums(quantity)[0]
        room = np.array([np.inf if left is None else left for left in lefts])
        fits &= units[None, :] <= room[:, None]
    for sku in {x.sku for x in work}:
        # Parts of one split line share their SKU's stock: a group may not take more than it.
        parts = np.array([[x.sku == sku for x in work]])
        if parts.sum() > 1:
            taken = _subset_sums(np.where(parts, quantity, 0.0))[0]
            usable = np.array([m.usable.get(sku, 0) for m in kept], dtype=np.float64)
            fits &= taken[None, :] <= usable[:, None]
    return fits


def _freight_rows(kept: Sequence[NodeModel], freight: _Freight, days_weight: float) -> Floats:
    """Per node and subset: the weighted freight and days of its cheapest service (inf where
    none). Nodes with the same services, zones and days (most, in a network) share a row."""
    rows = np.full((len(kept), 1 << len(freight.work)), np.inf)
    known: dict[tuple[tuple[int, int, int], ...], Floats] = {}
    for n, model in enumerate(kept):
        if not model.holds:
            continue
        key = tuple((id(o.service), o.zone, o.days) for o in model.options)
        row = known.get(key)
        if row is None:
            row = known[key] = rows[n]
            for option in model.options:
                value = freight.of(option.service, option.zone) + days_weight * option.days
                np.minimum(row, value, out=row)
        else:
            rows[n] = row
    return rows


def _cheapest(costs: Floats) -> tuple[Ints, Floats]:
    """Per subset (column): the first node (row) with the lowest cost, and that cost. On wide
    tables without argmin along the rows, whose strided walk is slow there."""
    width = costs.shape[1]
    if not len(costs):
        return np.zeros(width, dtype=np.int64), np.full(width, np.inf)
    best = costs.min(axis=0)
    if width <= WIDE:
        return np.argmin(costs, axis=0).astype(np.int64), best
    node_of = np.zeros(width, dtype=np.int64)
    for n in range(len(costs) - 1, -1, -1):  # last to first: the first cheapest stays
        node_of[costs[n] == best] = n
    return node_of, best


def _subset_sums(values: npt.NDArray[Number]) -> npt.NDArray[Number]:
    """Per row, the sum of its values over every subset of columns (bit i = column i), built
    up a bit at a time: no matrix product, whose threads would fight for a busy machine."""
    rows, count = values.shape
    sums = np.zeros((rows, 1 << count), dtype=values.dtype)
    for i in range(count):
        sums[:, 1 << i : 2 << i] = sums[:, : 1 << i] + values[:, i : i + 1]
    return sums


class _Freight:
    """Weighted freight of every subset of lines by one service to one zone, made once for all
    the nodes in that zone."""

    def __init__(
        self,
        work: Sequence[WorkLine],
        products: Mapping[str, Product],
        book: RateBook,
        residential: bool,
        weight: float,
    ) -> None:
        self.work, self.products, self.book = work, products, book
        self.residential, self.weight = residential, weight
        self._pounds: dict[float, Ints] = {}
        self._values: dict[tuple[int, int], Floats] = {}

    def of(self, service: CarrierService, zone: int) -> Floats:
        key = (id(service), zone)
        found = self._values.get(key)
        if found is None:
            pounds = self.pounds(service.dim_divisor)
            table = self.book.table(service, zone, self.residential, int(pounds[-1]))
            found = self._values[key] = self.weight * table[pounds]
        return found

    def pounds(self, divisor: float) -> Ints:
        found = self._pounds.get(divisor)
        if found is None:
            each = np.array(
                [_pounds(self.products[x.sku], divisor) * x.quantity for x in self.work],
                dtype=np.int64,
            )
            found = self._pounds[divisor] = _subset_sums(each[None, :])[0]
        return found


def _pounds(product: Product, divisor: float) -> int:
    return 0 if product.dimensions is None else billable_weight(product.dimensions, divisor)


@dataclass(frozen=True)
class Solved:
    blocks: list[tuple[str, tuple[int, ...]]]  # (node, work line indexes) per shipment
    #: per k searched, an objective no plan of all lines in at most k shipments goes below:
    #: the best grouping into k, each group from its cheapest node — one node may ship two
    #: groups there (where two parcels cost less than one), which no plan does. At k = all
    #: lines it is the real best when the limit kept a cheaper plan out (`best_partition`).
    by_level: dict[int, float]
    #: False when the exact search was too large: `blocks` is empty, `bound` bounds the best
    exact: bool = True
    bound: float = 0.0


#: When the quick search's best ships twice from one node, that node is made to ship at most
#: once and the search run again, until the best ships once per node (one such node was
#: enough for 70 % of the orders that needed any on the benchmark's network, two for the
#: rest). Beyond this many nodes the search gives up: the caller falls back to a heuristic
#: and says so.
ONCE_NODES = 4
#: From this many lines a step over every pair costs more than trying only the pairs that can
#: lower it (`_step_from_cheaper`), and argmin along the nodes more than a pass per node
#: (`_cheapest`); below, numpy's fixed cost per call wins.
WIDE_LINES = 8
WIDE = 1 << WIDE_LINES
#: Far above the rounding of a sum of a dozen costs, far below a cent: a bound compared with a
#: cost summed in another order is taken as tight within this.
ROUNDING = 1e-7


@lru_cache(maxsize=16)
def _pairs(count: int) -> tuple[Ints, Ints, Ints, Ints]:
    """Every (S, T) with T ⊆ S holding S's lowest line, grouped by S; where each S starts;
    and S \\ T for each pair."""
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
    subset_array = np.array(subsets, dtype=np.int64)
    group_array = np.array(groups, dtype=np.int64)
    return subset_array, group_array, np.array(starts, dtype=np.int64), subset_array ^ group_array


@lru_cache(maxsize=16)
def _all_pairs(count: int) -> tuple[Ints, Ints, Ints]:
    """Every (S, T) with ∅ ≠ T ⊆ S, grouped by S: T, where each S starts, and S \\ T."""
    code = np.arange(3**count, dtype=np.int64)
    subsets = np.zeros_like(code)
    groups = np.zeros_like(code)
    for line in range(count):  # each line: out of S, in S but not T, or in T
        digit = code % 3
        code //= 3
        subsets |= (digit > 0).astype(np.int64) << line
        groups |= (digit == 2).astype(np.int64) << line
    keep = groups != 0
    subsets, groups = subsets[keep], groups[keep]
    order = np.lexsort((groups, subsets))
    subsets, groups = subsets[order], groups[order]
    starts = np.searchsorted(subsets, np.arange(1, 1 << count))
    return groups, starts, subsets ^ groups


def _levels(single: Floats, count: int, deepest: int) -> list[Floats]:
    """best_k(S) for k = 0…`deepest` shipments (fewer once another shipment changes nothing),
    any node allowed to ship any number of them."""
    _, groups, starts, rest = _pairs(count)
    per_pair = single[groups]
    levels = [np.where(np.arange(1 << count) == 0, 0.0, np.inf), single.copy()]
    levels[1][0] = 0.0
    cheaper: npt.NDArray[np.bool_] | None = None  # the sets the last step made cheaper
    while len(levels) <= deepest:
        previous = levels[-1]
        current = None
        if cheaper is not None and count >= WIDE_LINES:
            current = _step_from_cheaper(previous, per_pair, cheaper)
        if current is None:
            current = np.empty_like(previous)
            current[0] = 0.0
            current[1:] = np.minimum.reduceat(per_pair + previous[rest], starts)
        cheaper = current < previous
        if not cheaper.any():
            break
        levels.append(current)
    return levels


def _step_from_cheaper(
    previous: Floats, per_pair: Floats, cheaper: npt.NDArray[np.bool_]
) -> Floats | None:
    """The next step, best(S) with one more shipment, from only the pairs whose S \\ T the last
    step made cheaper: the others give what they gave then, no less than `previous`. Those are
    mostly few; when they are not, None (the whole step costs less). Exact: the same sums."""
    count = len(previous).bit_length() - 1
    subsets, _, _, rest = _pairs(count)
    by_rest, begins, lengths = _by_rest(count)
    changed = np.flatnonzero(cheaper)
    sizes = lengths[changed]
    total = int(sizes.sum())
    if 8 * total > len(rest):
        return None
    offsets = np.cumsum(sizes) - sizes
    pairs = by_rest[np.repeat(begins[changed] - offsets, sizes) + np.arange(total)]
    current = previous.copy()
    np.minimum.at(current, subsets[pairs], per_pair[pairs] + previous[rest[pairs]])
    return current


@lru_cache(maxsize=16)
def _by_rest(count: int) -> tuple[Ints, Ints, Ints]:
    """`_pairs`'s pairs grouped by S \\ T: their indexes, and where and how many per S \\ T."""
    rest = _pairs(count)[3]
    lengths = np.bincount(rest, minlength=1 << count).astype(np.int64)
    return np.argsort(rest, kind="stable"), np.cumsum(lengths) - lengths, lengths


@lru_cache(maxsize=16)
def _sizes(count: int) -> Ints:
    """The number of lines in each subset of `count` lines."""
    ones: Ints = np.ones((1, count), dtype=np.int64)
    sizes: Ints = _subset_sums(ones)[0]
    return sizes


@lru_cache(maxsize=16)
def _layers(count: int) -> list[tuple[Ints, Ints, Ints, Ints]]:
    """`_pairs` by the number of lines in S: per count, (groups, rest, starts, the S's)."""
    subsets, groups, starts, rest = _pairs(count)
    owners = np.arange(1, 1 << count)
    ends = np.append(starts[1:], len(subsets))
    sizes = np.array([int(s).bit_count() for s in owners])
    layers = []
    for size in range(1, count + 1):
        chosen = owners[sizes == size]
        pick = np.concatenate([np.arange(starts[s - 1], ends[s - 1]) for s in chosen])
        lengths = ends[chosen - 1] - starts[chosen - 1]
        layer_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        layers.append((groups[pick], rest[pick], layer_starts, chosen))
    return layers


def _unlimited(single: Floats, count: int) -> Floats:
    """best(S) with any number of shipments, in one pass: S by its number of lines, each from
    smaller sets already done."""
    best = np.full(1 << count, np.inf)
    best[0] = 0.0
    for groups, rest, starts, owners in _layers(count):
        best[owners] = np.minimum.reduceat(single[groups] + best[rest], starts)
    return best


def best_partition(table: ShipmentTable, limit: int) -> Solved:
    """The cheapest grouping of the lines into at most `limit` shipments, one per node; when
    no grouping carries every line, the one that carries the most lines, then the cheapest."""
    count = table.lines
    full = (1 << count) - 1
    if count == 0:
        return Solved([], {})
    levels = _levels(table.best, count, count)  # beyond `limit` only to tell what it costs
    credit = table.first_credit
    by_level = {k: float(level[full]) - credit for k, level in enumerate(levels) if k}
    by_level[count] = float(levels[-1][full]) - credit  # the best with no limit at all
    once: list[int] = []
    found = _Search(table, limit, once, levels).best()
    while (twice := found.node_shipping_twice()) is not None:
        if len(once) == ONCE_NODES:
            return Solved([], by_level, exact=False, bound=found.value - credit)
        once.append(twice)
        found = _Search(table, limit, once, floor=levels[-1]).best()
    if limit < count and by_level[count] < found.value - credit - ROUNDING:
        # What any number of shipments really costs, for "allow more shipments" (the bound
        # may owe its saving to a node shipping twice).
        by_level[count] = best_partition(table, count).bound
    named = [
        (table.nodes[node], tuple(i for i in range(count) if group >> i & 1))
        for node, group in found.blocks
    ]
    return Solved(named, by_level, bound=found.value - credit)


def _without(table: ShipmentTable, once: list[int]) -> tuple[Ints, Floats]:
    """Per subset, the node that ships it cheapest and its cost, the `once` nodes left out (-1
    and inf where no node is left). Only the subsets a `once` node shipped cheapest change:
    elsewhere the first cheapest node is still the first cheapest of those left."""
    free = np.array([n for n in range(len(table.nodes)) if n not in once], dtype=np.int64)
    if not len(free):
        return np.full_like(table.node_of, -1), np.full_like(table.best, np.inf)
    moved = np.flatnonzero(np.isin(table.node_of, once))
    if 2 * len(moved) > len(table.best):  # most of them: as cheap to pick every one afresh
        picks, single = _cheapest(table.costs[free])
        return free[picks], single
    node_of, single = table.node_of.copy(), table.best.copy()
    if len(moved):
        picks, single[moved] = _cheapest(table.costs[free[:, None], moved[None, :]])
        node_of[moved] = free[picks]
    return node_of, single


@dataclass(frozen=True)
class _Found:
    """The best grouping of a search in which some nodes may ship more than once: a bound on
    every plan, and the best plan when no node does."""

    value: float  # objective, the first shipment's credit not taken off
    blocks: list[tuple[int, int]]  # (node index, group mask) per shipment

    def node_shipping_twice(self) -> int | None:
        seen: set[int] = set()
        for node, _ in self.blocks:
            if node in seen:
                return node
            seen.add(node)
        return None


class _Search:
    """The subset search with the `once` nodes shipping at most one group each: the other
    nodes' best per (shipments, lines) as before, then each `once` node in turn adding at most
    one group. A grid holds the best per shipments (rows) and subset of lines (columns); with
    no limit on shipments it has one row. The last one or two `once` nodes are tried for all
    lines only, pair by pair (cheap), unless no grouping carries them all."""

    def __init__(
        self,
        table: ShipmentTable,
        limit: int,
        once: list[int],
        levels: list[Floats] | None = None,
        floor: Floats | None = None,
    ) -> None:
        """`levels`: the search's own, when no node is `once`; `floor`: per subset of lines, a
        bound no grouping of it goes below (the best with any node shipping any number of
        groups), to skip what cannot win."""
        self.table, self.once, self.floor = table, once, floor
        self.count = count = table.lines
        self.limited = limit < count
        if levels is None:
            self.node_of, self.single = _without(table, once)
            if self.limited:
                levels = _levels(self.single, count, limit)
            else:
                levels = [_unlimited(self.single, count)] * (count + 1)
        else:
            self.node_of, self.single = table.node_of, table.best
        self.levels = levels
        if self.limited:
            rows = [levels[min(k, len(levels) - 1)] for k in range(limit + 1)]
            self.grids = [np.array(rows)]
        else:
            self.grids = [levels[-1][None, :]]

    def best(self) -> _Found:
        """The best grouping, widest first, then cheapest."""
        full = (1 << self.count) - 1
        last = self.once[-2:]
        through = self._through_order(last)
        if through is None and len(last) == 2 and self._pairs_cost(last) > 3**self.count:
            last = last[1:]  # pairs of their groups would cost more than the full step
        for node in self.once[: len(self.once) - len(last)]:
            self.grids.append(self._with(node))
        if last:
            if through is not None:
                value, blocks, row = self._through(*through, full)
            else:
                value, blocks, row = self._last(last, full)
            if math.isfinite(value):
                remaining = full ^ sum(group for _, group in blocks)
                return _Found(value, blocks + self._back(remaining, row, len(self.grids) - 1))
            for node in last:  # no grouping carries every line: the widest, in full
                self.grids.append(self._with(node))
        target = _widest_cheapest(self.grids[-1][-1])
        if target is None:
            return _Found(0.0, [])
        grid = self.grids[-1]
        value = float(grid[-1][target])
        return _Found(value, self._back(target, len(grid) - 1, len(self.grids) - 1))

    def _last(self, nodes: list[int], full: int) -> tuple[float, list[tuple[int, int]], int]:
        """The best for every line with each of `nodes` adding at most one group, tried pair by
        pair: its value, those groups, and the grid row the rest comes from."""
        groups, values = self._choices(nodes[0])
        picks = [np.arange(len(groups))]
        if len(nodes) == 2:
            other, extra = self._choices(nodes[1])
            first, second = np.nonzero((groups[:, None] & other[None, :]) == 0)
            groups, values = groups[first] | other[second], values[first] + extra[second]
            picks = [first, second]
        used = np.zeros(len(groups), dtype=np.int64)  # shipments the nodes add
        for pick in picks:
            used += pick > 0
        grid = self.grids[-1]
        rows = len(grid) - 1 - used if self.limited else np.zeros_like(used)
        allowed = rows >= 0
        totals = np.full(len(groups), np.inf)
        totals[allowed] = values[allowed] + grid[rows[allowed], full ^ groups[allowed]]
        best = int(np.argmin(totals))
        blocks = []
        for node, pick in zip(nodes, picks, strict=True):
            if pick[best]:
                blocks.append((node, int(self._choices(node)[0][pick[best]])))
        return float(totals[best]), blocks, int(rows[best])

    def _pairs_cost(self, nodes: list[int]) -> int:
        finite = [int(np.isfinite(self.table.costs[n]).sum()) + 1 for n in nodes]
        return math.prod(finite)

    def _through_cost(self, second: int) -> int:
        groups = np.flatnonzero(np.isfinite(self.table.costs[second]))
        sizes = _sizes(self.count)[groups]
        return (1 << self.count) + int((1 << (self.count - sizes)).sum())

    def _through_order(self, last: list[int]) -> tuple[int, int] | None:
        """(first, second) when `_through` is the cheapest way to try the last two nodes."""
        if len(last) < 2 or self.limited:
            return None
        a, b = last
        cost, order = min((self._through_cost(b), (a, b)), (self._through_cost(a), (b, a)))
        return order if cost < min(self._pairs_cost(last), 3**self.count) else None

    def _through(
        self, first: int, second: int, full: int
    ) -> tuple[float, list[tuple[int, int]], int]:
        """With no limit on shipments: the best for every line with `second` adding at most one
        group, and `first` at most one group of what each of those leaves (tried only on those
        sets of lines, not on every one)."""
        best_of = self.grids[-1][0]
        groups, costs = self._choices(second)
        leaves = full ^ groups
        if self.floor is not None:
            # With `first` adding a group, a leaf costs between its floor and its cost without:
            # a group of `second` whose floor is above another's cost cannot win.
            ceiling = float(np.min(costs + best_of[leaves]))
            hopeful = costs + self.floor[leaves] <= ceiling + ROUNDING
            groups, costs, leaves = groups[hopeful], costs[hopeful], leaves[hopeful]
        tried_groups, starts, rest = _all_pairs(self.count)
        ends = np.append(starts[1:], len(tried_groups))
        row = self.table.costs[first]
        with_first = best_of[leaves].copy()
        some = leaves > 0
        begins, lengths = (
            starts[leaves[some] - 1],
            ends[leaves[some] - 1] - starts[leaves[some] - 1],
        )
        offsets = np.cumsum(lengths) - lengths
        pairs = np.repeat(begins - offsets, lengths) + np.arange(int(lengths.sum()))
        values = best_of[rest[pairs]] + row[tried_groups[pairs]]
        with_first[some] = np.minimum(with_first[some], np.minimum.reduceat(values, offsets))
        totals = with_first + costs
        pick = int(np.argmin(totals))
        blocks = [(second, int(groups[pick]))] if groups[pick] else []
        left = int(leaves[pick])
        if left and with_first[pick] < best_of[left]:
            span = slice(int(starts[left - 1]), int(ends[left - 1]))
            options = tried_groups[span]
            chosen = int(options[int(np.argmin(best_of[rest[span]] + row[options]))])
            blocks.append((first, chosen))
        return float(totals[pick]), blocks, 0

    def _choices(self, node: int) -> tuple[Ints, Floats]:
        """The groups the node may ship, after "none" (group 0, costing nothing), and their costs."""
        row = self.table.costs[node]
        groups = np.flatnonzero(np.isfinite(row))
        return np.concatenate(([0], groups)), np.concatenate(([0.0], row[groups]))

    def _with(self, node: int) -> Floats:
        """The next grid: the last one's best, or one group from `node` added to one shipment
        fewer."""
        grid = self.grids[-1]
        groups, starts, rest = _all_pairs(self.count)
        row = self.table.costs[node]
        shift = 1 if self.limited else 0
        prior = grid[: len(grid) - shift]
        tried = np.minimum.reduceat(prior[:, rest] + row[groups], starts, axis=1)
        grown = grid.copy()
        grown[shift:, 1:] = np.minimum(grown[shift:, 1:], tried)
        return grown

    def _back(self, remaining: int, row: int, step: int) -> list[tuple[int, int]]:
        """The groups making grid `step`'s best for `remaining` in `row`: each `once` node's
        back to the first grid, then the other nodes' from the levels."""
        blocks: list[tuple[int, int]] = []
        for index in range(step, 0, -1):
            node = self.once[index - 1]
            grid, prior = self.grids[index], self.grids[index - 1]
            value = grid[row][remaining]
            if value == prior[row][remaining]:
                continue  # the node ships nothing in this plan
            costs = self.table.costs[node]
            groups = np.flatnonzero(np.isfinite(costs))
            groups = groups[(groups & remaining) == groups]
            earlier = row - 1 if self.limited else row
            miss = np.abs(prior[earlier][remaining ^ groups] + costs[groups] - value)
            group = int(groups[int(np.argmin(miss))])
            blocks.append((node, group))
            remaining ^= group
            row = earlier
        if remaining:
            depth = min(row, len(self.levels) - 1) if self.limited else len(self.levels) - 1
            blocks += _unwind(self.single, self.node_of, self.levels[: depth + 1], remaining)
        return blocks


def _widest_cheapest(best: Floats) -> int | None:
    """The subset of lines with the most lines, then the lowest objective; None if none."""
    full = len(best) - 1
    if np.isfinite(best[full]):
        return full
    reachable = np.flatnonzero(np.isfinite(best))
    reachable = reachable[reachable > 0]
    if not len(reachable):
        return None
    popcount = _sizes(len(best).bit_length() - 1)[reachable]
    widest = reachable[popcount == popcount.max()]
    return int(widest[np.argmin(best[widest])])


def _unwind(
    single: Floats, node_of: Ints, levels: list[Floats], target: int
) -> list[tuple[int, int]]:
    """The groups of a best grouping of `target` in at most len(levels) - 1 shipments."""
    subsets, groups, starts, _ = _pairs(len(single).bit_length() - 1)
    blocks: list[tuple[int, int]] = []
    remaining = target
    level = len(levels) - 1
    while remaining:
        begin = int(starts[remaining - 1])
        end = int(starts[remaining]) if remaining < len(starts) else len(subsets)
        options = groups[begin:end]
        values = single[options] + levels[level - 1][remaining ^ options]
        group = int(options[int(np.argmin(values))])
        blocks.append((int(node_of[group]), group))
        remaining ^= group
        level -= 1
    return blocks
