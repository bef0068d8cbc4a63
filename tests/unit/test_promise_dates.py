"""Ship and delivery dates: cutoffs in the node's time zone, calendars, processing, pickups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from dom.domain.geo import Coordinates
from dom.domain.network import (
    EVERY_DAY,
    MON_TO_FRI,
    Address,
    Calendar,
    Capability,
    Capacity,
    HandlingCost,
    Node,
    NodeType,
    Pause,
)
from dom.domain.promise import add_business_days, ship_date

WEEKDAY_PICKUPS = frozenset({"mon", "tue", "wed", "thu", "fri"})
DC = Node(
    id="dc-1",
    name="DC",
    type=NodeType.DISTRIBUTION_CENTRE,
    address=Address("1 Way", "Columbus", "OH", "43217"),
    location=Coordinates(39.83, -82.93),
    timezone="America/New_York",
    capabilities=frozenset({Capability.SHIP}),
    handling=frozenset(),
    capacity=Capacity(100, 100, 10),
    calendar=Calendar(MON_TO_FRI, holidays=frozenset({date(2026, 11, 26)}), cutoff=time(15, 0)),
    cost=HandlingCost(3, 0.3),
)


def at(day: int, hour_utc: int) -> datetime:
    return datetime(2026, 11, day, hour_utc, tzinfo=UTC)


def test_before_the_local_cutoff_it_ships_today() -> None:
    assert ship_date(DC, at(24, 19), WEEKDAY_PICKUPS) == date(2026, 11, 24)  # 14:00 in Columbus


def test_after_the_local_cutoff_it_ships_the_next_working_day() -> None:
    assert ship_date(DC, at(24, 21), WEEKDAY_PICKUPS) == date(2026, 11, 25)  # 16:00 in Columbus


def test_holidays_and_weekends_are_skipped() -> None:
    assert ship_date(DC, at(25, 21), WEEKDAY_PICKUPS) == date(2026, 11, 27)  # Thanksgiving skipped
    assert ship_date(DC, at(28, 15), WEEKDAY_PICKUPS) == date(2026, 11, 30)  # Saturday order


def test_processing_days_add_working_days() -> None:
    slow = replace(DC, calendar=replace(DC.calendar, processing_days=2))
    assert ship_date(slow, at(24, 19), WEEKDAY_PICKUPS) == date(2026, 11, 27)


def test_a_node_open_on_saturday_waits_for_the_carriers_next_pickup() -> None:
    weekend = replace(DC, calendar=replace(DC.calendar, operating_days=EVERY_DAY))
    assert ship_date(weekend, at(28, 15), WEEKDAY_PICKUPS) == date(2026, 11, 30)


def test_a_paused_node_ships_after_its_pause() -> None:
    paused = replace(DC, pause=Pause("stocktake", at(24, 0), at(27, 0)))
    assert ship_date(paused, at(24, 15), WEEKDAY_PICKUPS) == date(2026, 11, 27)


def test_transit_counts_business_days() -> None:
    assert add_business_days(date(2026, 11, 27), 2) == date(2026, 12, 1)  # Fri + 2 -> Tue
