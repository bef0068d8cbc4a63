"""What the worker's jobs do to orders, on SQLite and PostgreSQL: backorders sourced once stock
arrives, uncollected pickups cancelled and restocked, and capacity counted per node and day so
that routing moves on when a node's day is full."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.adapters.tables import positions
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.inventory import EventKind, InventoryEvent
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Address, Customer, Order, OrderLine
from dom.services import (
    fulfilment,
    masterdata,
    monitoring,
    order_changes,
    order_jobs,
    orders,
    profiles,
)
from dom.services.inventory import EventRequest, record_events
from dom.services.sourcing import local_day
from tests.support.factories import node_record, product_record, service_record, store_record

POLICY = order_changes.Policy(auto_release=True, pickup_expiry=timedelta(hours=72))
HOME = Address("Ada", "1 High St", "Columbus", "OH", "43215")


def set_up(engine: Engine, zips: ZipDirectory, dc_units_per_day: int = 12000) -> None:
    bundle = masterdata.bundle_from_json(
        {
            "nodes": [
                node_record("dc-columbus", capacity_units=dc_units_per_day),
                node_record("dc-reno", zip="89502"),
                store_record("store-a"),
            ],
            "products": [product_record("SKU-1"), product_record("SKU-2")],
            "carrier_services": [service_record(max_lb=50)],
        }
    )
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)


def count(engine: Engine, sku: str, node_id: str, quantity: int) -> None:
    event = InventoryEvent(
        EventKind.SNAPSHOT, sku, node_id, quantity, "wms", datetime.now(UTC) - timedelta(minutes=1)
    )
    record_events(engine, LOCAL_OPERATOR, [EventRequest(f"count-{uuid.uuid4()}", event)])


def capture(
    engine: Engine, zips: ZipDirectory, *lines: OrderLine, channel: str = "web", **extra: object
) -> Order:
    draft = Order(
        id=orders.new_order_id(),
        channel=channel,
        external_id=f"W-{uuid.uuid4().hex[:8]}",
        customer=Customer(email="ada@example.com"),
        lines=lines,
        created_at=datetime.now(UTC),
        **{"ship_to": HOME, **extra},  # type: ignore[arg-type]
    )
    return orders.capture(engine, LOCAL_OPERATOR, zips, draft, (), POLICY).order


def allocated(engine: Engine, sku: str, node_id: str) -> tuple[int, int]:
    query = select(positions.c.on_hand, positions.c.allocated).where(
        positions.c.sku == sku, positions.c.node_id == node_id
    )
    with reading(engine) as connection:
        row = connection.execute(query).first()
    return (row.on_hand, row.allocated) if row else (0, 0)


def test_a_backorder_is_sourced_by_the_job_once_a_receipt_arrives(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    waiting = capture(engine, zips, OrderLine("1", "SKU-2", 3, 9.0))
    assert waiting.status is Status.BACKORDERED
    assert "1" in waiting.waiting
    assert order_jobs.retry_waiting(engine, zips, POLICY) == 0  # still nothing anywhere
    assert order_jobs.retry_waiting(engine, zips, POLICY) == 0
    again = orders.order(engine, LOCAL_OPERATOR, waiting.id)
    assert [e.event for e in again.history].count("order.backordered") == 1  # no noise
    assert len(again.decisions) == 1

    count(engine, "SKU-2", "dc-reno", 5)
    assert order_jobs.retry_waiting(engine, zips, POLICY) == 1

    found = orders.order(engine, LOCAL_OPERATOR, waiting.id)
    assert found.status is Status.RELEASED
    assert [f.node_id for f in found.fulfilments] == ["dc-reno"]
    assert allocated(engine, "SKU-2", "dc-reno") == (5, 3)


def test_an_uncollected_pickup_expires_and_its_units_go_back_on_the_shelf(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "store-a", 2)
    placed = capture(
        engine,
        zips,
        OrderLine("1", "SKU-1", 2, 9.0, Method.PICKUP),
        ship_to=None,
        pickup_node_id="store-a",
    )
    request = placed.fulfilments[0]
    for step in (
        fulfilment.acknowledge("store"),
        fulfilment.confirm_pick(zips, POLICY, "store", {}),
    ):
        fulfilment.operate(engine, LOCAL_OPERATOR, request.id, step)
    fulfilment.operate(engine, LOCAL_OPERATOR, request.id, fulfilment.pack("store", []))
    fulfilment.operate(
        engine, LOCAL_OPERATOR, request.id, fulfilment.step("store", Status.READY_FOR_PICKUP)
    )
    assert allocated(engine, "SKU-1", "store-a") == (2, 2)

    assert order_jobs.expire_pickups(engine, POLICY, datetime.now(UTC) + timedelta(hours=71)) == 0
    assert order_jobs.expire_pickups(engine, POLICY, datetime.now(UTC) + timedelta(hours=73)) == 1

    found = orders.order(engine, LOCAL_OPERATOR, placed.id)
    assert found.status is Status.CANCELLED
    assert found.fulfilments[0].status is Status.EXPIRED
    assert allocated(engine, "SKU-1", "store-a") == (2, 0)


def test_a_node_whose_day_is_full_is_passed_over_and_cancelling_gives_its_capacity_back(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips, dc_units_per_day=3)
    count(engine, "SKU-1", "dc-columbus", 10)
    count(engine, "SKU-1", "dc-reno", 10)
    first = capture(engine, zips, OrderLine("1", "SKU-1", 3, 9.0))
    assert [f.node_id for f in first.fulfilments] == ["dc-columbus"]
    with reading(engine) as connection:
        node = network(connection).by_id["dc-columbus"]
        day = local_day(node, datetime.now(UTC))
        assert order_store.capacity_on(connection, {node.id: day}) == {node.id: (3, 1)}

    second = capture(engine, zips, OrderLine("1", "SKU-1", 1, 9.0))
    assert [f.node_id for f in second.fulfilments] == ["dc-reno"]

    orders.cancel(engine, LOCAL_OPERATOR, first.id, None, "customer asked")
    with reading(engine) as connection:
        assert order_store.capacity_on(connection, {node.id: day}) == {node.id: (0, 0)}
    third = capture(engine, zips, OrderLine("1", "SKU-1", 1, 9.0))
    assert [f.node_id for f in third.fulfilments] == ["dc-columbus"]


MONDAY = datetime(2026, 12, 7, 15, tzinfo=UTC)  # 10:00 in Columbus


def test_a_late_request_the_node_has_not_started_moves_to_a_node_that_delivers_sooner(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "dc-reno", 5)
    placed = capture_at(engine, zips, MONDAY, OrderLine("1", "SKU-1", 2, 9.0))
    [far] = placed.fulfilments
    assert far.node_id == "dc-reno"
    count(engine, "SKU-1", "dc-columbus", 5)

    outcome = order_jobs.watch_late(engine, zips, POLICY, MONDAY + timedelta(days=1))

    assert outcome == order_jobs.LateOutcome(moved=1, flagged=0)
    found = orders.order(engine, LOCAL_OPERATOR, placed.id)
    assert [(f.node_id, f.status) for f in found.fulfilments] == [
        ("dc-reno", Status.CANCELLED),
        ("dc-columbus", Status.RELEASED),
    ]
    assert found.fulfilments[1].deliver_on is not None and far.deliver_on is not None
    assert found.fulfilments[1].deliver_on < far.deliver_on + timedelta(days=1)
    assert allocated(engine, "SKU-1", "dc-reno") == (5, 0)
    assert allocated(engine, "SKU-1", "dc-columbus") == (5, 2)


def test_a_late_request_nobody_can_beat_is_reported_at_risk_once_and_shows_in_monitoring(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "dc-columbus", 5)
    placed = capture_at(engine, zips, MONDAY, OrderLine("1", "SKU-1", 2, 9.0))
    later = MONDAY + timedelta(days=1)

    assert order_jobs.watch_late(engine, zips, POLICY, later) == order_jobs.LateOutcome(0, 1)
    assert order_jobs.watch_late(engine, zips, POLICY, later) == order_jobs.LateOutcome(0, 0)

    found = orders.order(engine, LOCAL_OPERATOR, placed.id)
    [risk] = [e for e in found.history if e.event == "order.at_risk"]
    assert risk.detail["node_id"] == "dc-columbus"
    assert risk.detail["expected_delivery"] > risk.detail["planned_delivery"]
    seen = monitoring.overview(engine, LOCAL_OPERATOR, later)
    assert [late.order_id for late in seen.at_risk] == [placed.id]
    load = {n.node_id: n for n in seen.nodes}["dc-columbus"]
    assert (load.open_requests, load.rejects) == (1, 0)
    text = monitoring.prometheus(seen)
    assert "dom_orders_at_risk 1" in text
    assert 'dom_node_open_requests{node="dc-columbus"} 1' in text


def capture_at(engine: Engine, zips: ZipDirectory, now: datetime, *lines: OrderLine) -> Order:
    draft = Order(
        id=orders.new_order_id(),
        channel="web",
        external_id=f"W-{uuid.uuid4().hex[:8]}",
        customer=Customer(email="ada@example.com"),
        lines=lines,
        created_at=now,
        ship_to=HOME,
    )
    return orders.capture(engine, LOCAL_OPERATOR, zips, draft, (), POLICY, now).order


def test_orders_whose_profile_routes_in_waves_wait_for_the_wave_and_are_routed_together(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "dc-columbus", 10)
    batch = {"name": "nightly", "weights": {"shipping_cost": 1.0}, "constraints": {"wave": True}}
    profiles.activate(
        engine,
        LOCAL_OPERATOR,
        "nightly",
        profiles.save_draft(engine, LOCAL_OPERATOR, profiles.profile_document(batch)),
    )
    rules = {
        "rules": [{"name": "market", "when": {"channels": ["marketplace"]}, "profile": "nightly"}],
        "fallback": "lowest-cost",
    }
    profiles.activate_rules(
        engine,
        LOCAL_OPERATOR,
        profiles.save_rules_draft(engine, LOCAL_OPERATOR, profiles.rule_set_document(rules)),
    )
    queued = [
        capture(engine, zips, OrderLine("1", "SKU-1", 2, 9.0), channel="marketplace")
        for _ in range(3)
    ]
    at_once = capture(engine, zips, OrderLine("1", "SKU-1", 1, 9.0))
    assert [o.status for o in queued] == [Status.QUEUED] * 3
    assert at_once.status is Status.RELEASED
    assert allocated(engine, "SKU-1", "dc-columbus") == (10, 1)
    assert order_jobs.retry_waiting(engine, zips, POLICY) == 0  # the backorder job leaves them be

    assert order_jobs.route_queued(engine, zips, POLICY, time_limit=10) == 3

    for placed in queued:
        found = orders.order(engine, LOCAL_OPERATOR, placed.id)
        assert found.status is Status.RELEASED
        assert "order.queued" in [e.event for e in found.history]
    assert allocated(engine, "SKU-1", "dc-columbus") == (10, 7)
    assert order_jobs.route_queued(engine, zips, POLICY) == 0


def test_a_customers_orders_to_one_address_at_one_node_are_marked_to_ship_together(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "dc-columbus", 10)
    merging = order_changes.Policy(consolidation_window=timedelta(minutes=30))
    elsewhere = Address("Ada", "9 Other Rd", "Columbus", "OH", "43215")

    def place(address: Address, policy: order_changes.Policy) -> Order:
        draft = Order(
            id=orders.new_order_id(),
            channel="web",
            external_id=f"W-{uuid.uuid4().hex[:8]}",
            customer=Customer(id="c-9", email="ada@example.com"),
            lines=(OrderLine("1", "SKU-1", 1, 9.0),),
            created_at=datetime.now(UTC),
            ship_to=address,
        )
        return orders.capture(engine, LOCAL_OPERATOR, zips, draft, (), policy).order

    first = place(HOME, merging)
    second = place(HOME, merging)
    other_address = place(elsewhere, merging)
    unmerged = place(HOME, POLICY)

    assert first.fulfilments[0].ship_with == []
    assert second.fulfilments[0].ship_with == [first.fulfilments[0].id]
    assert other_address.fulfilments[0].ship_with == []
    assert unmerged.fulfilments[0].ship_with == []
    assert second.fulfilments[0].planned_packages == 1
