"""Nodes' calendars and pauses, unit conversions, and the permission rules of each role."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dom.domain.access import Action, Principal, Role
from dom.domain.errors import Forbidden, InvalidField
from dom.domain.geo import Coordinates, miles_between
from dom.domain.network import MON_TO_FRI, Calendar, Capacity, Pause
from dom.domain.units import LengthUnit, WeightUnit, parse_length_unit, to_inches, to_pounds

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


class TestCalendar:
    def test_weekends_and_holidays_are_not_working_days(self) -> None:
        calendar = Calendar(MON_TO_FRI, holidays=frozenset({date(2026, 11, 26)}))
        assert calendar.is_working_day(date(2026, 11, 25))  # Wednesday
        assert not calendar.is_working_day(date(2026, 11, 26))  # Thanksgiving
        assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday

    def test_negative_processing_days_are_refused(self) -> None:
        with pytest.raises(InvalidField):
            Calendar(MON_TO_FRI, processing_days=-1)


class TestPause:
    def test_a_pause_covers_its_window_only(self) -> None:
        pause = Pause("stocktake", NOON, NOON + timedelta(hours=4))
        assert not pause.covers(NOON - timedelta(seconds=1))
        assert pause.covers(NOON)
        assert not pause.covers(NOON + timedelta(hours=4))

    def test_an_open_pause_lasts_until_resumed(self) -> None:
        assert Pause("flood", NOON).covers(NOON + timedelta(days=365))

    def test_a_pause_needs_a_reason_and_an_aware_window_that_ends_after_it_starts(self) -> None:
        with pytest.raises(InvalidField):
            Pause(" ", NOON)
        with pytest.raises(InvalidField):
            Pause("x", NOON.replace(tzinfo=None))
        with pytest.raises(InvalidField):
            Pause("x", NOON, NOON)


def test_capacity_may_not_be_negative() -> None:
    with pytest.raises(InvalidField) as error:
        Capacity(10, -1, 5)
    assert error.value.field == "capacity_units"


class TestUnits:
    def test_lengths_and_weights_convert_to_inches_and_pounds(self) -> None:
        assert to_inches(2.54, LengthUnit.CENTIMETRE) == 1.0
        assert to_inches(1, LengthUnit.FOOT) == 12.0
        assert to_pounds(16, WeightUnit.OUNCE) == 1.0
        assert to_pounds(1, WeightUnit.KILOGRAM) == pytest.approx(2.2046, abs=1e-4)

    def test_an_unknown_unit_names_the_allowed_ones(self) -> None:
        with pytest.raises(InvalidField) as error:
            parse_length_unit("cubit")
        assert "in, ft, cm, mm, m" in error.value.reason


def test_distance_new_york_to_los_angeles_is_about_2450_miles() -> None:
    nyc, la = Coordinates(40.7128, -74.0060), Coordinates(34.0522, -118.2437)
    assert miles_between(nyc, la) == pytest.approx(2445, rel=0.01)


class TestRoles:
    def test_a_viewer_reads_but_never_writes(self) -> None:
        viewer = Principal("k", "v", Role.VIEWER)
        assert viewer.may(Action.READ_NETWORK) and viewer.may(Action.EXPORT_MASTER_DATA)
        assert not any(
            viewer.may(a) for a in (Action.WRITE_NETWORK, Action.WRITE_CATALOG, Action.MANAGE_KEYS)
        )

    def test_a_node_key_is_confined_to_its_node(self) -> None:
        node = Principal("k", "store", Role.NODE, node_id="store-1")
        assert node.sees_node("store-1") and not node.sees_node("store-2")
        with pytest.raises(Forbidden):
            node.require_node("store-2")

    def test_a_channel_key_reads_the_catalogue_not_the_network(self) -> None:
        channel = Principal("k", "web", Role.CHANNEL, channel="web")
        assert channel.may(Action.READ_CATALOG)
        with pytest.raises(Forbidden):
            channel.require(Action.READ_NETWORK)

    def test_only_admins_manage_keys(self) -> None:
        assert [r for r in Role if Principal("k", "x", r).may(Action.MANAGE_KEYS)] == [Role.ADMIN]
