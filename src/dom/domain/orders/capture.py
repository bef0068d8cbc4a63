"""What a new order must satisfy before anything is written: every broken rule is listed."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date

from dom.domain.errors import Problem
from dom.domain.network import Capability, Node, NodeType
from dom.domain.orders.lifecycle import Method
from dom.domain.orders.model import Order

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: What a pickup store must offer for each collection method.
COLLECTION = {Method.PICKUP: Capability.PICKUP_IN_STORE, Method.CURBSIDE: Capability.CURBSIDE}


@dataclass(frozen=True)
class Known:
    """What the order's names must refer to, read by the caller in one go."""

    skus: Collection[str]
    nodes: Mapping[str, Node]
    zip_known: Callable[[str], bool]
    today: date


def problems_of(order: Order, known: Known) -> list[Problem]:
    problems: list[Problem] = []
    if not order.channel.strip():
        problems.append(Problem("channel", "is required"))
    if not order.external_id.strip():
        problems.append(Problem("external_id", "is required"))
    if order.customer.email is not None and not EMAIL.fullmatch(order.customer.email):
        problems.append(Problem("customer.email", f"{order.customer.email!r} is not an address"))
    if not order.lines:
        problems.append(Problem("lines", "an order has at least one line"))
    if order.promise_by is not None and order.promise_by < known.today:
        problems.append(Problem("promise_by", f"{order.promise_by} is in the past"))
    problems.extend(_line_problems(order, known))
    problems.extend(_destination_problems(order, known))
    return problems


def _line_problems(order: Order, known: Known) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, line in enumerate(order.lines):
        where = f"lines.{index}"
        if not line.line_id.strip():
            problems.append(Problem(f"{where}.line_id", "is required"))
        elif line.line_id in seen:
            problems.append(Problem(f"{where}.line_id", f"{line.line_id!r} appears twice"))
        seen.add(line.line_id)
        if line.quantity <= 0:
            problems.append(Problem(f"{where}.quantity", "must be a positive whole number"))
        if line.unit_price < 0:
            problems.append(Problem(f"{where}.unit_price", "must not be negative"))
        if line.sku not in known.skus:
            problems.append(Problem(f"{where}.sku", f"unknown SKU {line.sku!r}"))
    return problems


def _destination_problems(order: Order, known: Known) -> list[Problem]:
    problems: list[Problem] = []
    methods = {line.method for line in order.lines}
    if Method.SHIP in methods:
        if order.ship_to is None:
            problems.append(Problem("ship_to", "lines to ship need an address"))
        elif not known.zip_known(order.ship_to.zip_code):
            problems.append(Problem("ship_to.zip", f"unknown ZIP code {order.ship_to.zip_code}"))
    collected = [m for m in methods if m.at_store]
    if collected and order.pickup_node_id is None:
        problems.append(Problem("pickup_node_id", "pickup and curbside lines name the store"))
    if order.pickup_node_id is not None:
        store = known.nodes.get(order.pickup_node_id)
        if store is None:
            problems.append(Problem("pickup_node_id", f"unknown node {order.pickup_node_id!r}"))
        elif store.type is not NodeType.STORE:
            problems.append(Problem("pickup_node_id", f"{store.id} is not a store"))
        else:
            for index, line in enumerate(order.lines):
                needed = COLLECTION.get(line.method)
                if needed is not None and not store.can(needed):
                    problems.append(
                        Problem(
                            f"lines.{index}.method",
                            f"store {store.id} does not offer {line.method.value}",
                        )
                    )
    return problems
