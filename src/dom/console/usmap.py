"""A map of the United States drawn from local data: the ZIP code centroids, binned into dots.

The lower 48 use an Albers equal-area conic (standard parallels 29.5° and 45.5°), so the dots
are cells of equal area. Alaska, Hawaii and Puerto Rico with the US Virgin Islands are insets,
each with its own Albers projection and scale (Alaska shrunk, as on most US maps). Guam, the
other Pacific territories and military post codes are left out.

The background is static: it is built once per process and is one path filled with a dot
pattern, a few kilobytes whatever the number of ZIP codes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import groupby

from dom.adapters.zip_directory import zip_directory
from dom.domain.geo import Coordinates, ZipPlace
from dom.domain.network import US_STATES

WIDTH = 960
HEIGHT = 600
#: side of one dot cell in map units (about 37 km, a third of a degree, in the lower 48)
CELL = 7
#: the gap between dots, so the grid reads as dots rather than a solid shape
GAP = 1.5


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Albers:
    """Albers equal-area conic on a sphere; `project` returns unitless x east, y north."""

    origin_latitude: float
    central_longitude: float
    parallel_1: float
    parallel_2: float

    def project(self, where: Coordinates) -> Point:
        phi1, phi2 = math.radians(self.parallel_1), math.radians(self.parallel_2)
        n = (math.sin(phi1) + math.sin(phi2)) / 2
        c = math.cos(phi1) ** 2 + 2 * n * math.sin(phi1)
        rho0 = math.sqrt(c - 2 * n * math.sin(math.radians(self.origin_latitude))) / n
        rho = math.sqrt(c - 2 * n * math.sin(math.radians(where.latitude))) / n
        # Wrap longitudes so the western Aleutians (east of 180°) stay next to Alaska.
        delta = (where.longitude - self.central_longitude + 180) % 360 - 180
        theta = n * math.radians(delta)
        return Point(rho * math.sin(theta), rho0 - rho * math.cos(theta))


@dataclass(frozen=True)
class Region:
    """A part of the map: which states it shows, where their points may lie, and its frame."""

    name: str
    states: frozenset[str]
    south: float
    north: float
    west: float
    east: float
    projection: Albers
    frame: Box
    inset: bool

    def holds(self, state: str, where: Coordinates) -> bool:
        return (
            state in self.states
            and self.south <= where.latitude <= self.north
            and self.west <= where.longitude <= self.east
        )


#: the 48 contiguous states and DC: every code but Alaska, Hawaii, territories and military posts
LOWER_48 = US_STATES - {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"}

REGIONS = (
    Region(
        "Lower 48",
        LOWER_48,
        24.0,
        50.0,
        -125.5,
        -66.5,
        Albers(23.0, -96.0, 29.5, 45.5),
        Box(8, 8, WIDTH - 16, HEIGHT - 16),
        inset=False,
    ),
    Region(
        "Alaska",
        frozenset({"AK"}),
        51.0,
        72.0,
        -180.0,
        -129.0,
        Albers(50.0, -154.0, 55.0, 65.0),
        Box(12, 440, 196, 136),
        inset=True,
    ),
    Region(
        "Hawaii",
        frozenset({"HI"}),
        18.5,
        22.5,
        -161.0,
        -154.5,
        Albers(3.0, -157.0, 8.0, 18.0),
        Box(222, 490, 118, 86),
        inset=True,
    ),
    Region(
        "Puerto Rico & USVI",
        frozenset({"PR", "VI"}),
        17.5,
        18.7,
        -67.5,
        -64.4,
        Albers(17.0, -66.0, 17.5, 18.5),
        Box(812, 466, 140, 56),
        inset=True,
    ),
)


@dataclass(frozen=True)
class Fit:
    """Where a region's projected points land on the map: scale, then shift; y flipped."""

    scale: float
    dx: float
    dy: float

    def apply(self, p: Point) -> Point:
        return Point(p.x * self.scale + self.dx, -p.y * self.scale + self.dy)


def fit(points: Iterable[Point], frame: Box, margin: float = 6) -> Fit:
    """Scale and centre points into a frame, keeping their aspect ratio."""
    xs, ys = zip(*((p.x, p.y) for p in points), strict=True)
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    scale = min((frame.width - 2 * margin) / width, (frame.height - 2 * margin) / height)
    centre_x, centre_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return Fit(
        scale,
        frame.x + frame.width / 2 - centre_x * scale,
        frame.y + frame.height / 2 + centre_y * scale,
    )


class UsMap:
    """Places coordinates on the map and holds its background, built from the ZIP directory."""

    def __init__(self, places: Iterable[ZipPlace]) -> None:
        by_region: dict[Region, list[Point]] = {region: [] for region in REGIONS}
        for place in places:
            region = _region_of(place.state, place.location)
            if region is not None:
                by_region[region].append(region.projection.project(place.location))
        self._fits = {region: fit(points, region.frame) for region, points in by_region.items()}
        cells = {
            (math.floor(q.x / CELL), math.floor(q.y / CELL))
            for region, points in by_region.items()
            for q in map(self._fits[region].apply, points)
        }
        self.cell_count = len(cells)
        self.background = _background_svg(cells)

    def place(self, state: str, where: Coordinates) -> Point | None:
        """Where a location in a state is drawn, or None if the map does not show it."""
        region = _region_of(state, where)
        if region is None:
            return None
        return self._fits[region].apply(region.projection.project(where))


def _region_of(state: str, where: Coordinates) -> Region | None:
    return next((region for region in REGIONS if region.holds(state, where)), None)


def _background_svg(cells: set[tuple[int, int]]) -> str:
    """One path of row runs filled with a dot pattern aligned to the cell grid, plus inset frames."""
    runs: list[str] = []
    for row, in_row in groupby(sorted(cells, key=lambda c: (c[1], c[0])), key=lambda c: c[1]):
        columns = [column for column, _ in in_row]
        for _, run in groupby(enumerate(columns), key=lambda ic: ic[1] - ic[0]):
            run_columns = [column for _, column in run]
            x, width = run_columns[0] * CELL, len(run_columns) * CELL
            runs.append(f"M{x} {row * CELL}h{width}v{CELL}h-{width}z")
    dot = CELL - GAP
    frames = "".join(
        f'<rect class="inset" x="{r.frame.x}" y="{r.frame.y}" width="{r.frame.width}" '
        f'height="{r.frame.height}"/><text class="inset-label" x="{r.frame.x + 2}" '
        f'y="{r.frame.y + r.frame.height + 13}">{r.name.replace("&", "&amp;")}</text>'
        for r in REGIONS
        if r.inset
    )
    return (
        f'<defs><pattern id="dots" width="{CELL}" height="{CELL}" patternUnits="userSpaceOnUse">'
        f'<rect class="dot" width="{dot}" height="{dot}"/></pattern></defs>'
        f'<g class="background">{frames}<path class="land" fill="url(#dots)" d="{"".join(runs)}"/></g>'
    )


@cache
def us_map() -> UsMap:
    """The map, built once per process from the ZIP directory (about a second, then free)."""
    return UsMap(zip_directory().places())
