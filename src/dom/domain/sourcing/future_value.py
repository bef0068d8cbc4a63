"""What a unit is worth where it is, from the stock's prices in a small LP of the demand still
to come (issue #4): the rolling dual prices of Acimovic & Graves (REFERENCE §2).

`forecast.py` values each (node, SKU) alone: P(N ≥ k) × the cell's mean extra cost. That misses
what a node's units are worth *together* — a multi-line order ships whole only from a node
holding all of its SKUs — and what other nodes' stock nearby is worth as a substitute. Here:

1. **Demand still to come** is sampled from the past: each past day's orders that arrived later
   in their day than now (`SampledOrder`), each with the nodes that could ship it and what
   they would charge (`Route`: per shipment and per line, as the engine costs them). One past
   day is one scenario of the rest of today.
2. **Per scenario, an LP** (`demand_program`): serve the scenario's orders from the stock there
   is now at least cost, each line from one node or (fractionally) several, a line nobody can
   fill costing a lost sale per unit; a line rides its node's shipment, so an order that ships
   whole from one node pays one shipment. A stock row offers half a unit less than there is
   (`_given_up`), so its price is that of the unit routing would take now, the last one held:
   what the scenario would lose without it — zero where the stock outlasts the demand, the
   runner-up's extra cost where it does not, the price of keeping an order whole where the
   node is the only one holding all its SKUs.
3. **The price** of a unit is its row's price averaged over the scenarios (`stock_values`):
   a sample estimate of the expected saving of the marginal unit, the LP counterpart of
   P(N ≥ k) × extra cost. The caller re-solves as stock moves and time passes.
4. **The value** routing weighs (`averaged`) is the mean of the two estimates, the forecast's
   and the price. Fourteen past days are few: the price alone is noisy where demand is thin
   (a cell nobody ordered is worth nothing to it), the forecast smooths such cells toward a
   prior but is blind to combinations. On the tuning seeds of the online benchmark the mean
   captured more than either alone (docs/benchmarks.md, *Online quality*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from dom.domain.sourcing.model import Offer
from dom.domain.sourcing.solver import LinearProgram, Relaxer

#: Seconds a scenario's LP may take (a day's orders take about a tenth of a second: a safety
#: net, not a budget).
SCENARIO_SECONDS = 5.0
#: Row prices below this are solver noise, not value.
NOISE = 1e-7

#: The stock price's share of a unit's value; the forecast's value has the rest (`averaged`).
PRICE_SHARE = 0.5
#: How far below the stock a row's side is set (see `_given_up`).
GIVEN_UP = 0.5

Cell = tuple[str, str]  # (node id, SKU)


@dataclass(frozen=True)
class Route:
    """How one node would ship a sampled order: a cost per shipment from it, and per line it
    can fill in full (by line index) the cost of adding that line to the shipment."""

    node_id: str
    per_shipment: float
    per_line: Mapping[int, float]


@dataclass(frozen=True)
class SampledOrder:
    """A past order, as demand that may come again: its lines and the nodes that could ship it."""

    day: int  # the past day it came from: each day is one scenario
    seconds: float  # into its day, when it arrived
    lines: tuple[tuple[str, int], ...]  # (SKU, units)
    routes: tuple[Route, ...]


def still_to_come(orders: Iterable[SampledOrder], seconds: float) -> list[SampledOrder]:
    """The sampled orders that arrived later in their day than `seconds` into it."""
    return [order for order in orders if order.seconds > seconds]


def stock_values(
    orders: Sequence[SampledOrder],
    stock: Mapping[Cell, int],
    relax: Relaxer,
    lost_sale: float,
    days: int,
) -> dict[Cell, float]:
    """Per (node, SKU), what one more unit there would save the demand still to come: the
    stock row's price in each scenario's LP (`demand_program`), averaged over the `days` past
    days sampled (a day with no order still to come, or whose LP finds no prices, counts as
    saving nothing). Cells worth nothing are left out."""
    by_day: dict[int, list[SampledOrder]] = {}
    for order in orders:
        by_day.setdefault(order.day, []).append(order)
    totals: dict[Cell, float] = {}
    for group in by_day.values():
        program, rows = demand_program(group, stock, lost_sale)
        if not rows:
            continue
        prices = relax(program, time_limit=SCENARIO_SECONDS).duals
        if prices is None:
            continue
        for cell, row in rows.items():
            saving = -float(prices[row])  # a ≤ row of a minimum: its price is ≤ 0
            if saving > NOISE:
                totals[cell] = totals.get(cell, 0.0) + saving
    return {cell: total / max(days, len(by_day)) for cell, total in totals.items()}


def averaged(
    offers: Sequence[Offer], prices: Mapping[Cell, float], price_share: float = PRICE_SHARE
) -> list[Offer]:
    """The offers, each unit's future value (the forecast's, already on the offer) averaged
    with its stock price: `price_share` of the price, the rest of the forecast's value."""
    found = []
    for offer in offers:
        node = offer.node.id
        values = {
            sku: value
            for sku, units in offer.available.items()
            if units > 0
            and (
                value := (1.0 - price_share) * offer.future_value.get(sku, 0.0)
                + price_share * prices.get((node, sku), 0.0)
            )
            > 0
        }
        found.append(replace(offer, future_value=values))
    return found


def demand_program(
    orders: Sequence[SampledOrder], stock: Mapping[Cell, int], lost_sale: float
) -> tuple[LinearProgram, dict[Cell, int]]:
    """The LP serving `orders` from `stock` at least cost, and its stock rows by (node, SKU).

    x[o,l,n] ∈ [0,1]  line l of order o ships from n     y[o,n] ∈ [0,1]  o ships from n
    u[o,l] ∈ [0,1]    line l is left unfilled: lost_sale per unit
    each line once:            Σ_n x[o,l,n] + u[o,l] = 1
    a line rides its shipment: x[o,l,n] ≤ y[o,n]          (an order of one line: x is y)
    stock of s at n:           Σ units × x[o,l,n] over lines of s ≤ the units at n now
    """
    program = LinearProgram()
    taking: dict[Cell, list[tuple[int, float]]] = {}
    for order in orders:
        ships: dict[int, list[tuple[int, float]]] = {}
        single = len(order.lines) == 1
        for route in order.routes:
            if single:
                for line, cost in route.per_line.items():
                    x = program.add_variable(route.per_shipment + cost, integer=False)
                    ships.setdefault(line, []).append((x, 1.0))
                    _takes(taking, route.node_id, order.lines[line], x)
                continue
            y = program.add_variable(route.per_shipment, integer=False)
            for line, cost in route.per_line.items():
                x = program.add_variable(cost, integer=False)
                program.add_row("a line rides its shipment", [(x, 1.0), (y, -1.0)], -1e30, 0.0)
                ships.setdefault(line, []).append((x, 1.0))
                _takes(taking, route.node_id, order.lines[line], x)
        for line, (_, units) in enumerate(order.lines):
            u = program.add_variable(lost_sale * units, integer=False)
            program.add_row("each line once", [*ships.get(line, []), (u, 1.0)], 1.0, 1.0)
    rows = {
        cell: program.add_row(f"stock of {cell[1]} at {cell[0]}", terms, 0.0, have)
        for cell, terms in taking.items()
        if sum(units for _, units in terms) > (have := _given_up(stock.get(cell, 0)))
    }
    return program, rows


def _takes(
    taking: dict[Cell, list[tuple[int, float]]], node_id: str, line: tuple[str, int], x: int
) -> None:
    sku, units = line
    taking.setdefault((node_id, sku), []).append((x, float(units)))


def _given_up(units: int) -> float:
    """The stock a row offers: half a unit short of what there is, so that its price is that
    of the unit routing would take (the last one held) — a scenario wanting exactly the units
    there are loses a sale without it — not of a unit more (worth nothing there)."""
    return max(0.0, units - GIVEN_UP)
