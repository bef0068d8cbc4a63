"""Notification rules without storage or I/O: which events exist, how the relay retries, how a
webhook is signed and checked, which outbox ids the relay may take, and the customer message
templates with what they may say."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Template

from dom.domain.errors import Problem
from dom.domain.orders.lifecycle import Status

EVERY_EVENT = "*"
#: Every event type orders publish: what a webhook subscription may name.
EVENT_TYPES = frozenset(
    {
        "order.created",
        "order.held",
        "order.hold_released",
        "order.sourced",
        "order.resourced",
        "order.backordered",
        "order.status_changed",
        "order.cancelled",
        "order.at_risk",
        "lines.cancelled",
        "fulfilment.picked",
        "fulfilment.lines_rejected",
        "fulfilment.expired",
        "fulfilment.withdrawn",
        "fulfilment.transfer_arrived",
        "order.queued",
        *(f"fulfilment.{status.value}" for status in Status),
        *(f"transfer.{status.value}" for status in Status),
    }
)
#: Answers that may succeed later although they are 4xx: a timeout and a rate limit.
RETRYABLE_4XX = frozenset({408, 429})


@dataclass(frozen=True)
class Relay:
    """How the relay sends and retries; from the settings."""

    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(seconds=60)
    timeout_seconds: float = 10.0
    batch: int = 100
    #: How long a hole in the outbox ids is waited for before the relay steps over it.
    gap_wait: timedelta = timedelta(seconds=15)
    mail_from: str = "orders@dom.localhost"
    #: the service's public address and master key, for the customer's tracking link
    public_url: str = ""
    track_key: str = ""


@dataclass(frozen=True)
class MessageTemplate:
    subject: str
    body: str


_SIGN_OFF = "\n\nThank you for shopping with us.\n"
#: The customer messages shipped with dom, per event; the API edits them.
DEFAULT_TEMPLATES: Mapping[str, MessageTemplate] = {
    "order.sourced": MessageTemplate(
        "Your order $external_id is confirmed",
        "Hello $customer_name,\n\nwe have your order $external_id and are getting it ready.\n"
        "Expected by: $deliver_on.\nFollow it: $tracking_url" + _SIGN_OFF,
    ),
    "fulfilment.shipped": MessageTemplate(
        "Your order $external_id has shipped",
        "Hello $customer_name,\n\nyour order $external_id left with $carrier ($service).\n"
        "Tracking: $tracking\nExpected by: $deliver_on.\nFollow it: $tracking_url" + _SIGN_OFF,
    ),
    "fulfilment.ready_for_pickup": MessageTemplate(
        "Your order $external_id is ready for pickup",
        "Hello $customer_name,\n\nyour order $external_id is ready for you at\n"
        "$node_name, $node_address." + _SIGN_OFF,
    ),
    "order.at_risk": MessageTemplate(
        "Your order $external_id is delayed",
        "Hello $customer_name,\n\npart of your order $external_id is running late.\n"
        "Planned delivery: $planned_delivery\nNow expected by: $expected_delivery\n"
        "We will write again when it ships." + _SIGN_OFF,
    ),
    "fulfilment.delivered": MessageTemplate(
        "Your order $external_id was delivered",
        "Hello $customer_name,\n\nthe carrier reports your order $external_id delivered."
        + _SIGN_OFF,
    ),
    "order.cancelled": MessageTemplate(
        "Your order $external_id was cancelled",
        "Hello $customer_name,\n\nyour order $external_id was cancelled: $reason." + _SIGN_OFF,
    ),
}
#: What a template may use.
TEMPLATE_FIELDS = frozenset(
    {
        "order_id",
        "tracking_url",
        "external_id",
        "channel",
        "status",
        "customer_name",
        "fulfilment_id",
        "carrier",
        "service",
        "tracking",
        "node_name",
        "node_address",
        "ship_on",
        "deliver_on",
        "planned_delivery",
        "expected_delivery",
        "promise_by",
        "reason",
    }
)


def signing_secret(master_key: str, subscription_id: str) -> str:
    """A subscription's secret, derived rather than stored: HMAC-SHA256(master key, its id)."""
    digest = hmac.new(master_key.encode(), subscription_id.encode(), hashlib.sha256)
    return "whsec_" + digest.hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Dom-Signature` header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    signed = str(timestamp).encode() + b"." + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: the signature matches and is at most `tolerance` seconds old."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body)
    fresh = abs(now - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, header)


def settled(
    last: int, ids: Sequence[int], gap_since: datetime | None, now: datetime, wait: timedelta
) -> tuple[int, datetime | None]:
    """How many of the outbox ids after `last` the relay may take, and since when it has seen
    the hole it stops at. On PostgreSQL a transaction may hold a lower id than one already
    committed; the relay waits for it, and steps over a hole older than `wait` (its transaction
    rolled back)."""
    expected, seen = last + 1, gap_since
    for index, found in enumerate(ids):
        if found != expected and (seen is None or now - seen < wait):
            return index, seen or now
        expected, seen = found + 1, None
    return len(ids), None


def render(text: str, fields: Mapping[str, str]) -> str:
    return Template(text).safe_substitute(fields)


def backoff(relay: Relay, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: the base delay, doubled each time, capped."""
    delay: timedelta = relay.base_delay * 2 ** max(attempts - 1, 0)
    return min(delay, relay.max_delay)


def template_problems(field: str, text: str) -> list[Problem]:
    template = Template(text)
    if not template.is_valid():
        return [Problem(field, "a `$` starts no valid placeholder (write `$$` for a dollar)")]
    unknown = sorted(set(template.get_identifiers()) - TEMPLATE_FIELDS)
    return [Problem(field, f"unknown placeholder ${name}") for name in unknown]
