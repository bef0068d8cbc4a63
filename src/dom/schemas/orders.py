"""Order shapes for the API: a channel's order in; an order with its lines, fulfilment requests
and history out; the bodies of the node's steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dom.domain.orders.lifecycle import HoldKind, Method, Status

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)
CODE = r"^[a-z][a-z0-9_-]*$"


class CustomerIn(BaseModel):
    model_config = Strict

    id: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=200)
    segment: str | None = Field(default=None, max_length=64, description="or loyalty tier")
    name: str | None = Field(default=None, max_length=200)


class AddressIn(BaseModel):
    model_config = Strict

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip: str = Field(pattern=r"^\d{5}$")
    residential: bool = True


class LineIn(BaseModel):
    model_config = Strict

    line_id: str | None = Field(
        default=None, max_length=64, description="defaults to the line's number"
    )
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(description="a positive whole number")
    unit_price: float = Field(default=0.0, description="in dollars")
    method: Method = Method.SHIP


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "channel": "web",
                    "external_id": "W-100234",
                    "customer": {"id": "c-77", "email": "ada@example.com", "segment": "gold"},
                    "ship_to": {
                        "name": "Ada Lovelace",
                        "line1": "350 Fifth Avenue",
                        "city": "New York",
                        "state": "NY",
                        "zip": "10118",
                    },
                    "lines": [
                        {"sku": "SKU-000042", "quantity": 2, "unit_price": 19.99},
                        {"sku": "SKU-000117", "quantity": 1, "unit_price": 49.0},
                    ],
                    "service_level": "ground",
                    "free_shipping": True,
                }
            ]
        },
    )

    channel: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=100, description="the channel's order id")
    customer: CustomerIn = Field(default_factory=CustomerIn)
    ship_to: AddressIn | None = None
    pickup_node_id: str | None = Field(
        default=None, max_length=64, description="the store for pickup and curbside lines"
    )
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    service_level: str = Field(default="ground", pattern=CODE, max_length=32)
    promise_by: date | None = Field(default=None, description="latest acceptable delivery date")
    free_shipping: bool = False
    gift: bool = False
    tags: list[str] = Field(default_factory=list, max_length=50)
    holds: list[HoldKind] = Field(
        default_factory=list, description="payment, fraud or address checks still to clear"
    )


class CancelIn(BaseModel):
    model_config = Strict

    line_ids: list[str] | None = Field(default=None, description="the whole order if left out")
    reason: str = Field(min_length=1, max_length=300)


class RejectIn(BaseModel):
    model_config = Strict

    line_ids: list[str] | None = Field(default=None, description="every line if left out")
    reason: str = Field(
        description="not_found or damaged (written off the node's stock), no_capacity, "
        "cannot_handle, other"
    )


class PickIn(BaseModel):
    model_config = Strict

    picked: dict[str, int] = Field(
        default_factory=dict, description="line id → units picked; lines left out: all of them"
    )


class PackageIn(BaseModel):
    model_config = Strict

    lines: dict[str, int] = Field(description="line id → units in the package")
    weight_lb: float | None = Field(default=None, gt=0)


class PackIn(BaseModel):
    model_config = Strict

    packages: list[PackageIn] = Field(
        default_factory=list, description="left out: everything in one package"
    )


class ShipIn(BaseModel):
    model_config = Strict

    carrier: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    tracking: list[str] = Field(min_length=1, description="one tracking number per package")


class PartView(BaseModel):
    line_id: str
    sku: str
    quantity: int
    picked: int | None


class PackageView(BaseModel):
    lines: dict[str, int]
    weight_lb: float | None
    tracking: str | None


class FulfilmentView(BaseModel):
    id: str
    order_id: str
    node_id: str
    method: Method
    status: Status
    parts: list[PartView]
    carrier: str | None
    service: str | None
    ship_on: date | None
    deliver_on: date | None = Field(description="promised when routed")
    expected_on: date | None = Field(description="the promise, pushed back if the node is late")
    packages: list[PackageView]
    reason: str | None
    ready_at: datetime | None
    transfer_to: str | None = Field(description="a transfer to this pickup store")
    planned_packages: int | None = Field(description="parcels as the router packed the lines")
    ship_with: list[str] = Field(
        description="the same customer's requests to the same address here: ship together"
    )
    at_risk_since: datetime | None
    created_at: datetime


class LineView(BaseModel):
    line_id: str
    sku: str
    quantity: int
    unit_price: float
    method: Method
    status: Status
    cancelled: int
    backordered: int
    waiting_because: str | None


class EntryView(BaseModel):
    at: datetime
    actor: str
    event: str
    detail: dict[str, Any]


class OrderView(BaseModel):
    id: str
    channel: str
    external_id: str
    status: Status
    customer: dict[str, Any]
    ship_to: dict[str, Any] | None
    pickup_node_id: str | None
    service_level: str
    promise_by: date | None
    free_shipping: bool
    gift: bool
    tags: list[str]
    holds: list[HoldKind]
    value: float
    lines: list[LineView]
    fulfilments: list[FulfilmentView]
    decisions: list[str] = Field(description="routing decisions: GET /v1/sourcing/decisions/{id}")
    tracking_url: str | None = Field(
        default=None, description="the customer's own tracking link (no API key needed)"
    )
    created_at: datetime
    sourced_at: datetime | None
    history: list[EntryView]


class OrderPageView(BaseModel):
    orders: list[OrderView]
    next_before: str | None = Field(description="pass as `before` for the next page")


class RequestView(BaseModel):
    """A fulfilment request as the node sees it."""

    kind: str = Field(description="purchase_order for a dropship vendor, else fulfilment_request")
    fulfilment: FulfilmentView
    order_id: str
    channel: str
    external_id: str
    ship_to: dict[str, Any] | None
    customer_name: str | None
    gift: bool


class ParcelView(BaseModel):
    method: Method
    status: Status
    carrier: str | None
    tracking: list[str]
    promised_on: date | None
    expected_on: date | None
    pickup_at: str | None


class MomentView(BaseModel):
    at: datetime
    event: str


class TrackingView(BaseModel):
    """What the customer sees."""

    external_id: str
    status: Status
    promise_by: date | None
    parcels: list[ParcelView]
    history: list[MomentView]
