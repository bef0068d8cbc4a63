"""Availability reads only the positions that hold stock, from the index `ix_positions_stocked`,
and still answers what the positions themselves say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from dom.adapters.database import reading
from dom.adapters.inventory_store import available_units
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.inventory import Method
from dom.domain.network import NodeType
from dom.services import masterdata
from dom.services.demo import demo_network
from dom.services.inventory import (
    HoldLine,
    ReservationRequest,
    availability,
    reserve,
    sync_node,
)

T0 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def _two_warehouses(engine: Engine, zips: ZipDirectory) -> tuple[str, str, list[str]]:
    data = demo_network(zips, stores=0, dcs=2, skus=40, vendors=0, third_party=0)
    masterdata.store_master_data(engine, LOCAL_OPERATOR, data)
    first, second = (n.id for n in data.nodes if n.type is NodeType.DISTRIBUTION_CENTRE)
    skus = [p.sku for p in data.products if p.stock_tracked][:3]
    return first, second, skus


def _count(engine: Engine, node: str, counts: dict[str, int], key: str) -> None:
    sync_node(
        engine,
        LOCAL_OPERATOR,
        node,
        counts,
        source="wms",
        source_time=T0,
        idempotency_key=key,
        now=T0,
    )


def test_positions_without_stock_are_left_out_and_expired_holds_count_back(
    engine: Engine, zips: ZipDirectory
) -> None:
    first, second, (stocked, empty, held) = _two_warehouses(engine, zips)
    _count(engine, first, {stocked: 7, empty: 0, held: 5}, "first")
    _count(engine, second, {stocked: 0, empty: 0, held: 2}, "second")
    lines = (HoldLine(held, first, 5),)
    reserve(
        engine,
        LOCAL_OPERATOR,
        ReservationRequest("cart", lines, expires_at=T0 + timedelta(minutes=30)),
        now=T0,
    )

    while_held = availability(engine, LOCAL_OPERATOR, [stocked, empty, held], now=T0)
    after_expiry = availability(engine, LOCAL_OPERATOR, [held], now=T0 + timedelta(hours=1))

    def answered(found: list[Any]) -> list[tuple[str, int, dict[str, int]]]:
        return [(a.sku, a.available, {n.node_id: n.available for n in a.nodes}) for a in found]

    assert answered(while_held) == [
        (stocked, 7, {first: 7}),
        (empty, 0, {}),
        (held, 2, {second: 2}),
    ]
    assert answered(after_expiry) == [(held, 7, {first: 5, second: 2})]


def test_only_the_nodes_asked_for_are_answered(engine: Engine, zips: ZipDirectory) -> None:
    first, second, (sku, *_) = _two_warehouses(engine, zips)
    _count(engine, first, {sku: 3}, "first")
    _count(engine, second, {sku: 4}, "second")

    with reading(engine) as connection:
        found = available_units(connection, T0, [sku], Method.SHIP, [second])

    assert found == {(sku, second): 4}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_answers_availability_from_the_stocked_positions_index_alone(
    engine: Engine, zips: ZipDirectory
) -> None:
    first, _, skus = _two_warehouses(engine, zips)
    _count(engine, first, dict.fromkeys(skus, 1), "first")
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with reading(engine) as connection:
        event.listen(connection, "before_cursor_execute", capture)
        available_units(connection, T0, skus, Method.SHIP, [first])
        event.remove(connection, "before_cursor_execute", capture)
        statement, parameters = statements[-1]
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()

    details = [row[3] for row in plan]
    assert any("COVERING INDEX ix_positions_stocked" in d for d in details), details
