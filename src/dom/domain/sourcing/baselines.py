"""Baselines to measure the engine against, priced by the engine's own costing.

`route_nearest` is what many commerce platforms ship by default: the nearest node that holds
every line, else each line from the nearest node that holds it, each shipment by the cheapest
service the order allows. It keeps to the same hard rules as the engine (active shipping nodes,
handling, capacity left today, the promise date), so its plans pass `validate.plan_violations`
and its costs compare dollar for dollar with the engine's. The other common baseline, "order by
order, cost-optimal", is the engine itself under the `lowest-cost` profile (`wave.route_one_by_one`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from dom.domain.carriers import CarrierService
from dom.domain.catalog import Product
from dom.domain.sourcing.engine import (
    Candidates,
    NodeModel,
    candidates,
    finish,
    shipment_choice,
)
from dom.domain.sourcing.model import Offer, Order, Plan, SolveStatus, Unfilled
from dom.domain.sourcing.profiles import Profile
from dom.domain.sourcing.rates import DateBook, RateBook

#: The nearest baseline is costed like `lowest-cost`: shipping and handling dollars as they are,
#: so its objective is its money and the service chosen per shipment is the cheapest allowed.
NEAREST = Profile(
    "nearest",
    description="nearest node with every line, else the nearest node per line; cheapest service",
)
LEFT_OUT = (Unfilled.NOT_ENOUGH, "no node holding it had room left for it")

Block = tuple[str, tuple[int, ...]]


def route_nearest(
    order: Order,
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    now: datetime,
    rates: RateBook | None = None,
    dates: DateBook | None = None,
) -> Plan:
    """The nearest-node plan for `order`: one shipment from the nearest node holding every line,
    else each line from the nearest node holding it (lines sharing a node ship together)."""
    book = rates or RateBook()
    found = candidates(order, offers, products, services, NEAREST, now, dates or DateBook())
    nearest_first = sorted(found.kept, key=lambda m: (m.miles, m.id))
    blocks = _whole_order(found, nearest_first, products, book)
    how = "the nearest node with every line"
    if blocks is None:
        blocks = _line_by_line(found, nearest_first, products, book)
        how = "each line from the nearest node holding it"
    # No bound is claimed: 0 is the only one a rule of thumb can vouch for.
    plan = finish(found, blocks, SolveStatus.HEURISTIC, 0.0, {}, products, book, LEFT_OUT)
    if not plan.shipments:
        return plan
    nodes = ", ".join(s.node_id for s in plan.shipments)
    why = (
        f"nearest baseline, {how}: {nodes}; ${plan.costs.shipping:.2f} shipping + "
        f"${plan.costs.handling:.2f} handling"
    )
    return replace(plan, explanation=replace(plan.explanation, why=why))


def _whole_order(
    found: Candidates,
    nearest_first: Sequence[NodeModel],
    products: Mapping[str, Product],
    book: RateBook,
) -> list[Block] | None:
    """One shipment from the nearest node that holds every line and has room for them all."""
    if not found.work:
        return None
    everything = tuple(range(len(found.work)))
    full = (1 << len(found.work)) - 1
    for model in nearest_first:
        if model.holds == full and _fits(found, model, everything, products, book):
            return [(model.id, everything)]
    return None


def _line_by_line(
    found: Candidates,
    nearest_first: Sequence[NodeModel],
    products: Mapping[str, Product],
    book: RateBook,
) -> list[Block]:
    """Each work line to the nearest node holding it that still has room with what it already
    ships for this order; a line no such node can take is left out."""
    taken: dict[str, tuple[int, ...]] = {}
    for index in range(len(found.work)):
        for model in nearest_first:
            if not model.holds >> index & 1:
                continue
            lines = (*taken.get(model.id, ()), index)
            if _fits(found, model, lines, products, book):
                taken[model.id] = lines
                break
    return sorted(taken.items())


def _fits(
    found: Candidates,
    model: NodeModel,
    lines: tuple[int, ...],
    products: Mapping[str, Product],
    book: RateBook,
) -> bool:
    choice = shipment_choice(model, lines, found.work, products, found.profile, book, found.order)
    return choice is not None
