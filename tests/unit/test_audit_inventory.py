"""The audit's inventory checks: positions that break an invariant, and counts gone stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dom.domain.audit import AuditData, check_inventory, stale_counts
from dom.domain.inventory import Position

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def data(*positions: Position, stale_days: int = 30) -> AuditData:
    return AuditData(
        (), (), (), lambda _zip: None, stale_days=stale_days, positions=positions, as_of=NOW
    )


def test_positions_holding_stock_not_counted_lately_are_reported_once_per_node() -> None:
    result = check_inventory(
        data(
            Position("A", "dc-1", on_hand=5, snapshot_at=NOW - timedelta(days=45)),
            Position("B", "dc-1", on_hand=2),
            Position("C", "dc-1", on_hand=9, snapshot_at=NOW - timedelta(days=3)),
            Position("D", "dc-2", on_hand=0),
        )
    )
    assert [(f.check, f.subject_id) for f in result.findings] == [
        ("inventory.stale_counts", "dc-1")
    ]
    assert (
        "2 positions holding stock were not counted in 30 days (1 never counted)"
        in result.findings[0].message
    )


def test_a_position_breaking_an_invariant_is_an_error() -> None:
    result = check_inventory(data(Position("A", "dc-1", on_hand=2, reserved=3, snapshot_at=NOW)))
    assert [(f.check, f.severity.value, f.subject_id) for f in result.findings] == [
        ("inventory.broken_position", "error", "A@dc-1")
    ]


def test_fresh_counts_and_empty_positions_raise_nothing() -> None:
    fresh = Position("A", "dc-1", on_hand=4, allocated=1, snapshot_at=NOW - timedelta(days=1))
    assert check_inventory(data(fresh, Position("B", "dc-1"))).findings == ()


def test_the_horizon_follows_stale_days() -> None:
    week_old = Position("A", "dc-1", on_hand=4, snapshot_at=NOW - timedelta(days=7))
    assert check_inventory(data(week_old, stale_days=30)).findings == ()
    assert len(check_inventory(data(week_old, stale_days=5)).findings) == 1


def test_stale_counts_are_the_positions_holding_stock_or_commitments_counted_before_the_horizon() -> (
    None
):
    old = Position("A", "dc-1", on_hand=5, snapshot_at=NOW - timedelta(days=31))
    never = Position("B", "dc-1", on_hand=1)
    committed = Position("C", "dc-1", allocated=1, snapshot_at=NOW - timedelta(days=40))
    fresh = Position("D", "dc-1", on_hand=9, snapshot_at=NOW - timedelta(days=29))
    empty = Position("E", "dc-1", snapshot_at=NOW - timedelta(days=90))
    assert stale_counts([old, never, committed, fresh, empty], NOW) == [old, never, committed]
    assert stale_counts([old, fresh], NOW, stale_days=60) == []
