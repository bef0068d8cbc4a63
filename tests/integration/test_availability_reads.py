"""Availability read a SKU at a time (each SKU's nodes aggregated in the database) answers what
the positions themselves say, for every fulfilment method, channel and hold, on both backends."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from dom.adapters.database import reading
from dom.adapters.inventory_store import available_units
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.inventory import Method
from dom.domain.network import NodeType
from dom.services import masterdata
from dom.services.demo import demo_network
from dom.services.inventory import (
    HoldLine,
    ReservationRequest,
    allocate,
    availability,
    eligible_among,
    exclude_nodes,
    positions,
    reserve,
    set_safety_stock,
    sync_node,
)

T0 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)  # the short holds have expired, the long ones have not


def _stocked_network(engine: Engine, zips: ZipDirectory) -> list[str]:
    """Two DCs and four stores; random counts, store safety stock, holds that expire before
    `LATER` and holds that do not, and an allocation. Returns the SKUs."""
    data = demo_network(zips, stores=4, dcs=2, skus=24, vendors=1, third_party=0)
    masterdata.store_master_data(engine, LOCAL_OPERATOR, data)
    rng = random.Random(3)
    skus = [p.sku for p in data.products if p.stock_tracked]
    for node in data.nodes:
        counts = {sku: rng.choice((0, 0, 1, 2, 5, 9)) for sku in skus}
        sync_node(
            engine,
            LOCAL_OPERATOR,
            node.id,
            counts,
            source="wms",
            source_time=T0,
            idempotency_key=f"count-{node.id}",
            now=T0,
        )
        for sku, units in counts.items():
            if node.type is NodeType.STORE and units and rng.random() < 0.5:
                set_safety_stock(engine, LOCAL_OPERATOR, sku, node.id, min(units, 2), now=T0)
            if units >= 2 and rng.random() < 0.4:
                minutes = rng.choice((10, 300))
                request = ReservationRequest(
                    f"cart-{node.id}-{sku}",
                    (HoldLine(sku, node.id, 1),),
                    expires_at=T0 + timedelta(minutes=minutes),
                    method=Method.PICKUP,
                )
                held = reserve(engine, LOCAL_OPERATOR, request, now=T0)
                if minutes == 300 and rng.random() < 0.3:
                    allocate(engine, LOCAL_OPERATOR, held.id, now=T0)
    return skus


def _expected(
    engine: Engine, skus: list[str], method: Method, nodes: set[str]
) -> dict[str, list[tuple[str, int]]]:
    """From the positions, read one by one: per SKU, (node, units) in node order."""
    found = positions(engine, LOCAL_OPERATOR, limit=100_000, now=LATER)
    expected: dict[str, list[tuple[str, int]]] = {sku: [] for sku in skus}
    for p in sorted(found, key=lambda p: (p.sku, p.node_id)):
        if p.node_id in nodes and p.available_for(method) > 0:
            expected[p.sku].append((p.node_id, p.available_for(method)))
    return expected


def _eligible(engine: Engine, method: Method) -> set[str]:
    with reading(engine) as connection:
        return eligible_among(network(connection).nodes, method, LATER)


def _answered(engine: Engine, skus: list[str], method: Method, channel: str | None = None) -> Any:
    found = availability(engine, LOCAL_OPERATOR, skus, method=method, channel=channel, now=LATER)
    return {a.sku: [(n.node_id, n.available) for n in a.nodes] for a in found}, {
        a.sku: a.available for a in found
    }


def test_every_sku_and_node_answers_what_its_position_says_for_each_method(
    engine: Engine, zips: ZipDirectory
) -> None:
    skus = _stocked_network(engine, zips)

    for method in Method:
        expected = _expected(engine, skus, method, _eligible(engine, method))
        per_node, totals = _answered(engine, skus, method)

        assert per_node == expected, method
        assert totals == {sku: sum(units for _, units in found) for sku, found in expected.items()}


def test_a_channel_sees_only_its_distribution_group(engine: Engine, zips: ZipDirectory) -> None:
    skus = _stocked_network(engine, zips)
    ship = _eligible(engine, Method.SHIP)
    left_out = sorted(ship)[::2]
    exclude_nodes(engine, LOCAL_OPERATOR, "web", left_out)

    per_node, _ = _answered(engine, skus, Method.SHIP, channel="web")

    assert per_node == _expected(engine, skus, Method.SHIP, ship - set(left_out))


def test_the_cart_promise_reads_the_same_units_per_sku_and_node(
    engine: Engine, zips: ZipDirectory
) -> None:
    skus = _stocked_network(engine, zips)
    nodes = _eligible(engine, Method.SHIP)
    expected = _expected(engine, skus, Method.SHIP, nodes)

    with reading(engine) as connection:
        found = available_units(connection, LATER, skus[:10], Method.SHIP, nodes)

    assert found == {(sku, node): units for sku in skus[:10] for node, units in expected[sku]}


def test_a_sku_asked_for_twice_or_without_stock_is_answered_once_in_the_order_asked(
    engine: Engine, zips: ZipDirectory
) -> None:
    skus = _stocked_network(engine, zips)
    asked = [skus[3], skus[0], skus[3], "NOT-STOCKED"]

    found = availability(engine, LOCAL_OPERATOR, asked, now=LATER)

    assert [a.sku for a in found] == [skus[3], skus[0], "NOT-STOCKED"]
    assert (found[-1].available, found[-1].nodes) == (0, ())
