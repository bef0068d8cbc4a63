"""Cart delivery promises: per service level, the earliest delivery date, its cost and the
node(s) it ships from; or when a pickup store has it ready. Reads only: nothing is held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from dom.adapters import inventory_store as store
from dom.adapters import repositories as repo
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, Problem
from dom.domain.inventory import Method
from dom.domain.network import Capability, Node
from dom.domain.promise import CartLine, ServicePromise, best_promises, ready_date
from dom.services.inventory import eligible_among


@dataclass(frozen=True)
class PickupPromise:
    store_id: str
    ready_on: date | None
    missing: tuple[CartLine, ...]


@dataclass(frozen=True)
class CartPromise:
    promises: tuple[ServicePromise, ...]
    unavailable: tuple[str, ...]  # service levels no node can make
    pickup: PickupPromise | None = None


def promise_cart(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    cart: Sequence[CartLine],
    *,
    zip_code: str | None = None,
    pickup_store: str | None = None,
    residential: bool = True,
    channel: str | None = None,
    now: datetime | None = None,
) -> CartPromise:
    """Promise a cart to a ZIP code (by every service level) or for pickup at a store."""
    principal.require(Action.READ_INVENTORY)
    moment = now or datetime.now(UTC)
    problems = _check_cart(cart, zip_code, pickup_store)
    destination = None
    if zip_code is not None:
        place = zips.destination(zip_code)
        if place is None:
            problems.append(Problem("zip", f"unknown ZIP code {zip_code}"))
        else:
            destination = place.location
    if problems:
        raise InvalidInput(problems)
    channel = principal.channel or channel
    skus = sorted({line.sku for line in cart})
    with reading(engine) as connection:
        current = network(connection)
        nodes_by_id = current.by_id
        products = {p.sku: p for p in repo.get_products(connection, skus)}
        unknown = sorted(set(skus) - products.keys())
        if unknown:
            raise InvalidInput([Problem("lines.sku", f"unknown SKU {sku!r}") for sku in unknown])
        method = Method.PICKUP if pickup_store else Method.SHIP
        eligible = eligible_among(nodes_by_id.values(), method, moment)
        if channel is not None:
            eligible -= store.excluded_nodes(connection, channel)
        units = store.available_units(connection, moment, skus, method, eligible)
        services = list(current.services)
    stock: dict[str, dict[str, int]] = {}
    for (sku, node_id), count in units.items():
        stock.setdefault(node_id, {})[sku] = count
    if pickup_store is not None:
        return CartPromise((), (), _pickup(pickup_store, cart, stock, nodes_by_id, moment))
    assert destination is not None
    candidates = [nodes_by_id[node_id] for node_id in sorted(stock)]
    by_level = best_promises(
        services, cart, stock, candidates, products, destination, moment, residential=residential
    )
    made: list[ServicePromise] = []
    unavailable: list[str] = []
    for level in sorted(by_level):
        found = by_level[level]
        if found is None:
            unavailable.append(level)
        else:
            made.append(found)
    made.sort(key=lambda p: (p.deliver_on, p.cost))
    return CartPromise(tuple(made), tuple(unavailable))


def _check_cart(
    cart: Sequence[CartLine], zip_code: str | None, pickup_store: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    if (zip_code is None) == (pickup_store is None):
        problems.append(Problem("zip", "give a destination zip or a pickup_store, not both"))
    if not cart:
        problems.append(Problem("lines", "promise at least one line"))
    for index, line in enumerate(cart):
        if line.quantity <= 0:
            problems.append(Problem(f"lines.{index}.quantity", "must be a positive whole number"))
    return problems


def _pickup(
    store_id: str,
    cart: Sequence[CartLine],
    stock: dict[str, dict[str, int]],
    nodes_by_id: Mapping[str, Node],
    now: datetime,
) -> PickupPromise:
    node = nodes_by_id.get(store_id)
    if node is None:
        raise InvalidInput([Problem("pickup_store", f"unknown node {store_id!r}")])
    if not node.capabilities & {Capability.PICKUP_IN_STORE, Capability.CURBSIDE}:
        raise InvalidInput([Problem("pickup_store", f"{store_id} does not offer pickup")])
    shelf = stock.get(store_id, {})
    missing = tuple(
        CartLine(line.sku, line.quantity - shelf.get(line.sku, 0))
        for line in cart
        if shelf.get(line.sku, 0) < line.quantity
    )
    ready = None if missing else ready_date(node, now)
    return PickupPromise(store_id, ready, missing)
