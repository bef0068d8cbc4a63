"""Carrier pricing: zones by distance, billable weight, surcharges, and rate-table gaps."""

from __future__ import annotations

import pytest

from dom.domain.carriers import (
    CarrierService,
    ZoneBand,
    billable_weight,
    rate_inversions,
    service_problems,
)
from dom.domain.catalog import Dimensions
from dom.domain.errors import InvalidField
from dom.domain.network import MON_TO_FRI

BANDS = (ZoneBand(2, 150, 1), ZoneBand(3, 300, 2), ZoneBand(4, None, 3))


def service(**changes: object) -> CarrierService:
    fields: dict[str, object] = {
        "carrier": "testco",
        "service": "ground",
        "name": "Test Ground",
        "service_level": "ground",
        "dim_divisor": 139.0,
        "residential_surcharge": 5.0,
        "fuel_surcharge_pct": 10.0,
        "pickup_days": MON_TO_FRI,
        "zones": BANDS,
        "rates": {(z, w): 10.0 + z + w for z in (2, 3, 4) for w in (1, 2, 3)},
    }
    fields.update(changes)
    return CarrierService(**fields)  # type: ignore[arg-type]


class TestZones:
    @pytest.mark.parametrize(
        ("miles", "zone"), [(0, 2), (150, 2), (150.1, 3), (300, 3), (301, 4), (3000, 4)]
    )
    def test_a_distance_falls_in_the_first_band_that_reaches_it(
        self, miles: float, zone: int
    ) -> None:
        assert service().zone_for(miles).zone == zone

    def test_beyond_a_closed_last_band_there_is_no_zone(self) -> None:
        closed = service(zones=(ZoneBand(2, 150, 1),))
        with pytest.raises(InvalidField):
            closed.zone_for(151)


class TestBillableWeight:
    def test_actual_weight_wins_for_a_dense_parcel(self) -> None:
        assert billable_weight(Dimensions(6, 6, 6, 4.2), 139) == 5

    def test_dimensional_weight_wins_for_a_bulky_parcel(self) -> None:
        # 20 x 15 x 10 = 3000 cubic inches / 139 = 21.6 -> 22 lb
        assert billable_weight(Dimensions(20, 15, 10, 3), 139) == 22

    def test_each_side_is_rounded_up_to_the_inch_before_dividing(self) -> None:
        # 12.1 x 12.1 x 12.1 bills as 13 x 13 x 13 = 2197 / 139 = 15.8 -> 16
        assert billable_weight(Dimensions(12.1, 12.1, 12.1, 1), 139) == 16

    def test_nothing_bills_under_one_pound(self) -> None:
        assert billable_weight(Dimensions(1, 1, 1, 0.05), 139) == 1


class TestPrice:
    def test_fuel_applies_to_the_rate_and_the_residential_surcharge(self) -> None:
        assert service().price(200, 2, residential=False) == round((10 + 3 + 2) * 1.1, 2)
        assert service().price(200, 2, residential=True) == round((10 + 3 + 2 + 5) * 1.1, 2)

    def test_a_weight_above_the_table_cannot_be_priced(self) -> None:
        with pytest.raises(InvalidField):
            service().price(10, 4, residential=False)


class TestRateTableProblems:
    def test_a_complete_table_has_no_problems(self) -> None:
        assert service_problems(service()) == []

    def test_missing_weight_breaks_are_reported_as_ranges(self) -> None:
        rates = {(z, w): 10.0 + w for z in (2, 3, 4) for w in range(1, 8)}
        for w in (2, 3, 4, 6):
            del rates[(3, w)]
        problems = service_problems(service(rates=rates))
        assert [p.reason for p in problems] == ["zone 3 has no rate for 2-4, 6 lb"]

    def test_a_rate_for_a_zone_without_a_band_is_reported(self) -> None:
        rates = {**service().rates, (9, 1): 40.0}
        reasons = [p.reason for p in service_problems(service(rates=rates))]
        assert "rate for zone 9, which has no distance band" in reasons

    def test_rates_that_fall_with_weight_or_zone_are_inversions(self) -> None:
        rates = dict(service().rates)
        rates[(3, 3)] = 1.0
        found = rate_inversions(service(rates=rates))
        assert found == [
            "zone 3: 3 lb costs 1.00, less than 2 lb at 15.00",
            "3 lb: zone 3 costs 1.00, less than zone 2 at 15.00",
        ]

    def test_a_sensible_table_has_no_inversions(self) -> None:
        assert rate_inversions(service()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("carrier", "Bad Carrier"),
        ("dim_divisor", 0.0),
        ("fuel_surcharge_pct", 120.0),
        ("residential_surcharge", -1.0),
    ],
)
def test_a_service_with_a_bad_scalar_is_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidField) as error:
        service(**{field: value})
    assert error.value.field == field
