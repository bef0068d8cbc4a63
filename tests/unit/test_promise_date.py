"""Time-phased available-to-promise: the first day a quantity can be promised."""

from __future__ import annotations

from datetime import date

import pytest

from dom.domain.errors import InvalidField
from dom.domain.inventory import Supply, SupplyKind, promise_date

TODAY = date(2026, 11, 25)


def po(supply_id: str, remaining: int, day: int) -> Supply:
    return Supply(supply_id, SupplyKind.PURCHASE_ORDER, "A", "dc-1", remaining, date(2026, 12, day))


def test_stock_on_the_shelf_is_promised_today() -> None:
    assert promise_date(5, [po("p1", 10, 3)], 5, TODAY) == TODAY


def test_a_shortfall_is_promised_on_the_day_enough_has_arrived() -> None:
    lines = [po("p2", 4, 9), po("p1", 3, 3)]
    assert promise_date(2, lines, 5, TODAY) == date(2026, 12, 3)
    assert promise_date(2, lines, 6, TODAY) == date(2026, 12, 9)


def test_each_unit_is_counted_once_so_too_much_is_never_promised() -> None:
    assert promise_date(2, [po("p1", 3, 3), po("p2", 4, 9)], 10, TODAY) is None


def test_an_overdue_line_counts_from_today_not_from_its_past_date() -> None:
    late = Supply("p0", SupplyKind.ADVANCE_SHIP_NOTICE, "A", "dc-1", 5, date(2026, 11, 20))
    assert promise_date(0, [late], 3, TODAY) == TODAY


def test_a_quantity_must_be_positive() -> None:
    with pytest.raises(InvalidField):
        promise_date(5, [], 0, TODAY)
