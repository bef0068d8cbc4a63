"""Inbound supply (purchase orders, transfers, advance ship notices) and time-phased
available-to-promise: from which day a quantity can be promised, at a node or network-wide."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from dom.adapters import inventory_store as store
from dom.adapters.database import reading, writing
from dom.adapters.tables import inbound_supply, products
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, Problem
from dom.domain.inventory import Method, Supply, SupplyKind, promise_date
from dom.services.inventory import check_known, eligible_nodes


@dataclass(frozen=True)
class SupplyLine:
    kind: SupplyKind
    reference: str
    sku: str
    node_id: str
    quantity: int
    expected_on: date
    from_node_id: str | None = None


@dataclass(frozen=True)
class Promise:
    sku: str
    quantity: int
    available_now: int
    promise_date: date | None
    supply: tuple[Supply, ...]


def add_supply(engine: Engine, principal: Principal, lines: Sequence[SupplyLine]) -> list[Supply]:
    """Record inbound lines; a node key may announce supply to its own node only."""
    principal.require(Action.RECORD_INVENTORY)
    problems: list[Problem] = []
    for index, line in enumerate(lines):
        principal.require_node(line.node_id)
        if line.quantity <= 0:
            problems.append(Problem(f"lines.{index}.quantity", "must be a positive whole number"))
        if line.kind is SupplyKind.TRANSFER and not line.from_node_id:
            problems.append(
                Problem(f"lines.{index}.from_node_id", "a transfer names its source node")
            )
        if line.from_node_id == line.node_id:
            problems.append(
                Problem(f"lines.{index}.from_node_id", "a transfer must leave its node")
            )
        if not line.reference.strip():
            problems.append(Problem(f"lines.{index}.reference", "is required"))
    if problems:
        raise InvalidInput(problems)
    now = datetime.now(UTC)
    created = []
    with writing(engine) as connection:
        keys = [(line.sku, line.node_id) for line in lines]
        keys += [(line.sku, line.from_node_id) for line in lines if line.from_node_id]
        check_known(connection, keys, "lines")
        rows = []
        for line in lines:
            supply_id = f"{line.kind.value}-{secrets.token_hex(6)}"
            rows.append(
                {
                    "id": supply_id,
                    "kind": line.kind.value,
                    "reference": line.reference,
                    "sku": line.sku,
                    "node_id": line.node_id,
                    "from_node_id": line.from_node_id,
                    "quantity": line.quantity,
                    "received": 0,
                    "expected_on": line.expected_on,
                    "created_at": now,
                }
            )
            created.append(
                Supply(
                    supply_id, line.kind, line.sku, line.node_id, line.quantity, line.expected_on
                )
            )
        connection.execute(inbound_supply.insert(), rows)
    return created


def open_supply(
    engine: Engine, principal: Principal, *, sku: str | None = None, node_id: str | None = None
) -> list[Supply]:
    principal.require(Action.READ_INVENTORY)
    if principal.node_id is not None:
        principal.require_node(node_id or principal.node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        return _open(connection, sku=sku, node_ids=None if node_id is None else {node_id})


def _open(connection: Connection, *, sku: str | None, node_ids: set[str] | None) -> list[Supply]:
    query = select(inbound_supply).where(inbound_supply.c.received < inbound_supply.c.quantity)
    if sku is not None:
        query = query.where(inbound_supply.c.sku == sku)
    if node_ids is not None:
        query = query.where(inbound_supply.c.node_id.in_(sorted(node_ids)))
    query = query.order_by(inbound_supply.c.expected_on, inbound_supply.c.id)
    return [_supply(row) for row in connection.execute(query)]


def _supply(row: Any) -> Supply:
    return Supply(
        row.id,
        SupplyKind(row.kind),
        row.sku,
        row.node_id,
        row.quantity - row.received,
        row.expected_on,
    )


def promise(
    engine: Engine,
    principal: Principal,
    sku: str,
    quantity: int,
    *,
    node_id: str | None = None,
    method: Method = Method.SHIP,
    channel: str | None = None,
    now: datetime | None = None,
) -> Promise:
    """Time-phased ATP for one SKU at one node, or across the nodes a channel may use."""
    principal.require(Action.READ_INVENTORY)
    if quantity <= 0:
        raise InvalidInput([Problem("quantity", "must be a positive whole number")])
    moment = now or datetime.now(UTC)
    channel = principal.channel or channel
    if principal.node_id is not None:
        principal.require_node(node_id or principal.node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        if node_id is not None:
            check_known(connection, [(sku, node_id)], "promise")
        elif not store.existing(connection, products.c.sku, {sku}):
            raise InvalidInput([Problem("sku", f"unknown SKU {sku!r}")])
        eligible = eligible_nodes(connection, method, moment)
        if channel is not None:
            eligible -= store.excluded_nodes(connection, channel)
        if node_id is not None:
            eligible &= {node_id}
        positions = [
            p for p in store.read_positions(connection, moment, sku=sku) if p.node_id in eligible
        ]
        supply = _open(connection, sku=sku, node_ids=eligible)
    available_now = sum(p.available_for(method) for p in positions)
    today = moment.date()
    when = promise_date(available_now, supply, quantity, today)
    return Promise(sku, quantity, available_now, when, tuple(supply))
