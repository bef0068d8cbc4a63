"""US parcel-carrier holidays, computed for any year, with weekend holidays observed on weekdays."""

from __future__ import annotations

from datetime import date

import pytest

from dom.domain.holidays import carrier_holiday_dates, carrier_holidays, is_carrier_holiday


def observed(year: int) -> dict[date, str]:
    return {h.day: h.name for h in carrier_holidays(year) if h.day.weekday() < 5}


def test_the_holidays_of_2026() -> None:
    assert observed(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 7, 3): "Independence Day",  # Saturday the 4th, observed Friday
        date(2026, 9, 7): "Labor Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 12, 25): "Christmas Day",
    }


def test_the_holidays_of_2027() -> None:
    assert observed(2027) == {
        date(2027, 1, 1): "New Year's Day",
        date(2027, 5, 31): "Memorial Day",
        date(2027, 7, 5): "Independence Day",  # Sunday the 4th, observed Monday
        date(2027, 9, 6): "Labor Day",
        date(2027, 11, 25): "Thanksgiving Day",
        date(2027, 12, 24): "Christmas Day",  # Saturday the 25th, observed Friday
        date(2027, 12, 31): "New Year's Day",  # 1 January 2028 is a Saturday
    }


def test_an_observed_day_is_marked_and_the_weekend_day_stays_a_holiday() -> None:
    christmas = [h for h in carrier_holidays(2027) if h.name == "Christmas Day"]
    assert [(h.day, h.observed) for h in christmas] == [
        (date(2027, 12, 24), True),
        (date(2027, 12, 25), False),
    ]
    assert date(2028, 1, 1) in carrier_holiday_dates(2028)


@pytest.mark.parametrize("year", range(2020, 2041))
def test_each_holiday_is_observed_on_exactly_one_weekday(year: int) -> None:
    weekdays = [h for h in carrier_holidays(year) if h.day.weekday() < 5]
    names = [h.name for h in weekdays]
    for name in (
        "Memorial Day",
        "Independence Day",
        "Labor Day",
        "Thanksgiving Day",
        "Christmas Day",
    ):
        assert names.count(name) == 1, name
    days = {h.name: h.day for h in weekdays}
    assert days["Memorial Day"].weekday() == 0 and days["Memorial Day"].day >= 25
    assert days["Labor Day"].weekday() == 0 and days["Labor Day"].day <= 7
    assert days["Thanksgiving Day"].weekday() == 3 and 22 <= days["Thanksgiving Day"].day <= 28
    new_year = [
        h.day
        for y in (year - 1, year)
        for h in carrier_holidays(y)
        if h.name == "New Year's Day"
        and h.day.weekday() < 5
        and date(year - 1, 12, 31) <= h.day <= date(year, 1, 2)
    ]
    assert len(new_year) == 1
    assert new_year[0] in (date(year - 1, 12, 31), date(year, 1, 1), date(year, 1, 2))


def test_only_holidays_are_holidays() -> None:
    assert is_carrier_holiday(date(2026, 11, 26))
    assert not is_carrier_holiday(date(2026, 11, 27))  # the day after Thanksgiving: carriers work
    assert not is_carrier_holiday(date(2026, 12, 24))
