"""Default parcel services: one neutral carrier with ground, two-day and overnight service.

The figures approximate 2025 US list rates (see REFERENCE §3). They are ordinary master data:
export them, edit the CSV files and import them back to use your own contract rates.
"""

from __future__ import annotations

from dom.domain.carriers import CarrierService, ServiceLevel, ZoneBand
from dom.domain.network import MON_TO_FRI

CARRIER = "parcelco"
MAX_WEIGHT_LB = 150
DIM_DIVISOR = 139.0

#: (zone, farthest miles or None for open-ended, ground transit days at the slow end of the range)
ZONE_BANDS: tuple[tuple[int, float | None, int], ...] = (
    (2, 150.0, 2),
    (3, 300.0, 3),
    (4, 600.0, 3),
    (5, 1000.0, 4),
    (6, 1400.0, 4),
    (7, 1800.0, 5),
    (8, None, 5),
)

# Ground list price of a 1 lb and a 5 lb parcel per zone, and the price of each pound above 5.
# Zone 2, 4, 6 and 8 at 5 lb and zone 2 at 1 lb are the REFERENCE anchors; the rest interpolate.
GROUND_1_LB = {2: 10.10, 3: 10.40, 4: 10.80, 5: 11.10, 6: 11.50, 7: 12.00, 8: 12.60}
GROUND_5_LB = {2: 10.50, 3: 11.70, 4: 13.00, 5: 14.60, 6: 16.30, 7: 19.00, 8: 22.00}
GROUND_PER_LB_ABOVE_5 = {2: 0.55, 3: 0.70, 4: 0.90, 5: 1.15, 6: 1.40, 7: 1.70, 8: 2.00}

# Express services cost several times ground, more so the farther they go.
TWO_DAY_FACTOR = {2: 2.1, 3: 2.3, 4: 2.5, 5: 2.7, 6: 2.9, 7: 3.1, 8: 3.3}
OVERNIGHT_FACTOR = {2: 3.0, 3: 3.4, 4: 3.8, 5: 4.2, 6: 4.6, 7: 5.0, 8: 5.4}

GROUND_FUEL_PCT = 8.0
EXPRESS_FUEL_PCT = 10.0
GROUND_RESIDENTIAL = 5.75
EXPRESS_RESIDENTIAL = 6.20


def ground_list_price(zone: int, weight_lb: int) -> float:
    """Unrounded ground price: linear from 1 to 5 lb, then a per-pound step that grows by zone."""
    if weight_lb <= 5:
        step = (GROUND_5_LB[zone] - GROUND_1_LB[zone]) / 4
        return GROUND_1_LB[zone] + step * (weight_lb - 1)
    return GROUND_5_LB[zone] + GROUND_PER_LB_ABOVE_5[zone] * (weight_lb - 5)


def _rate_table(factor: dict[int, float] | None) -> dict[tuple[int, int], float]:
    """Every zone × every whole pound up to the limit; rises with weight and with zone."""
    return {
        (zone, weight): round(ground_list_price(zone, weight) * (factor or {}).get(zone, 1.0), 2)
        for zone, _, _ in ZONE_BANDS
        for weight in range(1, MAX_WEIGHT_LB + 1)
    }


def _bands(fixed_days: int | None) -> tuple[ZoneBand, ...]:
    return tuple(
        ZoneBand(zone, miles, days if fixed_days is None else fixed_days)
        for zone, miles, days in ZONE_BANDS
    )


def default_services() -> list[CarrierService]:
    """ParcelCo ground, two-day and overnight, picked up Monday to Friday."""
    return [
        _service(ServiceLevel.GROUND, "ParcelCo Ground", None, None),
        _service(ServiceLevel.TWO_DAY, "ParcelCo 2Day", 2, TWO_DAY_FACTOR),
        _service(ServiceLevel.OVERNIGHT, "ParcelCo Overnight", 1, OVERNIGHT_FACTOR),
    ]


def _service(
    level: str, name: str, fixed_days: int | None, factor: dict[int, float] | None
) -> CarrierService:
    express = fixed_days is not None
    return CarrierService(
        carrier=CARRIER,
        service=level,
        name=name,
        service_level=level,
        dim_divisor=DIM_DIVISOR,
        residential_surcharge=EXPRESS_RESIDENTIAL if express else GROUND_RESIDENTIAL,
        fuel_surcharge_pct=EXPRESS_FUEL_PCT if express else GROUND_FUEL_PCT,
        pickup_days=MON_TO_FRI,
        zones=_bands(fixed_days),
        rates=_rate_table(factor),
    )
