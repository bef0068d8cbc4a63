"""The rules of an inventory position, on plain data: how each event moves on hand, which events
are too old to apply, what a count below commitments does, and what `available` promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dom.domain.errors import InvalidField
from dom.domain.inventory import (
    EventKind,
    InsufficientStock,
    InventoryEvent,
    Position,
    Shortage,
    StockShort,
    apply_event,
    place_lines,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def event(
    kind: EventKind,
    quantity: int,
    at: datetime = T0,
    reason: str | None = None,
    sku: str = "SKU-1",
    node_id: str = "dc-columbus",
) -> InventoryEvent:
    return InventoryEvent(kind, sku, node_id, quantity, "wms", at, reason)


def position(
    on_hand: int = 0,
    reserved: int = 0,
    allocated: int = 0,
    safety_stock: int = 0,
    snapshot_at: datetime | None = None,
) -> Position:
    return Position("SKU-1", "dc-columbus", on_hand, reserved, allocated, safety_stock, snapshot_at)


DELTA_KINDS = [EventKind.ADJUSTMENT, EventKind.RECEIPT, EventKind.SHRINK, EventKind.DAMAGE]


def delta_event(kind: EventKind, at: datetime, size: int = 3) -> InventoryEvent:
    """An event of `kind` that moves on hand by `size` units (down for shrink and damage)."""
    reason = "cycle-adjust" if kind is EventKind.ADJUSTMENT else None
    return event(kind, size, at, reason)


class TestSnapshots:
    def test_a_snapshot_sets_on_hand_and_its_time(self) -> None:
        applied = apply_event(position(on_hand=40), event(EventKind.SNAPSHOT, 17, T0))
        assert applied.moved
        assert applied.note is None
        assert applied.position.on_hand == 17
        assert applied.position.snapshot_at == T0
        assert applied.uncovered == 0

    def test_a_count_of_zero_empties_the_position(self) -> None:
        applied = apply_event(position(on_hand=5), event(EventKind.SNAPSHOT, 0, T0))
        assert applied.position.on_hand == 0

    def test_a_newer_snapshot_replaces_the_last_one(self) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        applied = apply_event(counted, event(EventKind.SNAPSHOT, 12, T0 + MINUTE))
        assert applied.moved
        assert (applied.position.on_hand, applied.position.snapshot_at) == (12, T0 + MINUTE)

    def test_an_older_snapshot_is_recorded_but_moves_nothing_and_says_why(self) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        applied = apply_event(counted, event(EventKind.SNAPSHOT, 99, T0 - MINUTE))
        assert not applied.moved
        assert applied.position == counted
        assert applied.note is not None
        assert "older than the snapshot" in applied.note
        assert T0.isoformat() in applied.note

    def test_snapshot_times_compare_as_instants_whatever_their_zone(self) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        # 09:00 UTC is 04:00 in New York: an hour *before* in that zone is still older.
        new_york = timezone(timedelta(hours=-5))
        older = event(EventKind.SNAPSHOT, 99, T0.astimezone(new_york) - timedelta(hours=1))
        assert not apply_event(counted, older).moved
        newer = event(EventKind.SNAPSHOT, 7, (T0 + MINUTE).astimezone(new_york))
        assert apply_event(counted, newer).position.on_hand == 7

    def test_a_snapshot_below_commitments_is_accepted_and_reports_what_it_leaves_uncovered(
        self,
    ) -> None:
        committed = position(on_hand=10, reserved=4, allocated=3)
        applied = apply_event(committed, event(EventKind.SNAPSHOT, 5, T0))
        assert applied.moved
        assert applied.position.on_hand == 5
        assert applied.position.snapshot_at == T0
        assert applied.uncovered == 2
        # The commitments are left for the caller to release or re-route.
        assert (applied.position.reserved, applied.position.allocated) == (4, 3)

    def test_a_snapshot_covering_commitments_exactly_leaves_nothing_uncovered(self) -> None:
        committed = position(on_hand=10, reserved=4, allocated=3)
        assert apply_event(committed, event(EventKind.SNAPSHOT, 7, T0)).uncovered == 0


class TestDeltas:
    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            (EventKind.RECEIPT, 13),
            (EventKind.SHRINK, 7),
            (EventKind.DAMAGE, 7),
            (EventKind.ADJUSTMENT, 13),
        ],
    )
    def test_a_delta_moves_on_hand_by_its_signed_quantity(
        self, kind: EventKind, expected: int
    ) -> None:
        applied = apply_event(position(on_hand=10), delta_event(kind, T0))
        assert applied.moved
        assert applied.position.on_hand == expected

    def test_a_negative_adjustment_takes_units_away(self) -> None:
        applied = apply_event(position(on_hand=10), event(EventKind.ADJUSTMENT, -4, T0, "miscount"))
        assert applied.position.on_hand == 6

    @pytest.mark.parametrize("kind", DELTA_KINDS)
    def test_a_delta_timed_at_the_last_snapshot_is_already_counted(self, kind: EventKind) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        applied = apply_event(counted, delta_event(kind, T0))
        assert not applied.moved
        assert applied.position == counted
        assert applied.note is not None
        assert "already counted by the snapshot" in applied.note

    @pytest.mark.parametrize("kind", DELTA_KINDS)
    def test_a_delta_timed_before_the_last_snapshot_is_not_applied(self, kind: EventKind) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        applied = apply_event(counted, delta_event(kind, T0 - timedelta(hours=3)))
        assert not applied.moved
        assert applied.position.on_hand == 10

    @pytest.mark.parametrize("kind", DELTA_KINDS)
    def test_a_delta_timed_after_the_last_snapshot_is_applied(self, kind: EventKind) -> None:
        counted = position(on_hand=10, snapshot_at=T0)
        applied = apply_event(counted, delta_event(kind, T0 + timedelta(microseconds=1)))
        assert applied.moved
        assert applied.position.on_hand == 10 + delta_event(kind, T0).delta
        assert applied.position.snapshot_at == T0  # a delta does not move the count's time

    @pytest.mark.parametrize("kind", [EventKind.SHRINK, EventKind.DAMAGE, EventKind.ADJUSTMENT])
    def test_a_delta_below_commitments_raises_stock_short_carrying_the_position(
        self, kind: EventKind
    ) -> None:
        committed = position(on_hand=10, reserved=5, allocated=3)
        quantity = -3 if kind is EventKind.ADJUSTMENT else 3
        with pytest.raises(StockShort) as error:
            apply_event(committed, event(kind, quantity, T0, "broken"))
        assert error.value.position == committed
        assert error.value.code == "insufficient_stock"
        assert "SKU-1" in error.value.detail
        assert "dc-columbus" in error.value.detail

    def test_a_delta_down_to_exactly_the_commitments_is_allowed(self) -> None:
        committed = position(on_hand=10, reserved=5, allocated=3)
        applied = apply_event(committed, event(EventKind.SHRINK, 2, T0))
        assert applied.position.on_hand == 8
        assert applied.position.broken_invariants() == []

    def test_a_delta_may_not_take_on_hand_below_zero_even_with_nothing_committed(self) -> None:
        with pytest.raises(StockShort):
            apply_event(position(on_hand=2), event(EventKind.DAMAGE, 3, T0))

    def test_a_stale_delta_is_not_checked_against_commitments(self) -> None:
        """It is not applied at all, so it cannot break anything."""
        counted = position(on_hand=4, reserved=4, snapshot_at=T0)
        applied = apply_event(counted, event(EventKind.SHRINK, 50, T0 - MINUTE))
        assert not applied.moved


class TestEventValidation:
    def test_a_negative_count_is_refused(self) -> None:
        with pytest.raises(InvalidField) as error:
            event(EventKind.SNAPSHOT, -1)
        assert error.value.field == "quantity"

    def test_a_zero_adjustment_is_refused(self) -> None:
        with pytest.raises(InvalidField) as error:
            event(EventKind.ADJUSTMENT, 0, reason="miscount")
        assert error.value.field == "quantity"

    @pytest.mark.parametrize("reason", [None, ""])
    def test_an_adjustment_needs_a_reason(self, reason: str | None) -> None:
        with pytest.raises(InvalidField) as error:
            event(EventKind.ADJUSTMENT, 5, reason=reason)
        assert error.value.field == "reason"

    @pytest.mark.parametrize("kind", [EventKind.RECEIPT, EventKind.SHRINK, EventKind.DAMAGE])
    @pytest.mark.parametrize("quantity", [0, -1, -20])
    def test_receipts_shrink_and_damage_need_a_positive_quantity(
        self, kind: EventKind, quantity: int
    ) -> None:
        with pytest.raises(InvalidField) as error:
            event(kind, quantity)
        assert error.value.field == "quantity"

    @pytest.mark.parametrize("kind", list(EventKind))
    def test_a_source_time_without_a_zone_is_refused(self, kind: EventKind) -> None:
        with pytest.raises(InvalidField) as error:
            event(kind, 1, T0.replace(tzinfo=None), reason="miscount")
        assert error.value.field == "source_time"

    def test_valid_events_of_every_kind_are_accepted(self) -> None:
        assert event(EventKind.SNAPSHOT, 0).delta == 0
        assert event(EventKind.ADJUSTMENT, -2, reason="miscount").delta == -2
        assert event(EventKind.RECEIPT, 2).delta == 2
        assert event(EventKind.SHRINK, 2).delta == -2
        assert event(EventKind.DAMAGE, 2).delta == -2


class TestAvailability:
    def test_available_subtracts_reserved_allocated_and_safety_stock(self) -> None:
        assert position(on_hand=20, reserved=4, allocated=3, safety_stock=5).available == 8

    def test_safety_stock_above_what_is_free_leaves_nothing_available(self) -> None:
        assert position(on_hand=10, reserved=4, safety_stock=7).available == 0

    def test_available_is_zero_not_negative_when_over_committed(self) -> None:
        assert position(on_hand=5, reserved=4, allocated=4).available == 0

    @given(
        on_hand=st.integers(-5, 50),
        reserved=st.integers(-5, 50),
        allocated=st.integers(-5, 50),
        safety=st.integers(-5, 50),
    )
    def test_available_is_never_negative_and_never_more_than_is_free(
        self, on_hand: int, reserved: int, allocated: int, safety: int
    ) -> None:
        available = position(on_hand, reserved, allocated, safety).available
        assert available >= 0
        assert available == max(0, on_hand - reserved - allocated - safety)


class TestInvariants:
    def test_a_sound_position_breaks_nothing(self) -> None:
        assert (
            position(on_hand=10, reserved=4, allocated=6, safety_stock=2).broken_invariants() == []
        )

    def test_each_negative_quantity_is_named(self) -> None:
        broken = Position("SKU-1", "dc", -1, -2, -3, -4).broken_invariants()
        for name in ("on_hand", "reserved", "allocated", "safety_stock"):
            assert f"{name} is negative" in broken

    def test_commitments_above_on_hand_are_reported(self) -> None:
        assert position(on_hand=5, reserved=3, allocated=3).broken_invariants() == [
            "reserved + allocated exceeds on hand"
        ]


@st.composite
def sound_positions(draw: st.DrawFn) -> Position:
    on_hand = draw(st.integers(0, 40))
    reserved = draw(st.integers(0, on_hand))
    allocated = draw(st.integers(0, on_hand - reserved))
    snapshot_at = draw(st.none() | st.just(T0))
    return position(on_hand, reserved, allocated, snapshot_at=snapshot_at)


@st.composite
def events(draw: st.DrawFn) -> InventoryEvent:
    kind = draw(st.sampled_from(list(EventKind)))
    at = T0 + timedelta(minutes=draw(st.integers(-2, 2)))
    if kind is EventKind.SNAPSHOT:
        return event(kind, draw(st.integers(0, 40)), at)
    if kind is EventKind.ADJUSTMENT:
        quantity = draw(st.integers(-40, 40).filter(bool))
        return event(kind, quantity, at, "recount")
    return event(kind, draw(st.integers(1, 40)), at)


@given(before=sound_positions(), change=events())
def test_an_event_either_keeps_the_position_sound_or_says_what_it_leaves_uncovered(
    before: Position, change: InventoryEvent
) -> None:
    try:
        applied = apply_event(before, change)
    except StockShort as short:
        assert change.kind is not EventKind.SNAPSHOT
        assert before.on_hand + change.delta < before.committed
        assert short.position == before
        return
    after = applied.position
    assert (after.reserved, after.allocated) == (before.reserved, before.allocated)
    if not applied.moved:
        assert after == before
        assert applied.note is not None
        return
    if change.kind is EventKind.SNAPSHOT:
        assert applied.uncovered == max(0, before.committed - change.quantity)
        broken = after.broken_invariants()
        assert broken == (
            [] if applied.uncovered == 0 else ["reserved + allocated exceeds on hand"]
        )
    else:
        assert after.on_hand == before.on_hand + change.delta
        assert after.broken_invariants() == []


def test_insufficient_stock_lists_every_short_line() -> None:
    shortages = [Shortage("SKU-1", "dc-a", 5, 2), Shortage("SKU-2", "dc-b", 1, 0)]
    error = InsufficientStock(shortages)
    assert error.shortages == shortages
    assert error.code == "insufficient_stock"
    assert "2 line(s) short" in error.detail
    assert "SKU-1 at dc-a: 5 asked, 2 available" in error.detail
    assert "SKU-2 at dc-b: 1 asked, 0 available" in error.detail


class TestPlacingLinesWithoutANode:
    def test_one_node_that_holds_the_whole_cart_beats_nearer_nodes_holding_parts(self) -> None:
        available = {("A", "near"): 5, ("B", "far"): 5, ("A", "far"): 5}
        placed = place_lines({"A": 2, "B": 1}, available, {"near": 10.0, "far": 900.0})
        assert placed == {"A": "far", "B": "far"}

    def test_between_nodes_that_hold_as_much_the_nearest_wins(self) -> None:
        available = {("A", "n1"): 5, ("A", "n2"): 5}
        assert place_lines({"A": 1}, available, {"n1": 300.0, "n2": 20.0}) == {"A": "n2"}
        assert place_lines({"A": 1}, available, {"n1": 20.0, "n2": 300.0}) == {"A": "n1"}

    def test_without_a_destination_the_node_with_more_units_wins(self) -> None:
        available = {("A", "n1"): 3, ("A", "n2"): 9}
        assert place_lines({"A": 2}, available) == {"A": "n2"}

    def test_a_node_with_too_few_units_is_not_chosen_and_an_unheld_line_gets_none(self) -> None:
        available = {("A", "n1"): 1, ("B", "n1"): 9}
        assert place_lines({"A": 2, "B": 2}, available) == {"A": None, "B": "n1"}

    @given(
        st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 5), min_size=1),
        st.dictionaries(
            st.tuples(st.sampled_from("ABCD"), st.sampled_from(["n1", "n2", "n3"])),
            st.integers(0, 6),
        ),
    )
    def test_every_placed_line_fits_its_node_and_only_unfittable_lines_get_none(
        self, lines: dict[str, int], available: dict[tuple[str, str], int]
    ) -> None:
        placed = place_lines(lines, available)
        assert placed.keys() == lines.keys()
        for sku, node in placed.items():
            fits = [n for (s, n), units in available.items() if s == sku and units >= lines[sku]]
            if node is None:
                assert not fits
            else:
                assert node in fits
