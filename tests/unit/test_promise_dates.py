"""Ship and delivery dates: cutoffs in the node's time zone, calendars, processing, pickups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.catalog import Dimensions, Product
from dom.domain.geo import Coordinates
from dom.domain.holidays import is_carrier_holiday
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
from dom.domain.promise import (
    CartLine,
    add_business_days,
    ready_date,
    ship_date,
    shipment_from,
)

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


# ---- carrier holidays --------------------------------------------------------------------------

OPEN_EVERY_DAY = replace(DC, calendar=Calendar(EVERY_DAY, cutoff=time(15, 0)))
NEXT_DAY = CarrierService(
    carrier="testco",
    service="next",
    name="Test next day",
    service_level="overnight",
    dim_divisor=139.0,
    residential_surcharge=0.0,
    fuel_surcharge_pct=0.0,
    pickup_days=MON_TO_FRI,
    zones=(ZoneBand(2, None, 1),),
    rates={(2, w): 20.0 for w in range(1, 11)},
)
BOX = {"A": Product("A", "a box", Dimensions(10, 8, 4, 2))}


def test_a_parcel_shipped_the_day_before_thanksgiving_arrives_the_day_after() -> None:
    shipment = shipment_from(
        DC,
        [CartLine("A", 1)],
        BOX,
        NEXT_DAY,
        Coordinates(39.96, -83.0),
        at(25, 15),
        residential=True,
    )
    assert shipment is not None
    assert (shipment.ship_on, shipment.deliver_on) == (date(2026, 11, 25), date(2026, 11, 27))


def test_transit_days_skip_carrier_holidays() -> None:
    assert add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)  # Thanksgiving
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)  # Christmas, weekend
    assert add_business_days(date(2026, 7, 2), 1) == date(2026, 7, 6)  # 4 July observed on the 3rd
    assert add_business_days(date(2027, 12, 23), 2) == date(2027, 12, 28)  # Christmas observed 24th
    assert add_business_days(date(2027, 12, 30), 1) == date(2028, 1, 3)  # New Year on the 31st


def test_a_parcel_never_arrives_on_a_weekend_or_a_carrier_holiday() -> None:
    start = date(2026, 1, 1)
    for offset in range(2 * 366):
        for transit in (1, 2, 3, 5):
            arrives = add_business_days(start + timedelta(days=offset), transit)
            assert arrives.weekday() < 5 and not is_carrier_holiday(arrives)


def test_the_carrier_does_not_pick_up_on_its_holidays_even_where_the_node_works() -> None:
    thanksgiving_morning = at(26, 14)
    assert ship_date(OPEN_EVERY_DAY, thanksgiving_morning, WEEKDAY_PICKUPS) == date(2026, 11, 27)
    every_day = frozenset(d.value for d in EVERY_DAY)
    christmas_eve_late = datetime(2027, 12, 24, 23, tzinfo=UTC)  # after the cutoff; 24th observed
    assert ship_date(OPEN_EVERY_DAY, christmas_eve_late, every_day) == date(2027, 12, 26)
    july_second_late = datetime(2026, 7, 2, 21, tzinfo=UTC)
    assert ship_date(OPEN_EVERY_DAY, july_second_late, WEEKDAY_PICKUPS) == date(2026, 7, 6)


def test_no_ship_date_is_ever_a_carrier_holiday() -> None:
    for offset in range(2 * 366):
        ordered = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=offset)
        leaves = ship_date(OPEN_EVERY_DAY, ordered, WEEKDAY_PICKUPS)
        assert leaves is not None and not is_carrier_holiday(leaves)


def test_a_store_has_a_pickup_ready_on_a_carrier_holiday_it_opens() -> None:
    store = replace(OPEN_EVERY_DAY, id="store-1", type=NodeType.STORE)
    assert ready_date(store, datetime(2026, 7, 3, 14, tzinfo=UTC)) == date(2026, 7, 3)
    assert ready_date(DC, at(26, 14)) == date(2026, 11, 27)  # the DC's own holiday still counts
