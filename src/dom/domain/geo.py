"""Coordinates and great-circle distance."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dom.domain.errors import InvalidField

EARTH_RADIUS_MILES = 3958.7613


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise InvalidField("latitude", "must be between -90 and 90")
        if not -180 <= self.longitude <= 180:
            raise InvalidField("longitude", "must be between -180 and 180")


def miles_between(a: Coordinates, b: Coordinates) -> float:
    """Great-circle (haversine) distance in statute miles."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class ZipPlace:
    """What the postal directory knows about a five-digit ZIP code."""

    zip: str
    city: str
    state: str
    timezone: str | None
    location: Coordinates
    active: bool
    other_cities: frozenset[str] = frozenset()
    kind: str = "STANDARD"  # or PO BOX, UNIQUE (one organisation), MILITARY

    @property
    def is_standard(self) -> bool:
        """A street-delivery ZIP, where a store or a warehouse can stand."""
        return self.kind == "STANDARD"

    @property
    def has_location(self) -> bool:
        """Some directory entries (military, a few unique ZIPs) carry (0, 0) for unknown."""
        return (self.location.latitude, self.location.longitude) != (0.0, 0.0)

    def accepts_city(self, city: str) -> bool:
        wanted = city.strip().casefold()
        return wanted == self.city.casefold() or wanted in {c.casefold() for c in self.other_cities}
