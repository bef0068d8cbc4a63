"""Inventory shapes for the API: events in, reservations in and out, positions out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from dom.domain.inventory import EventKind, Method, SupplyKind

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "idempotency_key": "wms-reno-2026-11-25-000123",
                    "kind": "snapshot",
                    "sku": "SKU-000042",
                    "node_id": "dc-reno",
                    "quantity": 118,
                    "source": "reno-wms",
                    "source_time": "2026-11-25T06:00:00Z",
                }
            ]
        },
    )

    idempotency_key: str = Field(min_length=1, max_length=200, description="a repeat applies once")
    kind: EventKind
    sku: str = Field(min_length=1, max_length=64)
    node_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(
        description="snapshot: the count (≥ 0); adjustment: a signed delta; others: units (> 0)"
    )
    source: str = Field(min_length=1, max_length=100, description="the reporting system")
    source_time: AwareDatetime = Field(description="when it happened at the source")
    reason: str | None = Field(default=None, max_length=100, description="reason code")
    supply_id: str | None = Field(
        default=None, max_length=64, description="a receipt's inbound line (PO, transfer, ASN)"
    )


class EventsIn(BaseModel):
    model_config = Strict

    events: list[EventIn] = Field(min_length=1, max_length=50_000)


class PositionView(BaseModel):
    sku: str
    node_id: str
    on_hand: int
    reserved: int = Field(description="held by reservations still in force")
    allocated: int
    safety_stock: int
    available: int
    snapshot_at: datetime | None


class EventOutcomeView(BaseModel):
    idempotency_key: str
    applied: bool
    note: str | None
    uncovered: int = Field(description="allocated units a short count left uncovered (re-route)")
    holds_released: int
    replayed: bool = Field(description="true when this key was seen before")
    position: PositionView


class EventsOut(BaseModel):
    outcomes: list[EventOutcomeView]


class LineIn(BaseModel):
    model_config = Strict

    sku: str = Field(min_length=1, max_length=64)
    node_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="leave out to hold at the best node: fewest nodes, nearest `zip` first",
    )
    quantity: int = Field(gt=0)


class ReservationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "reference": "cart-8812",
                    "lines": [{"sku": "SKU-000042", "node_id": "dc-reno", "quantity": 2}],
                    "expires_at": "2026-11-25T19:00:00Z",
                }
            ]
        },
    )

    reference: str = Field(min_length=1, max_length=100, description="cart or order id")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    expires_at: AwareDatetime
    partial: bool = Field(default=False, description="hold what is available instead of nothing")
    method: Method = Field(
        default=Method.SHIP, description="pickup holds may use a store's safety stock"
    )
    channel: str | None = Field(
        default=None, max_length=64, description="selling channel (a channel key's own wins)"
    )
    zip: str | None = Field(
        default=None,
        pattern=r"^\d{5}$",
        description="ship-to ZIP code: lines without a node are held nearest to it",
    )


class HeldLineView(BaseModel):
    sku: str
    node_id: str
    requested: int
    held: int


class ShortageView(BaseModel):
    sku: str
    node_id: str | None = Field(description="null: no eligible node has any of it")
    requested: int
    available: int


class ReservationOut(BaseModel):
    id: str
    reference: str
    expires_at: datetime
    lines: list[HeldLineView]
    shortages: list[ShortageView]


class ExtendIn(BaseModel):
    model_config = Strict

    expires_at: AwareDatetime


class HistoryEntry(BaseModel):
    idempotency_key: str
    kind: EventKind
    quantity: int
    reason: str | None
    source: str
    source_time: datetime
    recorded_at: datetime
    recorded_by: str
    applied: bool
    note: str | None
    on_hand_after: int
    uncovered: int


Sku = Annotated[str, Field(min_length=1, max_length=64)]
Units = Annotated[int, Field(ge=0)]


@with_config(Strict)
class CountIn(TypedDict):
    """One SKU's count. A TypedDict, not a model: a full count of 20,000 positions validates in
    about 60 % of the time when each count is a dict rather than a model instance."""

    sku: Sku
    quantity: Units


class NodeSyncIn(BaseModel):
    """A full count of one node: SKUs it holds that the count leaves out are counted as zero."""

    model_config = Strict

    idempotency_key: str = Field(min_length=1, max_length=150)
    source: str = Field(min_length=1, max_length=100)
    source_time: AwareDatetime
    counts: list[CountIn] | None = Field(
        None, max_length=200_000, description="the count, SKU by SKU; or give `quantities`"
    )
    quantities: dict[Sku, Units] | None = Field(
        None,
        max_length=200_000,
        description="the same count in compact form, SKU → units counted (for large counts: "
        "about a third of the time to read); give this or `counts`, not both",
    )


class NodeSyncOut(BaseModel):
    node_id: str
    positions: int
    applied: int
    replayed: int
    uncovered: int = Field(description="allocated units the count left uncovered (re-route)")


class SafetyStockIn(BaseModel):
    model_config = Strict

    quantity: int = Field(ge=0, description="units kept back from shipping")


class ExclusionsIn(BaseModel):
    model_config = Strict

    node_ids: list[str] = Field(max_length=10_000, description="nodes left out of the channel")


class ExclusionsOut(BaseModel):
    channel: str
    node_ids: list[str]


class NodeAvailabilityView(BaseModel):
    node_id: str
    available: int


class AvailabilityView(BaseModel):
    sku: str
    available: int = Field(description="network total for the method and channel")
    nodes: list[NodeAvailabilityView]


class SupplyLineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "purchase_order",
                    "reference": "PO-77812",
                    "sku": "SKU-000042",
                    "node_id": "dc-reno",
                    "quantity": 240,
                    "expected_on": "2026-12-03",
                }
            ]
        },
    )

    kind: SupplyKind
    reference: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=64)
    node_id: str = Field(min_length=1, max_length=64, description="where it arrives")
    quantity: int = Field(gt=0)
    expected_on: date
    from_node_id: str | None = Field(default=None, max_length=64, description="a transfer's source")


class SupplyIn(BaseModel):
    model_config = Strict

    lines: list[SupplyLineIn] = Field(min_length=1, max_length=10_000)


class SupplyView(BaseModel):
    id: str
    kind: SupplyKind
    sku: str
    node_id: str
    remaining: int
    expected_on: date


class PromiseView(BaseModel):
    sku: str
    quantity: int
    available_now: int
    promise_date: date | None = Field(
        description="first day the quantity can be promised; null: never"
    )
    supply: list[SupplyView]


class CartLineIn(BaseModel):
    model_config = Strict

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0)


class PromiseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "lines": [{"sku": "SKU-000042", "quantity": 2}],
                    "zip": "10001",
                    "residential": True,
                }
            ]
        },
    )

    lines: list[CartLineIn] = Field(min_length=1, max_length=100)
    zip: str | None = Field(default=None, pattern=r"^\d{5}$", description="ship-to ZIP code")
    pickup_store: str | None = Field(default=None, max_length=64, description="or a pickup store")
    residential: bool = True
    channel: str | None = Field(default=None, max_length=64)


class ShipmentView(BaseModel):
    node_id: str
    lines: list[CartLineIn]
    carrier: str
    service: str
    ship_on: date
    deliver_on: date
    cost: float


class ServicePromiseView(BaseModel):
    service_level: str
    deliver_on: date
    cost: float = Field(description="shipping with surcharges plus pick/pack, in dollars")
    shipments: list[ShipmentView]


class PickupView(BaseModel):
    store_id: str
    ready_on: date | None
    missing: list[CartLineIn]


class CartPromiseView(BaseModel):
    promises: list[ServicePromiseView] = Field(description="earliest delivery first")
    unavailable: list[str] = Field(description="service levels no node can make")
    pickup: PickupView | None = None


class TotalsView(BaseModel):
    sku: str
    nodes: int = Field(description="nodes holding a position")
    on_hand: int
    reserved: int
    allocated: int
    available: int = Field(description="available to ship, safety stock kept back")
