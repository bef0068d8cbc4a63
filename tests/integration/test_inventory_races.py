"""Many writers at once never oversell, never apply an event twice and never deadlock.

The races run on both backends: SQLite queues writers behind `BEGIN IMMEDIATE` and a 30 s busy
timeout, PostgreSQL locks position rows `FOR UPDATE` in key order. Threads are released together
by a barrier; an error of any other kind than the expected refusal (such as `database is locked`
or a deadlock) fails the test. Where an outcome depends on one exact interleaving, a slow writer
holding a row makes the racers queue, so the interleaving happens every time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from dom.adapters.database import reading, writing
from dom.adapters.tables import holds, inventory_events
from dom.adapters.tables import positions as positions_table
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.domain.errors import NotFound
from dom.domain.inventory import EventKind, InsufficientStock, InventoryEvent, Position, Shortage
from dom.services import masterdata
from dom.services.inventory import (
    EventOutcome,
    EventRequest,
    HeldLine,
    HoldLine,
    IdempotencyMismatch,
    Reservation,
    ReservationGone,
    ReservationRequest,
    allocate,
    positions,
    record_events,
    release,
    reserve,
)
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.support.factories import node_record, product_record

SKUS = ("SKU-1", "SKU-2")
NODE = "dc-a"
TIMEOUT = 90.0


@dataclass
class Outcome:
    """What one racing thread got: a value, or the error it raised."""

    value: Any = None
    error: BaseException | None = None


def capture(outcome: Outcome, task: Callable[[], Any]) -> None:
    try:
        outcome.value = task()
    except BaseException as error:
        outcome.error = error


def run_together(tasks: Sequence[Callable[[], Any]], timeout: float = TIMEOUT) -> list[Outcome]:
    """Start every task at the same moment; fail if any is still running after `timeout`."""
    barrier = threading.Barrier(len(tasks))
    outcomes = [Outcome() for _ in tasks]

    def run(index: int) -> None:
        barrier.wait()
        capture(outcomes[index], tasks[index])

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert stuck == 0, f"{stuck} of {len(threads)} threads still running after {timeout} s"
    return outcomes


def wait_for_blocked_writers(engine: Engine, count: int) -> None:
    """Return once `count` writers queue behind a lock (SQLite: give them time to queue)."""
    if engine.dialect.name == "sqlite":
        time.sleep(0.5)  # they wait in BEGIN IMMEDIATE, which nothing here can observe
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + TIMEOUT
    while True:
        with reading(engine) as connection:
            if connection.execute(query).scalar_one() >= count:
                return
        assert time.monotonic() < deadline, f"fewer than {count} writers ever queued"
        time.sleep(0.01)


def unexpected(outcomes: Sequence[Outcome], *expected: type[BaseException]) -> list[str]:
    """Errors other than the expected refusals, as text for an assertion message."""
    return [
        f"{type(o.error).__name__}: {o.error}"
        for o in outcomes
        if o.error is not None and not isinstance(o.error, expected)
    ]


def set_up_network(engine: Engine, zips: ZipDirectory) -> None:
    bundle = masterdata.bundle_from_json(
        {"nodes": [node_record(NODE)], "products": [product_record(sku) for sku in SKUS]}
    )
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)


def receive(engine: Engine, sku: str, quantity: int) -> EventOutcome:
    event = InventoryEvent(
        EventKind.RECEIPT, sku, NODE, quantity, "wms", datetime.now(UTC) - timedelta(minutes=5)
    )
    [outcome] = record_events(
        engine, LOCAL_OPERATOR, [EventRequest(f"receive-{uuid.uuid4()}", event)]
    )
    return outcome


def hold_request(reference: str, *lines: tuple[str, int]) -> ReservationRequest:
    return ReservationRequest(
        reference,
        tuple(HoldLine(sku, NODE, quantity) for sku, quantity in lines),
        datetime.now(UTC) + timedelta(hours=1),
    )


def position_of(engine: Engine, sku: str) -> Position:
    [position] = positions(engine, LOCAL_OPERATOR, sku=sku, node_id=NODE)
    return position


def stored(engine: Engine, sku: str) -> tuple[int, int, int]:
    """The stored reserved column, the number of hold rows and the units they hold."""
    with reading(engine) as connection:
        reserved = connection.execute(
            select(positions_table.c.reserved).where(
                positions_table.c.sku == sku, positions_table.c.node_id == NODE
            )
        ).scalar_one()
        rows, units = connection.execute(
            select(func.count(), func.coalesce(func.sum(holds.c.quantity), 0)).where(
                holds.c.sku == sku, holds.c.node_id == NODE
            )
        ).one()
    return int(reserved), int(rows), int(units)


class TestReservationsInProcess:
    def test_thirty_two_threads_racing_for_ten_units_hold_exactly_ten(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        receive(engine, "SKU-1", 10)

        outcomes = run_together(
            [
                partial(reserve, engine, LOCAL_OPERATOR, hold_request(f"cart-{i}", ("SKU-1", 1)))
                for i in range(32)
            ]
        )

        assert unexpected(outcomes, InsufficientStock) == []
        granted = [o.value for o in outcomes if isinstance(o.value, Reservation)]
        refused = [o.error for o in outcomes if isinstance(o.error, InsufficientStock)]
        assert (len(granted), len(refused)) == (10, 22)
        assert len({r.id for r in granted}) == 10
        for error in refused:
            assert error.shortages == [Shortage("SKU-1", NODE, 1, 0)]
        position = position_of(engine, "SKU-1")
        assert (position.on_hand, position.reserved, position.available) == (10, 10, 0)
        assert stored(engine, "SKU-1") == (10, 10, 10)

    def test_carts_racing_for_the_best_node_spill_to_the_next_and_hold_exactly_what_is_there(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        # Two nodes with 5 units each; 32 carts ask for one unit "wherever is best". A cart
        # outrun at its first choice tries again from a fresh read: all 10 units are held.
        bundle = masterdata.bundle_from_json(
            {
                "nodes": [node_record(NODE), node_record("dc-b", zip="30301")],
                "products": [product_record("SKU-1")],
            }
        )
        masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)
        at = datetime.now(UTC) - timedelta(minutes=5)
        record_events(
            engine,
            LOCAL_OPERATOR,
            [
                EventRequest(
                    f"count-{node}", InventoryEvent(EventKind.SNAPSHOT, "SKU-1", node, 5, "wms", at)
                )
                for node in (NODE, "dc-b")
            ],
        )
        anywhere = ReservationRequest(
            "cart", (HoldLine("SKU-1", None, 1),), datetime.now(UTC) + timedelta(hours=1)
        )

        outcomes = run_together([partial(reserve, engine, LOCAL_OPERATOR, anywhere)] * 32)

        assert unexpected(outcomes, InsufficientStock) == []
        granted = [o.value for o in outcomes if isinstance(o.value, Reservation)]
        held_at = sorted(r.lines[0].node_id for r in granted)
        assert held_at == [NODE] * 5 + ["dc-b"] * 5
        for node in (NODE, "dc-b"):
            [position] = positions(engine, LOCAL_OPERATOR, sku="SKU-1", node_id=node)
            assert (position.reserved, position.available) == (5, 0)

    def test_racing_multi_line_carts_never_hold_one_line_without_the_other(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        receive(engine, "SKU-1", 12)
        receive(engine, "SKU-2", 7)

        lines = [("SKU-1", 1), ("SKU-2", 1)]
        carts = [hold_request(f"cart-{i}", *(lines if i % 2 else lines[::-1])) for i in range(24)]
        outcomes = run_together([partial(reserve, engine, LOCAL_OPERATOR, c) for c in carts])

        assert unexpected(outcomes, InsufficientStock) == []
        granted = [o.value for o in outcomes if isinstance(o.value, Reservation)]
        assert len(granted) == 7  # SKU-2 runs out first; no cart holds SKU-1 alone
        assert stored(engine, "SKU-1") == (7, 7, 7)
        assert stored(engine, "SKU-2") == (7, 7, 7)


class TestReservationsOverHttp:
    def test_forty_clients_racing_for_the_last_seven_units_get_exactly_seven(
        self, engine: Engine, zips: ZipDirectory, server: str
    ) -> None:
        set_up_network(engine, zips)
        receive(engine, "SKU-1", 20)
        reserve(engine, LOCAL_OPERATOR, hold_request("earlier-orders", ("SKU-1", 13)))
        token = create_key(engine, "web shop", Role.CHANNEL, channel="web").token
        clients = [client_for(server, token) for _ in range(40)]
        try:
            for client in clients:  # connect first, so the requests themselves race
                assert client.get("/healthz").status_code == 200
            body = {
                "reference": "cart",
                "lines": [{"sku": "SKU-1", "node_id": NODE, "quantity": 1}],
                "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "partial": False,
            }
            outcomes = run_together(
                [partial(c.post, "/v1/reservations", json=body) for c in clients]
            )
            positions_read = clients[0].get("/v1/inventory/positions", params={"sku": "SKU-1"})
        finally:
            for client in clients:
                client.close()

        assert unexpected(outcomes) == []
        responses: list[httpx.Response] = [o.value for o in outcomes]
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == 7, statuses
        assert statuses.count(409) == 33, statuses
        for response in responses:
            if response.status_code == 409:
                problem = response.json()
                assert problem["code"] == "insufficient_stock"
                assert [(e["sku"], e["requested"], e["available"]) for e in problem["errors"]] == [
                    ("SKU-1", 1, 0)
                ]
        granted = [r.json() for r in responses if r.status_code == 201]
        assert len({g["id"] for g in granted}) == 7
        assert all(g["lines"][0]["held"] == 1 for g in granted)
        assert positions_read.status_code == 200
        [seen] = positions_read.json()
        assert (seen["on_hand"], seen["reserved"], seen["available"]) == (20, 20, 0)
        assert stored(engine, "SKU-1") == (20, 8, 20)


class TestIdempotentEventsUnderRace:
    def test_one_event_sent_by_many_threads_at_once_applies_once(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)  # no position yet: the racers also race to create it
        at = datetime.now(UTC) - timedelta(minutes=1)
        request = EventRequest(
            "asn-4411", InventoryEvent(EventKind.RECEIPT, "SKU-1", NODE, 5, "wms", at)
        )

        outcomes = run_together(
            [partial(record_events, engine, LOCAL_OPERATOR, [request]) for _ in range(24)]
        )

        assert unexpected(outcomes) == []
        results: list[EventOutcome] = [o.value[0] for o in outcomes]
        assert sum(not r.replayed for r in results) == 1
        assert all(r.applied for r in results)
        assert position_of(engine, "SKU-1").on_hand == 5
        assert events_with_key(engine, "asn-4411") == 1

    def test_a_batch_resent_in_any_order_by_many_threads_applies_each_event_once(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        receive(engine, "SKU-1", 2)
        at = datetime.now(UTC) - timedelta(minutes=1)
        batch = [
            EventRequest(
                "count-1", InventoryEvent(EventKind.SNAPSHOT, "SKU-1", NODE, 9, "wms", at)
            ),
            EventRequest(
                "receipt-2", InventoryEvent(EventKind.RECEIPT, "SKU-2", NODE, 4, "wms", at)
            ),
            EventRequest(
                "adjust-3",
                InventoryEvent(EventKind.ADJUSTMENT, "SKU-2", NODE, 1, "wms", at, "found"),
            ),
        ]
        orders = [batch, batch[::-1], [batch[1], batch[0], batch[2]]]

        outcomes = run_together(
            [
                partial(record_events, engine, LOCAL_OPERATOR, orders[i % len(orders)])
                for i in range(24)
            ]
        )

        assert unexpected(outcomes) == []
        firsts = [r.idempotency_key for o in outcomes for r in o.value if not r.replayed]
        assert sorted(firsts) == ["adjust-3", "count-1", "receipt-2"]
        assert position_of(engine, "SKU-1").on_hand == 9
        assert position_of(engine, "SKU-2").on_hand == 5
        for request in batch:
            assert events_with_key(engine, request.idempotency_key) == 1


def events_with_key(engine: Engine, key: str) -> int:
    with reading(engine) as connection:
        return int(
            connection.execute(
                select(func.count()).where(inventory_events.c.idempotency_key == key)
            ).scalar_one()
        )


class TestNoDeadlocks:
    def test_two_writers_taking_two_skus_in_opposite_orders_both_finish(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        receive(engine, "SKU-1", 50)
        receive(engine, "SKU-2", 50)

        def churn(first: str, second: str) -> int:
            """Hold, receive and release both SKUs, always naming `first` first."""
            done = 0
            for round_ in range(40):
                held = reserve(
                    engine,
                    LOCAL_OPERATOR,
                    hold_request(f"{first}-{round_}", (first, 1), (second, 2)),
                )
                at = datetime.now(UTC)
                record_events(
                    engine,
                    LOCAL_OPERATOR,
                    [
                        EventRequest(
                            f"{first}-{round_}-{sku}",
                            InventoryEvent(EventKind.RECEIPT, sku, NODE, 1, "wms", at),
                        )
                        for sku in (first, second)
                    ],
                )
                release(engine, LOCAL_OPERATOR, held.id)
                done += 1
            return done

        outcomes = run_together(
            [partial(churn, "SKU-1", "SKU-2"), partial(churn, "SKU-2", "SKU-1")], timeout=60
        )

        assert unexpected(outcomes) == []
        assert [o.value for o in outcomes] == [40, 40]
        for sku in SKUS:
            position = position_of(engine, sku)
            assert (position.on_hand, position.reserved) == (50 + 2 * 40, 0)
            assert stored(engine, sku) == (0, 0, 0)


class TestIdempotencyKeyReusedUnderRace:
    @pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
    def test_a_key_reused_at_another_position_by_a_racing_writer_is_refused_as_reuse(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        """Forced interleaving: the second writer has looked the key up and is still working
        (held up on a hold row another transaction has locked) when the first commits it.

        SQLite runs one writer at a time, so this interleaving cannot happen there."""
        set_up_network(engine, zips)
        receive(engine, "SKU-2", 5)
        cart = reserve(engine, LOCAL_OPERATOR, hold_request("cart", ("SKU-2", 5)))
        at = datetime.now(UTC)
        count_sku_2 = EventRequest(
            "wms-77", InventoryEvent(EventKind.SNAPSHOT, "SKU-2", NODE, 0, "wms", at)
        )
        receipt_sku_1 = EventRequest(
            "wms-77", InventoryEvent(EventKind.RECEIPT, "SKU-1", NODE, 5, "wms", at)
        )

        second = Outcome()
        with writing(engine) as slow:
            slow.execute(select(holds).where(holds.c.reservation_id == cart.id).with_for_update())
            thread = threading.Thread(
                target=capture,
                args=(second, partial(record_events, engine, LOCAL_OPERATOR, [count_sku_2])),
            )
            thread.start()
            wait_for_blocked_writers(engine, 1)  # it has looked the key up: not there
            record_events(engine, LOCAL_OPERATOR, [receipt_sku_1])  # the first use commits
        thread.join(TIMEOUT)

        assert not thread.is_alive()
        assert isinstance(second.error, IdempotencyMismatch), second
        assert events_with_key(engine, "wms-77") == 1
        assert position_of(engine, "SKU-2").reserved == 5  # the refused count changed nothing


class TestRacingCallsOnOneReservation:
    """Every racer has found the reservation live before any of them locks its position."""

    def race_on_one_reservation(
        self, engine: Engine, calls: Sequence[Callable[[str], Any]]
    ) -> list[Outcome]:
        """Queue every call behind one slow writer holding the position, then let them go."""
        receive(engine, "SKU-1", 10)
        cart = reserve(engine, LOCAL_OPERATOR, hold_request("order-9", ("SKU-1", 3)))
        racers = [Outcome() for _ in calls]
        with writing(engine) as slow:
            slow.execute(
                select(positions_table).where(positions_table.c.sku == "SKU-1").with_for_update()
            )
            threads = [
                threading.Thread(target=capture, args=(racer, partial(call, cart.id)))
                for racer, call in zip(racers, calls, strict=True)
            ]
            for thread in threads:
                thread.start()
            wait_for_blocked_writers(engine, len(threads))
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads)
        assert unexpected(racers, NotFound, ReservationGone) == []
        return racers

    def test_of_racing_allocations_of_one_reservation_one_wins_and_the_rest_are_refused(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        allocation = partial(allocate, engine, LOCAL_OPERATOR)

        racers = self.race_on_one_reservation(engine, [allocation] * 4)

        winners = [racer.value for racer in racers if racer.error is None]
        assert winners == [[HeldLine("SKU-1", NODE, 3, 3)]]
        position = position_of(engine, "SKU-1")
        assert (position.on_hand, position.reserved, position.allocated) == (10, 0, 3)

    def test_an_allocation_racing_a_release_of_one_reservation_happens_or_not_never_both(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        set_up_network(engine, zips)
        allocation = partial(allocate, engine, LOCAL_OPERATOR)
        release_ = partial(release, engine, LOCAL_OPERATOR)

        racers = self.race_on_one_reservation(engine, [allocation, release_, allocation, release_])

        won = [index for index, racer in enumerate(racers) if racer.error is None]
        assert len(won) == 1, racers
        allocated = 3 if won[0] % 2 == 0 else 0  # even racers allocate, odd ones release
        position = position_of(engine, "SKU-1")
        assert (position.on_hand, position.reserved, position.allocated) == (10, 0, allocated)
        assert stored(engine, "SKU-1") == (0, 0, 0)
