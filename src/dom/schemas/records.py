"""Master-data records: one flat shape per kind, shared by the API, JSON and CSV files.

List-valued fields are JSON arrays, or ';'-separated cells in CSV.
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from dom.domain.network import Capability, Handling, NodeType, Weekday


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: fields that hold lists (split on ';' in CSV cells)
    list_fields: ClassVar[frozenset[str]] = frozenset()


class NodeRecord(Record):
    """A fulfilment node. Latitude, longitude and time zone default to those of the ZIP code."""

    list_fields: ClassVar[frozenset[str]] = frozenset(
        {"capabilities", "handling", "operating_days", "holidays"}
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "store-0112",
                    "name": "Store 112 Columbus Easton",
                    "type": "store",
                    "address_line1": "4000 Easton Station",
                    "city": "Columbus",
                    "state": "OH",
                    "zip": "43219",
                    "capabilities": ["ship_from_store", "pickup_in_store", "curbside"],
                    "handling": ["high_value"],
                    "capacity_orders": 120,
                    "capacity_units": 300,
                    "capacity_labour_hours": 40,
                    "operating_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "holidays": ["2026-12-25"],
                    "cutoff": "15:00",
                    "processing_days": 0,
                    "cost_per_order": 6.5,
                    "cost_per_unit": 0.9,
                }
            ]
        }
    )

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    )
    name: str = Field(min_length=1, max_length=200)
    type: NodeType
    address_line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=2)
    zip: str = Field(pattern=r"^\d{5}$", description="five-digit US ZIP code")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    timezone: str | None = Field(default=None, description="IANA time zone; default: the ZIP's")
    capabilities: list[Capability] = Field(default_factory=list)
    handling: list[Handling] = Field(default_factory=list)
    capacity_orders: int = Field(ge=0, description="orders per working day")
    capacity_units: int = Field(ge=0, description="units per working day")
    capacity_labour_hours: float = Field(ge=0, description="labour hours per working day")
    operating_days: list[Weekday]
    holidays: list[date] = Field(default_factory=list)
    cutoff: time = Field(default=time(14, 0), description="daily order cutoff, node-local time")
    processing_days: int = Field(default=0, ge=0, le=30)
    cost_per_order: float = Field(ge=0, description="pick/pack dollars per order")
    cost_per_unit: float = Field(ge=0, description="pick/pack dollars per unit")
    pause_reason: str | None = Field(default=None, max_length=200)
    pause_starts_at: AwareDatetime | None = None
    pause_ends_at: AwareDatetime | None = None

    @field_serializer("cutoff")
    def _hours_and_minutes(self, cutoff: time) -> str:
        return cutoff.strftime("%H:%M")


class ProductRecord(Record):
    """A SKU. Dimensions and weight are required unless the item is not stock-tracked."""

    list_fields: ClassVar[frozenset[str]] = frozenset({"handling"})

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "SKU-000042",
                    "name": "Cast iron skillet 12 in",
                    "length": 20,
                    "width": 13,
                    "height": 3,
                    "dimension_unit": "in",
                    "weight": 8.2,
                    "weight_unit": "lb",
                    "handling": [],
                    "ship_alone": False,
                    "stock_tracked": True,
                }
            ]
        }
    )

    sku: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$",
        description="1-64 letters, digits or '._-/', starting with a letter or digit",
    )
    name: str = Field(min_length=1, max_length=200)
    length: float | None = None
    width: float | None = None
    height: float | None = None
    dimension_unit: str = "in"
    weight: float | None = None
    weight_unit: str = "lb"
    handling: list[Handling] = Field(default_factory=list)
    ship_alone: bool = False
    stock_tracked: bool = True


class ZoneRecord(Record):
    zone: int = Field(ge=1, le=99)
    max_miles: float | None = Field(default=None, gt=0, description="empty for the last zone")
    transit_days: int = Field(ge=0, le=30)


class RateRecord(Record):
    zone: int = Field(ge=1, le=99)
    weight_lb: int = Field(ge=1, le=1000, description="weight break in whole pounds")
    price: float = Field(gt=0)


class ServiceRecord(Record):
    """A carrier service. In JSON it carries its zones and rates; in CSV they are separate files."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "carrier": "parcelco",
                    "service": "ground",
                    "name": "ParcelCo Ground",
                    "service_level": "ground",
                    "dim_divisor": 139,
                    "residential_surcharge": 5.75,
                    "fuel_surcharge_pct": 8,
                    "pickup_days": ["mon", "tue", "wed", "thu", "fri"],
                    "zones": [
                        {"zone": 2, "max_miles": 150, "transit_days": 2},
                        {"zone": 3, "max_miles": None, "transit_days": 3},
                    ],
                    "rates": [
                        {"zone": 2, "weight_lb": 1, "price": 10.1},
                        {"zone": 2, "weight_lb": 2, "price": 10.2},
                        {"zone": 3, "weight_lb": 1, "price": 10.4},
                        {"zone": 3, "weight_lb": 2, "price": 10.6},
                    ],
                }
            ]
        }
    )

    list_fields: ClassVar[frozenset[str]] = frozenset({"pickup_days"})

    carrier: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    service_level: str = Field(min_length=1, max_length=32)
    dim_divisor: float = Field(gt=0)
    residential_surcharge: float = Field(ge=0)
    fuel_surcharge_pct: float = Field(ge=0, le=100)
    pickup_days: list[Weekday]
    zones: list[ZoneRecord] = Field(default_factory=list)
    rates: list[RateRecord] = Field(default_factory=list)


class ServiceZoneRow(ZoneRecord):
    """A zone band in the CSV form: one row per carrier, service and zone."""

    carrier: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=32)


class ServiceRateRow(RateRecord):
    """A rate in the CSV form: one row per carrier, service, zone and weight break."""

    carrier: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=32)
