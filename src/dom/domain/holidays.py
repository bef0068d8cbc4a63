"""US parcel-carrier holidays: the days the national parcel carriers neither pick up nor deliver.

Computed, not listed, so that every year is known: New Year's Day, Memorial Day (last Monday of
May), Independence Day, Labor Day (first Monday of September), Thanksgiving Day (fourth Thursday
of November) and Christmas Day. A fixed-date holiday that falls on a Saturday is observed on the
Friday before, on a Sunday on the Monday after; the weekend day itself stays a holiday too, for
the rare service that picks up at weekends. New Year's Day on a Saturday is therefore observed on
31 December of the year before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class Holiday:
    name: str
    day: date
    observed: bool = False  # a weekday standing in for a holiday that falls on a weekend


@cache
def carrier_holidays(year: int) -> tuple[Holiday, ...]:
    """The carrier holidays that fall in `year`, in date order."""
    found = [h for y in (year, year + 1) for h in _holidays_of(y) if h.day.year == year]
    return tuple(sorted(found, key=lambda h: h.day))


@cache
def carrier_holiday_dates(year: int) -> frozenset[date]:
    """The days of `year` on which carriers neither pick up nor deliver."""
    return frozenset(h.day for h in carrier_holidays(year))


def is_carrier_holiday(day: date) -> bool:
    return day in carrier_holiday_dates(day.year)


def _holidays_of(year: int) -> list[Holiday]:
    """The six holidays of `year` with their observed days (which may fall in another year)."""
    fixed = [
        ("New Year's Day", date(year, 1, 1)),
        ("Independence Day", date(year, 7, 4)),
        ("Christmas Day", date(year, 12, 25)),
    ]
    floating = [
        Holiday("Memorial Day", _last_weekday(year, 5, 0)),
        Holiday("Labor Day", _nth_weekday(year, 9, 0, 1)),
        Holiday("Thanksgiving Day", _nth_weekday(year, 11, 3, 4)),
    ]
    holidays = floating
    for name, day in fixed:
        holidays.append(Holiday(name, day))
        if day.weekday() == SATURDAY:
            holidays.append(Holiday(name, day - timedelta(days=1), observed=True))
        elif day.weekday() == SUNDAY:
            holidays.append(Holiday(name, day + timedelta(days=1), observed=True))
    return holidays


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The `nth` `weekday` (Monday = 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)
