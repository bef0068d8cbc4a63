"""A whole warehouse counted in one call: tens of thousands of positions, one transaction.

Keys travel as one bound parameter, so a count larger than SQLite's limit of 32,766 bound
parameters per statement still runs as a handful of statements, on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from dom.adapters.database import reading
from dom.adapters.tables import inventory_events
from dom.adapters.tables import positions as positions_table
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.services import masterdata
from dom.services.demo import demo_network
from dom.services.inventory import sync_node

COUNTED = 33_000  # more than SQLite binds in one statement
RECOUNTED = 1_000
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _warehouse(engine: Engine, zips: ZipDirectory, count: int) -> tuple[str, list[str]]:
    data = demo_network(zips, stores=0, dcs=1, skus=count * 21 // 20, vendors=0, third_party=0)
    masterdata.store_master_data(engine, LOCAL_OPERATOR, data)
    skus = [p.sku for p in data.products if p.stock_tracked][:count]
    assert len(skus) == count
    return data.nodes[0].id, skus


def _on_hand(engine: Engine, node: str) -> dict[str, int]:
    query = select(positions_table.c.sku, positions_table.c.on_hand).where(
        positions_table.c.node_id == node
    )
    with reading(engine) as connection:
        return {sku: on_hand for sku, on_hand in connection.execute(query)}


def test_a_count_of_more_positions_than_sqlite_binds_per_statement_is_applied_in_one_call(
    engine: Engine, zips: ZipDirectory
) -> None:
    node, skus = _warehouse(engine, zips, COUNTED)
    counts = {sku: i % 97 for i, sku in enumerate(skus)}

    outcomes = sync_node(
        engine, LOCAL_OPERATOR, node, counts, source="wms", source_time=T0, idempotency_key="c1"
    )

    assert len(outcomes) == COUNTED
    assert _on_hand(engine, node) == counts


def test_a_recount_moves_every_position_and_a_repeat_of_it_changes_nothing(
    engine: Engine, zips: ZipDirectory
) -> None:
    node, skus = _warehouse(engine, zips, RECOUNTED)
    first = dict.fromkeys(skus, 5)
    sync_node(
        engine, LOCAL_OPERATOR, node, first, source="wms", source_time=T0, idempotency_key="c1"
    )
    later = T0 + timedelta(hours=1)
    second = {sku: 7 for sku in skus[: RECOUNTED // 2]}  # the rest is counted as zero

    sync_node(
        engine, LOCAL_OPERATOR, node, second, source="wms", source_time=later, idempotency_key="c2"
    )
    repeated = sync_node(
        engine, LOCAL_OPERATOR, node, second, source="wms", source_time=later, idempotency_key="c2"
    )

    assert all(outcome.replayed for outcome in repeated)
    assert _on_hand(engine, node) == {sku: (7 if sku in second else 0) for sku in skus}
    with reading(engine) as connection:
        recorded = connection.execute(select(func.count()).select_from(inventory_events)).scalar()
    assert recorded == 2 * RECOUNTED
