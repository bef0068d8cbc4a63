"""Notification shapes for the API: webhook subscriptions and deliveries, message templates,
customer messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com/hooks/dom",
                    "events": ["fulfilment.shipped", "order.cancelled"],
                    "description": "ERP",
                }
            ]
        },
    )

    url: str = Field(min_length=1, max_length=2000, description="http:// or https://")
    events: list[str] = Field(
        default_factory=lambda: ["*"], max_length=100, description='event types; ["*"]: all'
    )
    description: str = Field(default="", max_length=200)


class SubscriptionView(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    created_by: str


class CreatedSubscriptionView(SubscriptionView):
    secret: str = Field(
        description="Signs every delivery (Dom-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
        '"<t>.<body>">); shown only now'
    )


DeliveryStatus = Literal["pending", "delivered", "dead"]


class DeliveryView(BaseModel):
    id: int
    subscription_id: str
    outbox_id: int
    event_id: str
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class TemplateIn(BaseModel):
    model_config = Strict

    subject: str = Field(min_length=1, max_length=300, description="`$field` placeholders")
    body: str = Field(min_length=1, max_length=20_000, description="`$field` placeholders")


class TemplateView(BaseModel):
    event: str
    subject: str
    body: str
    edited: bool
    updated_at: datetime | None
    updated_by: str | None


class MessageView(BaseModel):
    id: int
    event_id: str
    event: str
    order_id: str
    to: str
    subject: str
    body: str
    status: Literal["pending", "sent", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
