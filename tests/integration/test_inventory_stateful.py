"""Random sequences of inventory use cases against a model: the database never disagrees.

A Hypothesis state machine drives the service layer on a real SQLite file (two SKUs at two nodes)
with a fake clock handed to every call, and keeps its own model of each position: units on hand,
live holds per reservation, allocations, safety stock, the last snapshot's time. After every
step the positions read back must equal the model, every stored invariant must hold, and on hand
must be explained by the event log and the shipments alone.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select

from dom.adapters.database import make_engine, reading
from dom.adapters.tables import holds, inventory_events
from dom.adapters.tables import positions as positions_table
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.errors import InvalidInput, NotFound
from dom.domain.inventory import EventKind, InsufficientStock, InventoryEvent, Method, Shortage
from dom.services import masterdata
from dom.services.inventory import (
    EventOutcome,
    EventRequest,
    HoldLine,
    ReservationGone,
    ReservationRequest,
    allocate,
    extend,
    positions,
    record_events,
    release,
    reserve,
    set_safety_stock,
    ship,
)
from dom.services.schema import migrate
from tests.support.factories import node_record, product_record, store_record
from tests.support.postgres import Cluster

Key = tuple[str, str]

SKUS = ("SKU-1", "SKU-2")
NODES = ("dc-a", "store-b")
KEYS: list[Key] = [(sku, node) for sku in SKUS for node in NODES]
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

keys = st.sampled_from(KEYS)
#: How far behind the source clock an event is timed: mostly current, sometimes late.
lags = st.sampled_from([0, 0, 0, 0, 1, 3, 30])


@dataclass
class Stock:
    """The model of one position's own numbers (holds are kept per reservation)."""

    on_hand: int = 0
    allocated: int = 0
    safety_stock: int = 0
    snapshot_at: datetime | None = None
    #: units shipped since the last applied snapshot, to explain on hand from the event log
    shipped_since_count: int = 0


@dataclass
class Hold:
    """The model of one reservation: its expiry and what it still holds, per position."""

    id: str
    created_at: datetime
    expires_at: datetime
    lines: dict[Key, int] = field(default_factory=dict)


def _store_network(engine: Engine) -> None:
    """Migrate and load the two SKUs at two nodes."""
    migrate(engine)
    bundle = masterdata.bundle_from_json(
        {
            "nodes": [node_record(NODES[0]), store_record(NODES[1])],
            "products": [product_record(sku) for sku in SKUS],
        }
    )
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zip_directory())


class _SqliteFile:
    """A new SQLite file holding the network, for one run of the machine."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dom-stateful-"))
        self.engine = make_engine(f"sqlite:///{self.folder / 'dom.sqlite3'}")
        _store_network(self.engine)

    def discard(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


class _PostgresCopy:
    """A new PostgreSQL database copied from one that holds the network, for one run."""

    def __init__(self, cluster: Cluster, template: str) -> None:
        self.cluster = cluster
        self.name = cluster.create_database(template=template)
        self.engine = make_engine(cluster.url(self.name))

    def discard(self) -> None:
        self.engine.dispose()
        self.cluster.drop_database(self.name)


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self, database: _SqliteFile | _PostgresCopy | None = None) -> None:
        super().__init__()
        self.database = database or _SqliteFile()
        self.engine = self.database.engine
        self.now = START
        self.source_clock = START - timedelta(days=1)
        self.stock: dict[Key, Stock] = {key: Stock() for key in KEYS}
        self.live: dict[str, Hold] = {}  # reservations holding units that have not expired
        # Kept in the order they happened, never sorted by id: ids are random, and Hypothesis
        # must make the same choices when it replays a run.
        self.expired: list[str] = []  # expired: their rows may linger until swept
        self.gone: list[str] = []  # released, allocated or cut to nothing: no rows at all
        self.recorded: list[tuple[EventRequest, bool]] = []
        self.serial = 0

    def teardown(self) -> None:
        self.database.discard()

    # ---- the model -----------------------------------------------------------------------------

    def live_reserved(self, key: Key) -> int:
        return sum(hold.lines.get(key, 0) for hold in self.live.values())

    def available(self, key: Key, method: Method = Method.SHIP) -> int:
        """Safety stock is kept back from shipping, not from pickup at the store."""
        stock = self.stock[key]
        kept_back = stock.safety_stock if method is Method.SHIP else 0
        return max(0, stock.on_hand - self.live_reserved(key) - stock.allocated - kept_back)

    def next_source_time(self, lag: int) -> datetime:
        self.source_clock += MINUTE
        return self.source_clock - lag * MINUTE

    def next_key(self) -> str:
        self.serial += 1
        return f"evt-{self.serial}"

    def is_stale(self, key: Key, source_time: datetime) -> bool:
        last = self.stock[key].snapshot_at
        return last is not None and source_time <= last

    def record(self, event: InventoryEvent) -> EventOutcome:
        request = EventRequest(self.next_key(), event)
        [outcome] = record_events(self.engine, LOCAL_OPERATOR, [request], now=self.now)
        self.recorded.append((request, outcome.applied))
        assert not outcome.replayed
        return outcome

    def cut_newest_holds(self, key: Key, excess: int) -> int:
        """Mirror of a short count: release up to `excess` held units, newest holds first."""
        released = 0
        newest_first = sorted(self.live.values(), key=lambda h: (h.created_at, h.id), reverse=True)
        for hold in newest_first:
            if released >= excess:
                break
            held = hold.lines.get(key, 0)
            if not held:
                continue
            cut = min(held, excess - released)
            hold.lines[key] = held - cut
            if hold.lines[key] == 0:
                del hold.lines[key]
            released += cut
        for hold_id in [h.id for h in self.live.values() if not h.lines]:
            del self.live[hold_id]
            self.gone.append(hold_id)
        return released

    def apply_delta(self, key: Key, event: InventoryEvent) -> None:
        """Record a delta event and check the service did what the model says."""
        stock = self.stock[key]
        if self.is_stale(key, event.source_time):
            outcome = self.record(event)
            assert not outcome.applied
            assert outcome.note is not None and "already counted" in outcome.note
            return
        committed = self.live_reserved(key) + stock.allocated
        if stock.on_hand + event.delta < committed:
            with pytest.raises(InvalidInput) as error:
                record_events(
                    self.engine, LOCAL_OPERATOR, [EventRequest(self.next_key(), event)], self.now
                )
            assert [p.field for p in error.value.problems] == ["events.0.quantity"]
            hypothesis.event("a delta below commitments is refused")
            return
        outcome = self.record(event)
        assert outcome.applied
        stock.on_hand += event.delta
        assert outcome.position.on_hand == stock.on_hand

    def pick(self, data: st.DataObject, pool: str) -> str:
        choices = {"live": list(self.live), "expired": self.expired, "gone": self.gone}[pool]
        return data.draw(st.sampled_from(choices))

    # ---- rules ---------------------------------------------------------------------------------

    @initialize(
        counts=st.lists(st.integers(4, 20), min_size=len(KEYS), max_size=len(KEYS)),
        carts=st.lists(
            st.dictionaries(keys, st.integers(1, 3), min_size=1, max_size=2), max_size=4
        ),
    )
    def open_with_counts_and_carts(self, counts: list[int], carts: list[dict[Key, int]]) -> None:
        """Every position counted, then a few carts held, so holds share positions early."""
        at = self.next_source_time(0)
        requests = [
            EventRequest(self.next_key(), InventoryEvent(EventKind.SNAPSHOT, *k, n, "wms", at))
            for k, n in zip(KEYS, counts, strict=True)
        ]
        outcomes = record_events(self.engine, LOCAL_OPERATOR, requests, now=self.now)
        assert all(o.applied for o in outcomes)
        for key, count in zip(KEYS, counts, strict=True):
            self.stock[key] = Stock(on_hand=count, snapshot_at=at)
        self.recorded += [(r, True) for r in requests]
        for lines in carts:
            self.hold(lines, partial=False, minutes=60, method=Method.SHIP)

    @rule(key=keys, quantity=st.integers(1, 10), lag=lags)
    def receive(self, key: Key, quantity: int, lag: int) -> None:
        at = self.next_source_time(lag)
        self.apply_delta(key, InventoryEvent(EventKind.RECEIPT, *key, quantity, "wms", at))

    @rule(key=keys, delta=st.integers(-8, -1) | st.integers(1, 8), lag=lags)
    def adjust(self, key: Key, delta: int, lag: int) -> None:
        at = self.next_source_time(lag)
        event = InventoryEvent(EventKind.ADJUSTMENT, *key, delta, "wms", at, "recount")
        self.apply_delta(key, event)

    @rule(
        kind=st.sampled_from([EventKind.SHRINK, EventKind.DAMAGE]),
        key=keys,
        quantity=st.integers(1, 6),
        lag=lags,
    )
    def lose(self, kind: EventKind, key: Key, quantity: int, lag: int) -> None:
        at = self.next_source_time(lag)
        self.apply_delta(key, InventoryEvent(kind, *key, quantity, "store-pos", at))

    @rule(
        key=keys,
        count=st.integers(0, 3) | st.integers(0, 15),
        older_by=st.sampled_from([0, 0, 0, 1, 10]),
    )
    def count(self, key: Key, count: int, older_by: int) -> None:
        last = self.stock[key].snapshot_at
        at = last - older_by * MINUTE if older_by and last else self.next_source_time(0)
        self.take_count(key, count, at)

    def holds_at(self, key: Key) -> int:
        return sum(key in hold.lines for hold in self.live.values())

    @rule(data=st.data())
    @precondition(lambda self: bool(self.live))
    def count_short(self, data: st.DataObject) -> None:
        """A count below commitments: holds are cut, maybe allocations left uncovered."""
        key = data.draw(st.sampled_from([k for k in KEYS if self.live_reserved(k)]))
        committed = self.live_reserved(key) + self.stock[key].allocated
        shortfall = data.draw(st.integers(1, committed))
        self.take_count(key, committed - shortfall, self.next_source_time(0))

    @rule(data=st.data())
    @precondition(lambda self: any(self.holds_at(k) > 1 for k in KEYS))
    def count_short_of_several_holds(self, data: st.DataObject) -> None:
        """Only where several holds share a position does the order of cutting show."""
        key = data.draw(st.sampled_from([k for k in KEYS if self.holds_at(k) > 1]))
        committed = self.live_reserved(key) + self.stock[key].allocated
        shortfall = data.draw(st.integers(1, self.live_reserved(key) - 1))
        self.take_count(key, committed - shortfall, self.next_source_time(0))

    def take_count(self, key: Key, count: int, at: datetime) -> None:
        stock = self.stock[key]
        last = stock.snapshot_at
        outcome = self.record(InventoryEvent(EventKind.SNAPSHOT, *key, count, "wms", at))
        if last is not None and at < last:
            assert not outcome.applied
            assert outcome.note is not None and "older than the snapshot" in outcome.note
            return
        assert outcome.applied
        stock.on_hand, stock.snapshot_at, stock.shipped_since_count = count, at, 0
        reserved = self.live_reserved(key)
        holding = self.holds_at(key)
        excess = reserved + stock.allocated - count
        released = self.cut_newest_holds(key, min(excess, reserved)) if excess > 0 else 0
        uncovered = max(0, reserved - released + stock.allocated - count)
        stock.allocated -= uncovered
        assert (outcome.holds_released, outcome.uncovered) == (released, uncovered)
        if released:
            hypothesis.event("a short count released holds")
        if holding > 1 and 0 < released < reserved:
            hypothesis.event("a short count cut the newest of several holds")
        if uncovered:
            hypothesis.event("a short count left allocations uncovered")

    @rule(data=st.data())
    @precondition(lambda self: bool(self.recorded))
    def resend(self, data: st.DataObject) -> None:
        request, applied = data.draw(st.sampled_from(self.recorded))
        [outcome] = record_events(self.engine, LOCAL_OPERATOR, [request], now=self.now)
        assert outcome.replayed
        assert outcome.applied == applied

    @rule(
        lines=st.dictionaries(keys, st.integers(1, 4), min_size=1, max_size=3),
        partial=st.booleans(),
        minutes=st.integers(1, 60),
        method=st.sampled_from(list(Method)),
    )
    def hold(self, lines: dict[Key, int], partial: bool, minutes: int, method: Method) -> None:
        self.advance_to(self.now + timedelta(seconds=1))  # holds never tie on creation time
        expires_at = self.now + minutes * MINUTE
        request = ReservationRequest(
            f"cart-{self.serial}",
            tuple(HoldLine(sku, node, quantity) for (sku, node), quantity in lines.items()),
            expires_at,
            partial,
            method,
        )
        available = {key: self.available(key, method) for key in lines}
        short = [
            Shortage(*key, quantity, available[key])
            for key, quantity in sorted(lines.items())
            if quantity > available[key]
        ]
        held = {key: min(q, available[key]) for key, q in lines.items()}
        held = {key: q for key, q in held.items() if q > 0}
        if short and not (partial and held):
            with pytest.raises(InsufficientStock) as error:
                reserve(self.engine, LOCAL_OPERATOR, request, now=self.now)
            assert error.value.shortages == short
            hypothesis.event(f"a reservation was refused with {len(short)} short line(s)")
            return
        reservation = reserve(self.engine, LOCAL_OPERATOR, request, now=self.now)
        assert list(reservation.shortages) == short
        assert {(h.sku, h.node_id): h.held for h in reservation.lines} == held
        assert all(h.requested == lines[(h.sku, h.node_id)] for h in reservation.lines)
        self.live[reservation.id] = Hold(reservation.id, self.now, expires_at, held)

    @rule(key=keys, quantity=st.integers(0, 6))
    def keep_safety_stock(self, key: Key, quantity: int) -> None:
        after = set_safety_stock(self.engine, LOCAL_OPERATOR, *key, quantity, now=self.now)
        self.stock[key].safety_stock = quantity
        assert after.safety_stock == quantity

    @rule(minutes=st.integers(1, 90))
    def wait(self, minutes: int) -> None:
        self.advance_to(self.now + minutes * MINUTE)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.live))
    def wait_until_a_hold_expires(self, data: st.DataObject) -> None:
        """Exactly at its expiry a hold is no longer in force: it can be neither extended nor
        allocated (its rows are still there: no writer has run at this moment yet)."""
        hold_id = self.pick(data, "live")
        self.advance_to(self.live[hold_id].expires_at)
        with pytest.raises(ReservationGone):
            extend(self.engine, LOCAL_OPERATOR, hold_id, self.now + MINUTE, now=self.now)
        with pytest.raises(ReservationGone):
            allocate(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)

    def advance_to(self, moment: datetime) -> None:
        self.now = moment
        for hold_id in [h.id for h in self.live.values() if h.expires_at <= moment]:
            del self.live[hold_id]
            self.expired.append(hold_id)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.live))
    def release_live(self, data: st.DataObject) -> None:
        hold_id = self.pick(data, "live")
        release(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)
        del self.live[hold_id]
        self.gone.append(hold_id)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.live))
    def extend_live(self, data: st.DataObject) -> None:
        hold_id = self.pick(data, "live")
        expires_at = self.now + data.draw(st.integers(1, 200)) * MINUTE
        assert extend(self.engine, LOCAL_OPERATOR, hold_id, expires_at, now=self.now) == expires_at
        self.live[hold_id].expires_at = expires_at

    @rule(data=st.data())
    @precondition(lambda self: bool(self.live))
    def allocate_live(self, data: st.DataObject) -> None:
        hold_id = self.pick(data, "live")
        lines = allocate(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)
        hold = self.live.pop(hold_id)
        assert {(line.sku, line.node_id): line.held for line in lines} == hold.lines
        for key, quantity in hold.lines.items():
            self.stock[key].allocated += quantity
        self.gone.append(hold_id)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.expired))
    def use_an_expired_hold(self, data: st.DataObject) -> None:
        """An expired hold cannot be extended or allocated; releasing it gives nothing back."""
        hold_id = self.pick(data, "expired")
        later = self.now + 10 * MINUTE
        with pytest.raises((ReservationGone, NotFound)):
            extend(self.engine, LOCAL_OPERATOR, hold_id, later, now=self.now)
        with pytest.raises((ReservationGone, NotFound)):
            allocate(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)
        hypothesis.event("an expired hold was used")
        with pytest.raises((NotFound, ReservationGone)):  # nothing left to give back
            release(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.gone))
    def use_a_gone_hold(self, data: st.DataObject) -> None:
        hold_id = self.pick(data, "gone")
        with pytest.raises(NotFound):
            release(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)
        with pytest.raises(NotFound):
            extend(self.engine, LOCAL_OPERATOR, hold_id, self.now + MINUTE, now=self.now)
        with pytest.raises(NotFound):
            allocate(self.engine, LOCAL_OPERATOR, hold_id, now=self.now)

    @rule(key=keys, data=st.data())
    def ship_some(self, key: Key, data: st.DataObject) -> None:
        stock = self.stock[key]
        quantity = data.draw(st.integers(1, stock.allocated + 1))
        if quantity > stock.allocated:
            with pytest.raises(InvalidInput):
                ship(self.engine, LOCAL_OPERATOR, *key, quantity, now=self.now)
            return
        hypothesis.event("allocated units shipped")
        after = ship(self.engine, LOCAL_OPERATOR, *key, quantity, now=self.now)
        stock.on_hand -= quantity
        stock.allocated -= quantity
        stock.shipped_since_count += quantity
        assert (after.on_hand, after.allocated) == (stock.on_hand, stock.allocated)

    # ---- invariants ----------------------------------------------------------------------------

    @invariant()
    def positions_read_back_as_the_model_says(self) -> None:
        read = {
            (p.sku, p.node_id): p
            for sku in SKUS
            for p in positions(self.engine, LOCAL_OPERATOR, sku=sku, now=self.now)
        }
        assert sorted(read) == sorted(KEYS)
        for key, position in read.items():
            stock = self.stock[key]
            expected = (
                stock.on_hand,
                self.live_reserved(key),
                stock.allocated,
                stock.safety_stock,
                stock.snapshot_at,
            )
            actual = (
                position.on_hand,
                position.reserved,
                position.allocated,
                position.safety_stock,
                position.snapshot_at,
            )
            assert actual == expected, key
            assert position.broken_invariants() == [], key
            for method in Method:
                assert position.available_for(method) == self.available(key, method), key

    @invariant()
    def stored_rows_keep_every_invariant(self) -> None:
        with reading(self.engine) as connection:
            rows = list(connection.execute(select(positions_table)))
            hold_rows = list(connection.execute(select(holds)))
        held_rows: dict[Key, int] = defaultdict(int)
        live_rows: dict[Key, int] = defaultdict(int)
        live_holds: dict[str, dict[Key, int]] = defaultdict(dict)
        for hold in hold_rows:
            held_rows[(hold.sku, hold.node_id)] += hold.quantity
            if hold.expires_at > self.now:
                live_rows[(hold.sku, hold.node_id)] += hold.quantity
                live_holds[hold.reservation_id][(hold.sku, hold.node_id)] = hold.quantity
        # Each reservation still in force holds exactly what the model says (a short count
        # cuts the newest holds first), and no expired one is among them.
        assert live_holds == {hold_id: hold.lines for hold_id, hold in self.live.items()}
        for row in rows:
            key = (row.sku, row.node_id)
            assert min(row.on_hand, row.reserved, row.allocated, row.safety_stock) >= 0, key
            assert row.reserved + row.allocated <= row.on_hand, key
            assert row.reserved == held_rows[key], f"reserved column drifted from holds at {key}"
            # A hold row still in force is one the model knows is live, and no read counts more.
            assert live_rows[key] == self.live_reserved(key), key

    @invariant()
    def on_hand_is_explained_by_the_event_log_and_shipments(self) -> None:
        with reading(self.engine) as connection:
            events = list(
                connection.execute(
                    select(inventory_events)
                    .where(inventory_events.c.applied)
                    .order_by(inventory_events.c.id)
                )
            )
        explained: dict[Key, int] = defaultdict(int)
        for row in events:
            key = (row.sku, row.node_id)
            if row.kind == EventKind.SNAPSHOT:
                explained[key] = row.quantity
            elif row.kind in (EventKind.SHRINK, EventKind.DAMAGE):
                explained[key] -= row.quantity
            else:
                explained[key] += row.quantity
        for key in KEYS:
            stock = self.stock[key]
            assert stock.on_hand == explained[key] - stock.shipped_since_count, key


InventoryMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestInventoryAgainstModel = InventoryMachine.TestCase


def test_postgresql_agrees_with_the_model_through_random_sequences_too(
    postgres_cluster: Cluster,
) -> None:
    """PostgreSQL holds a reservation's lines in one statement when it can (SQLite cannot):
    the same machine, on copies of one database holding the network."""
    template = postgres_cluster.create_database()
    engine = make_engine(postgres_cluster.url(template))
    _store_network(engine)
    engine.dispose()
    try:
        run_state_machine_as_test(
            lambda: InventoryMachine(_PostgresCopy(postgres_cluster, template)),
            settings=settings(
                max_examples=25,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        postgres_cluster.drop_database(template)
