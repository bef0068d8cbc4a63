"""The fulfilment network: nodes, what they can do, when they work and how much they can take."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from dom.domain.errors import InvalidField
from dom.domain.geo import Coordinates

NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "VI",
        "GU",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
    ]
)


class NodeType(StrEnum):
    DISTRIBUTION_CENTRE = "dc"
    STORE = "store"
    DROPSHIP_VENDOR = "dropship_vendor"
    THIRD_PARTY_WAREHOUSE = "third_party_warehouse"


class Capability(StrEnum):
    SHIP = "ship"
    SHIP_FROM_STORE = "ship_from_store"
    PICKUP_IN_STORE = "pickup_in_store"
    CURBSIDE = "curbside"
    ACCEPT_RETURNS = "accept_returns"


class Handling(StrEnum):
    HAZMAT = "hazmat"
    OVERSIZE = "oversize"
    REFRIGERATED = "refrigerated"
    HIGH_VALUE = "high_value"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS = tuple(Weekday)
MON_TO_FRI = frozenset(WEEKDAYS[:5])
MON_TO_SAT = frozenset(WEEKDAYS[:6])
EVERY_DAY = frozenset(WEEKDAYS)


class NodeStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str

    def __post_init__(self) -> None:
        if not self.city.strip():
            raise InvalidField("city", "is required")
        if self.state not in US_STATES:
            raise InvalidField("state", f"{self.state!r} is not a US state or territory code")
        if not re.fullmatch(r"\d{5}", self.zip):
            raise InvalidField("zip", f"{self.zip!r} is not a five-digit US ZIP code")


@dataclass(frozen=True)
class Capacity:
    """What a node can fulfil in one working day."""

    orders_per_day: int
    units_per_day: int
    labour_hours_per_day: float

    def __post_init__(self) -> None:
        for name in ("orders_per_day", "units_per_day", "labour_hours_per_day"):
            if getattr(self, name) < 0:
                raise InvalidField(
                    f"capacity_{name.removesuffix('_per_day')}", "must not be negative"
                )

    @property
    def is_empty(self) -> bool:
        return self.orders_per_day == 0 and self.units_per_day == 0


@dataclass(frozen=True)
class Calendar:
    """Working days, holidays, the daily order cutoff (node-local time) and processing days."""

    operating_days: frozenset[Weekday]
    holidays: frozenset[date] = frozenset()
    cutoff: time = time(14, 0)
    processing_days: int = 0

    def __post_init__(self) -> None:
        if self.processing_days < 0:
            raise InvalidField("processing_days", "must not be negative")

    def is_working_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.operating_days and day not in self.holidays


@dataclass(frozen=True)
class HandlingCost:
    """Pick and pack cost in dollars."""

    per_order: float
    per_unit: float

    def __post_init__(self) -> None:
        if self.per_order < 0:
            raise InvalidField("cost_per_order", "must not be negative")
        if self.per_unit < 0:
            raise InvalidField("cost_per_unit", "must not be negative")


@dataclass(frozen=True)
class Pause:
    """A node taken out of routing for a reason, from `starts_at` until `ends_at` (open if None)."""

    reason: str
    starts_at: datetime
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidField("pause_reason", "a pause needs a reason")
        if self.starts_at.tzinfo is None:
            raise InvalidField("pause_starts_at", "must carry a time zone")
        if self.ends_at is not None:
            if self.ends_at.tzinfo is None:
                raise InvalidField("pause_ends_at", "must carry a time zone")
            if self.ends_at <= self.starts_at:
                raise InvalidField("pause_ends_at", "must be after pause_starts_at")

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


@dataclass(frozen=True)
class Node:
    """A place that holds stock and fulfils: a distribution centre, store, vendor or 3PL."""

    id: str
    name: str
    type: NodeType
    address: Address
    location: Coordinates
    timezone: str
    capabilities: frozenset[Capability]
    handling: frozenset[Handling]
    capacity: Capacity
    calendar: Calendar
    cost: HandlingCost
    pause: Pause | None = field(default=None)

    def __post_init__(self) -> None:
        if not NODE_ID.fullmatch(self.id):
            raise InvalidField(
                "id",
                "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        if not self.name.strip():
            raise InvalidField("name", "is required")

    def status_at(self, moment: datetime) -> NodeStatus:
        if self.pause is not None and self.pause.covers(moment):
            return NodeStatus.PAUSED
        return NodeStatus.ACTIVE

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def handles(self, needs: frozenset[Handling]) -> bool:
        return needs <= self.handling
