"""A whole warehouse counted in one call: tens of thousands of positions, one transaction.

Keys travel as one bound parameter, so a count larger than SQLite's limit of 32,766 bound
parameters per statement still runs as a handful of statements, on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from dom.adapters.database import reading, writing
from dom.adapters.tables import holds, inventory_events
from dom.adapters.tables import positions as positions_table
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.inventory import EventKind, InventoryEvent, Position
from dom.services import masterdata
from dom.services.demo import demo_network
from dom.services.inventory import (
    EventOutcome,
    EventRequest,
    HoldLine,
    ReservationRequest,
    allocate_units,
    positions,
    record_events,
    reserve,
    sync_node,
)

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

    synced = sync_node(
        engine, LOCAL_OPERATOR, node, counts, source="wms", source_time=T0, idempotency_key="c1"
    )

    assert (synced.positions, synced.applied, synced.notable) == (COUNTED, COUNTED, ())
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

    assert (repeated.positions, repeated.replayed, repeated.applied) == (RECOUNTED, RECOUNTED, 0)
    assert _on_hand(engine, node) == {sku: (7 if sku in second else 0) for sku in skus}
    with reading(engine) as connection:
        recorded = connection.execute(select(func.count()).select_from(inventory_events)).scalar()
    assert recorded == 2 * RECOUNTED


def _positions(engine: Engine, node: str) -> list[Position]:
    return [replace(p, node_id="-") for p in positions(engine, LOCAL_OPERATOR, node_id=node)]


def _commit_stock(engine: Engine, node: str, skus: list[str]) -> None:
    """Two holds on the first SKU (3, then 4 units) and 5 units allocated of the second."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    for reference, units in (("older", 3), ("newer", 4)):
        request = ReservationRequest(reference, (HoldLine(skus[0], node, units),), expires)
        reserve(engine, LOCAL_OPERATOR, request)
    with writing(engine) as connection:
        allocate_units(connection, {(skus[1], node): 5}, datetime.now(UTC))


def test_a_full_count_has_the_outcomes_of_the_same_snapshots_recorded_one_by_one(
    engine: Engine, zips: ZipDirectory
) -> None:
    data = demo_network(zips, stores=0, dcs=2, skus=12, vendors=0, third_party=0)
    masterdata.store_master_data(engine, LOCAL_OPERATOR, data)
    skus = [p.sku for p in data.products if p.stock_tracked][:5]
    counted, by_events = data.nodes[0].id, data.nodes[1].id
    later, newer = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    for node in (counted, by_events):
        sync_node(
            engine,
            LOCAL_OPERATOR,
            node,
            dict.fromkeys(skus, 10),
            source="wms",
            source_time=T0,
            idempotency_key=f"first-{node}",
        )
        _commit_stock(engine, node, skus)
        newer_count = InventoryEvent(EventKind.SNAPSHOT, skus[4], node, 6, "wms", newer)
        record_events(engine, LOCAL_OPERATOR, [EventRequest(f"newer-{node}", newer_count)])
    # short of the holds, short of the allocation, left out (zero), unchanged, older than known
    second = {skus[0]: 2, skus[1]: 3, skus[3]: 10, skus[4]: 1}

    full = sync_node(
        engine,
        LOCAL_OPERATOR,
        counted,
        second,
        source="wms",
        source_time=later,
        idempotency_key="second",
    )
    requests = [
        EventRequest(
            f"events/{sku}",
            InventoryEvent(EventKind.SNAPSHOT, sku, by_events, second.get(sku, 0), "wms", later),
        )
        for sku in sorted(skus)
    ]
    one_by_one = record_events(engine, LOCAL_OPERATOR, requests)

    def seen(outcomes: Sequence[EventOutcome]) -> list[tuple[object, ...]]:
        return [
            (o.applied, o.note, o.uncovered, o.holds_released, replace(o.position, node_id="-"))
            for o in outcomes
        ]

    # Outcomes are kept where something happened besides on hand set to the count; every
    # position ends as the events leave it.
    notable = [o for o in one_by_one if not o.applied or o.uncovered or o.holds_released]
    assert seen(full.notable) == seen(notable)
    assert _positions(engine, counted) == _positions(engine, by_events)
    assert [o.position.sku for o in full.notable] == [skus[0], skus[1], skus[4]]
    assert [o.holds_released for o in full.notable] == [5, 0, 0]  # 7 held, 2 counted
    assert [o.uncovered for o in full.notable] == [0, 2, 0]
    assert [o.applied for o in full.notable] == [True, True, False]
    assert (full.positions, full.applied, full.holds_released, full.uncovered) == (5, 4, 5, 2)
    # Its events are those `record_events` writes: replaying them as events matches them.
    again = [
        EventRequest(f"second/{r.event.sku}", replace(r.event, node_id=counted)) for r in requests
    ]
    assert all(o.replayed for o in record_events(engine, LOCAL_OPERATOR, again))


def _holds_at(engine: Engine, sku: str, node: str) -> dict[str, int]:
    query = select(holds.c.reference, holds.c.quantity).where(
        holds.c.sku == sku, holds.c.node_id == node
    )
    with reading(engine) as connection:
        return {reference: quantity for reference, quantity in connection.execute(query)}


def test_a_count_below_the_holds_releases_the_newest_first_and_never_counts_expired_ones(
    engine: Engine, zips: ZipDirectory
) -> None:
    node, (held, allocated, untouched) = _warehouse(engine, zips, 3)
    sync_node(
        engine,
        LOCAL_OPERATOR,
        node,
        {held: 20, allocated: 20, untouched: 4},
        source="wms",
        source_time=T0,
        idempotency_key="first",
    )
    start = datetime.now(UTC)
    for reference, units, after, lasts in (
        ("expiring", 6, 0, timedelta(minutes=1)),
        ("older", 3, 1, timedelta(hours=2)),
        ("newer", 4, 2, timedelta(hours=2)),
    ):
        request = ReservationRequest(reference, (HoldLine(held, node, units),), start + lasts)
        reserve(engine, LOCAL_OPERATOR, request, now=start + timedelta(seconds=after))
    with writing(engine) as connection:
        allocate_units(connection, {(allocated, node): 5}, start)

    synced = sync_node(
        engine,
        LOCAL_OPERATOR,
        node,
        {held: 5, allocated: 3, untouched: 4},
        source="wms",
        source_time=T0 + timedelta(hours=1),
        idempotency_key="second",
        now=start + timedelta(minutes=10),  # the first hold has expired
    )

    assert _holds_at(engine, held, node) == {"older": 3, "newer": 2}  # 7 held, 5 counted
    assert [(o.position.sku, o.holds_released, o.uncovered) for o in synced.notable] == [
        (held, 2, 0),
        (allocated, 0, 2),
    ]
    assert [(o.position.reserved, o.position.allocated) for o in synced.notable] == [(5, 0), (0, 3)]
    assert (synced.applied, synced.holds_released, synced.uncovered) == (3, 2, 2)
    assert _on_hand(engine, node) == {held: 5, allocated: 3, untouched: 4}


def test_a_count_whose_events_were_partly_recorded_replays_those_and_applies_the_rest(
    engine: Engine, zips: ZipDirectory
) -> None:
    node, skus = _warehouse(engine, zips, 4)
    counted = {sku: 5 for sku in skus}
    event = InventoryEvent(EventKind.SNAPSHOT, skus[2], node, 5, "wms", T0)
    record_events(engine, LOCAL_OPERATOR, [EventRequest(f"c1/{skus[2]}", event)])

    synced = sync_node(
        engine, LOCAL_OPERATOR, node, counted, source="wms", source_time=T0, idempotency_key="c1"
    )

    assert (synced.positions, synced.applied, synced.replayed) == (4, 3, 1)
    assert _on_hand(engine, node) == counted


def test_a_count_after_one_that_failed_part_way_applies_only_its_own_rows(
    engine: Engine, zips: ZipDirectory
) -> None:
    node, skus = _warehouse(engine, zips, 4)
    event = InventoryEvent(EventKind.SNAPSHOT, skus[2], node, 5, "wms", T0)
    record_events(engine, LOCAL_OPERATOR, [EventRequest(f"c1/{skus[2]}", event)])
    first = {sku: 5 for sku in skus}
    # Its events clash with the one recorded: the set-based write fails and is rolled back.
    sync_node(
        engine, LOCAL_OPERATOR, node, first, source="wms", source_time=T0, idempotency_key="c1"
    )
    second = {skus[0]: 7, skus[1]: 8}

    synced = sync_node(
        engine,
        LOCAL_OPERATOR,
        node,
        second,
        source="wms",
        source_time=T0 + timedelta(hours=1),
        idempotency_key="c2",
    )

    assert (synced.positions, synced.applied) == (4, 4)
    assert _on_hand(engine, node) == {**dict.fromkeys(skus, 0), **second}
    with reading(engine) as connection:
        keys = connection.execute(
            select(inventory_events.c.idempotency_key).where(
                inventory_events.c.idempotency_key.like("c2/%")
            )
        ).scalars()
        assert sorted(keys) == sorted(f"c2/{sku}" for sku in skus)
