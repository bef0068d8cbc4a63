"""Carrier services: zones by distance, rate tables by zone and billable weight, transit days."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from dom.domain.catalog import Dimensions
from dom.domain.errors import InvalidField, Problem
from dom.domain.network import Weekday

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ServiceLevel:
    """Common service levels; any lower-case code is allowed, these are the ones dom knows by name."""

    GROUND = "ground"
    TWO_DAY = "two_day"
    OVERNIGHT = "overnight"


@dataclass(frozen=True)
class ZoneBand:
    """Destinations up to `max_miles` away (None: any distance) are in `zone`."""

    zone: int
    max_miles: float | None
    transit_days: int


@dataclass(frozen=True)
class CarrierService:
    """One service of one carrier, with everything needed to price and date a parcel."""

    carrier: str
    service: str
    name: str
    service_level: str
    dim_divisor: float
    residential_surcharge: float
    fuel_surcharge_pct: float
    pickup_days: frozenset[Weekday]
    zones: tuple[ZoneBand, ...]
    rates: Mapping[tuple[int, int], float]

    def __post_init__(self) -> None:
        if not CODE.fullmatch(self.carrier):
            raise InvalidField(
                "carrier", "must be a lower-case code of letters, digits, '_' or '-'"
            )
        if not CODE.fullmatch(self.service):
            raise InvalidField(
                "service", "must be a lower-case code of letters, digits, '_' or '-'"
            )
        if not CODE.fullmatch(self.service_level):
            raise InvalidField("service_level", "must be a lower-case code such as ground")
        if not self.dim_divisor > 0:
            raise InvalidField("dim_divisor", "must be a positive number")
        if self.residential_surcharge < 0:
            raise InvalidField("residential_surcharge", "must not be negative")
        if not 0 <= self.fuel_surcharge_pct <= 100:
            raise InvalidField("fuel_surcharge_pct", "must be between 0 and 100")

    @property
    def key(self) -> str:
        return f"{self.carrier}/{self.service}"

    @property
    def weight_breaks(self) -> list[int]:
        return sorted({weight for _, weight in self.rates})

    @cached_property
    def max_weight_lb(self) -> int:
        return max((weight for _, weight in self.rates), default=0)

    def zone_for(self, miles: float) -> ZoneBand:
        for band in self.zones:
            if band.max_miles is None or miles <= band.max_miles:
                return band
        raise InvalidField("distance", f"{miles:.0f} miles is beyond the last zone of {self.key}")

    def price(self, miles: float, billable_lb: int, *, residential: bool) -> float:
        """List price with fuel surcharge, and the residential surcharge where it applies."""
        price = self.price_in_zone(self.zone_for(miles).zone, billable_lb, residential=residential)
        if price is None:
            raise InvalidField("weight", f"{billable_lb} lb is above the rate table of {self.key}")
        return price

    def price_in_zone(self, zone: int, billable_lb: int, *, residential: bool) -> float | None:
        """One parcel's price in a zone; None where the rate table has no such weight."""
        rate = self.rates.get((zone, billable_lb))
        if rate is None:
            return None
        surcharge = self.residential_surcharge if residential else 0.0
        return round((rate + surcharge) * (1 + self.fuel_surcharge_pct / 100), 2)


def billable_weight(dimensions: Dimensions, dim_divisor: float) -> int:
    """Greater of actual and dimensional weight, in whole pounds rounded up.

    Dimensional weight rounds each side up to the inch before dividing, as carriers do.
    """
    cube = (
        math.ceil(dimensions.length_in)
        * math.ceil(dimensions.width_in)
        * math.ceil(dimensions.height_in)
    )
    return max(1, math.ceil(max(dimensions.weight_lb, cube / dim_divisor) - 1e-9))


def service_problems(service: CarrierService) -> list[Problem]:
    """Structural gaps that make a service unusable: bad zone bands, missing zones or breaks."""
    problems: list[Problem] = []
    source = service.key
    if not service.zones:
        return [Problem("zones", "a service needs at least one zone", source=source)]
    numbers = [band.zone for band in service.zones]
    if len(set(numbers)) != len(numbers):
        problems.append(Problem("zone", "zone numbers repeat", source=source))
    bounded = [band.max_miles for band in service.zones[:-1]]
    if any(miles is None for miles in bounded):
        problems.append(Problem("max_miles", "only the last zone may be open-ended", source=source))
    limits = [m for m in bounded if m is not None]
    if limits != sorted(limits) or len(set(limits)) != len(limits):
        problems.append(Problem("max_miles", "zone distance bands must rise", source=source))
    if service.zones[-1].max_miles is not None:
        problems.append(
            Problem(
                "max_miles",
                "the last zone must be open-ended (leave max_miles empty)",
                source=source,
            )
        )
    for band in service.zones:
        if band.transit_days < 0:
            problems.append(
                Problem("transit_days", f"zone {band.zone}: must not be negative", source=source)
            )
    if not service.rates:
        problems.append(Problem("rates", "the rate table is empty", source=source))
        return problems
    known = set(numbers)
    for zone, weight in sorted(service.rates):
        if zone not in known:
            problems.append(
                Problem("zone", f"rate for zone {zone}, which has no distance band", source=source)
            )
        if service.rates[(zone, weight)] <= 0:
            problems.append(
                Problem("price", f"zone {zone}, {weight} lb: must be positive", source=source)
            )
    top = service.max_weight_lb
    for zone in numbers:
        missing = [w for w in range(1, top + 1) if (zone, w) not in service.rates]
        if missing:
            problems.append(
                Problem(
                    "rates", f"zone {zone} has no rate for {_ranges(missing)} lb", source=source
                )
            )
    return problems


def rate_inversions(service: CarrierService) -> list[str]:
    """Places where a heavier parcel or a farther zone costs less: legal, but usually a typo."""
    found: list[str] = []
    zones = sorted(band.zone for band in service.zones)
    for zone in zones:
        previous: tuple[int, float] | None = None
        for weight in service.weight_breaks:
            price = service.rates.get((zone, weight))
            if price is None:
                continue
            if previous is not None and price < previous[1]:
                found.append(
                    f"zone {zone}: {weight} lb costs {price:.2f}, less than {previous[0]} lb at {previous[1]:.2f}"
                )
            previous = (weight, price)
    for weight in service.weight_breaks:
        previous = None
        for zone in zones:
            price = service.rates.get((zone, weight))
            if price is None:
                continue
            if previous is not None and price < previous[1]:
                found.append(
                    f"{weight} lb: zone {zone} costs {price:.2f}, less than zone {previous[0]} at {previous[1]:.2f}"
                )
            previous = (zone, price)
    return found


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
