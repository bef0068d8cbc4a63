"""Offline US ZIP code directory, from the data set the `zipcodes` package embeds."""

from __future__ import annotations

import gc
from functools import cache

import zipcodes

from dom.domain.geo import Coordinates, ZipPlace


class ZipDirectory:
    """Look up ZIP codes in memory; built once per process (about 0.2 s, 42,000 entries)."""

    def __init__(self, places: dict[str, ZipPlace]) -> None:
        self._places = places

    def lookup(self, zip_code: str) -> ZipPlace | None:
        return self._places.get(zip_code)

    def destination(self, zip_code: str) -> ZipPlace | None:
        """The place of a ZIP code parcels can be sent to: known, with coordinates."""
        place = self.lookup(zip_code)
        return place if place is not None and place.has_location else None

    def __len__(self) -> int:
        return len(self._places)

    def places(self) -> list[ZipPlace]:
        return list(self._places.values())


@cache
def zip_directory() -> ZipDirectory:
    """Built once per process; then frozen out of the garbage collector's sight, since its
    200,000 objects live as long as the process and would otherwise be walked by every full
    collection (a third of an import's time before)."""
    gc.disable()
    try:
        directory = _build()
    finally:
        gc.enable()
    gc.freeze()
    return directory


def _build() -> ZipDirectory:
    places: dict[str, ZipPlace] = {}
    for entry in zipcodes.list_all():  # type: ignore[no-untyped-call]
        places[entry["zip_code"]] = ZipPlace(
            zip=entry["zip_code"],
            city=entry["city"].title(),
            state=entry["state"],
            timezone=entry["timezone"] or None,
            location=Coordinates(float(entry["lat"]), float(entry["long"])),
            active=bool(entry["active"]),
            other_cities=frozenset(c.title() for c in entry["acceptable_cities"]),
            kind=entry["zip_code_type"],
        )
    return ZipDirectory(places)
