"""Notifications: the relay that delivers the outbox as signed webhooks and customer messages,
and the subscriptions and templates behind them. (`order.at_risk`, the "delayed" message, is
published by the late-request job, `order_jobs.watch_late`.)

The relay works in three steps, each safe with any number of workers at once:

- fan-out: outbox rows after the cursor become one delivery per matching subscription and at
  most one customer message, and the cursor moves past them, in one transaction;
- delivery: a worker leases a due row (moves its `next_attempt_at` forward by the lease in a
  conditional UPDATE), sends, then records the outcome. A worker killed after the lease and
  before the record loses nothing: the lease runs out and the row is sent again, with the same
  event id, so receivers de-duplicate on it;
- failures are retried with exponential backoff, except answers that say the request itself is
  wrong (4xx), and dead-lettered after the last try; any delivery can be replayed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, Table

import dom
from dom.adapters import notification_store as store
from dom.adapters import order_store, webhook_sender
from dom.adapters.database import reading, writing
from dom.adapters.mail import Mailer, MailUnavailable, Undeliverable, compose
from dom.adapters.tables import customer_messages, webhook_deliveries
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, NotFound, Problem
from dom.domain.notifications import (
    DEFAULT_TEMPLATES,
    EVENT_TYPES,
    EVERY_EVENT,
    RETRYABLE_4XX,
    Relay,
    backoff,
    render,
    settled,
    signature,
    signing_secret,
    template_problems,
)
from dom.services import orders
from dom.services.tracking import tracking_path

log = logging.getLogger(__name__)


def master_key(engine: Engine, configured: str | None) -> str:
    """DOM_SECRET_KEY if set, else the random key kept in the database."""
    if configured:
        return configured
    with writing(engine) as connection:
        return store.master_key(connection)


# ---- fan-out ------------------------------------------------------------------------------------


def fan_out(engine: Engine, relay: Relay, now: datetime | None = None, limit: int = 500) -> int:
    """Turn new outbox events into deliveries and customer messages; returns how many events."""
    moment = now or datetime.now(UTC)
    with writing(engine) as connection:
        cursor = store.lock_cursor(connection)
        rows = order_store.outbox_after(connection, cursor.last_outbox_id, limit)
        taken, gap_since = settled(
            cursor.last_outbox_id, [r.id for r in rows], cursor.gap_since, moment, relay.gap_wait
        )
        chosen = rows[:taken]
        if chosen:
            targets = store.active_subscriptions(connection)
            store.insert_rows(connection, webhook_deliveries, _deliveries(chosen, targets, moment))
            store.insert_rows(
                connection, customer_messages, _messages(connection, chosen, moment, relay)
            )
        last = chosen[-1].id if chosen else cursor.last_outbox_id
        store.move_cursor(connection, last, gap_since)
    return len(chosen)


def wants(subscription: Any, event: str) -> bool:
    return EVERY_EVENT in subscription.events or event in subscription.events


def _deliveries(
    events: Sequence[Any], targets: Sequence[Any], now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "subscription_id": target.id,
            "outbox_id": event.id,
            "event_id": event.event_id,
            "event": event.event,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for target in targets
        if wants(target, event.event)
    ]


def _messages(
    connection: Connection, events: Sequence[Any], now: datetime, relay: Relay
) -> list[dict[str, Any]]:
    """A customer message for each event that has a template, when the order has an email."""
    wanted = [e for e in events if e.event in DEFAULT_TEMPLATES]
    if not wanted:
        return []
    edited = store.templates(connection)
    owners = order_store.orders_by_ids(connection, {e.order_id for e in wanted})
    requests = order_store.fulfilments_of_orders(connection, list(owners))
    places = store.node_places(
        connection,
        [f.node_id for rows in requests.values() for f in rows]
        + [o.document["pickup_node_id"] for o in owners.values() if o.document["pickup_node_id"]],
    )
    made = []
    for event in wanted:
        order_row = owners.get(event.order_id)
        if order_row is None:
            continue
        email = (order_row.document.get("customer") or {}).get("email")
        if not email:
            continue
        fields = _fields(order_row, requests[order_row.id], places, event.payload)
        fields["tracking_url"] = (
            relay.public_url + tracking_path(relay.track_key, order_row.id)
            if relay.track_key
            else ""
        )
        template = edited.get(event.event) or DEFAULT_TEMPLATES[event.event]
        made.append(
            {
                "outbox_id": event.id,
                "event_id": event.event_id,
                "event": event.event,
                "order_id": event.order_id,
                "to": email,
                "subject": render(template.subject, fields)[:300],
                "body": render(template.body, fields),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return made


def _fields(
    order_row: Any,
    request_rows: Sequence[Any],
    places: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> dict[str, str]:
    """What templates can say: the order, the event's details and the request it names."""
    doc = order_row.document
    detail = payload.get("detail") or {}
    requests = {f.id: f for f in request_rows}
    request = requests.get(str(detail.get("fulfilment", "")))
    summaries = detail.get("fulfilments") or []
    node_id = request.node_id if request else doc.get("pickup_node_id")
    place = places.get(node_id) if node_id else None
    deliver_on = [s.get("deliver_on") for s in summaries if s.get("deliver_on")]
    if request is not None and request.document.get("deliver_on"):
        deliver_on = [request.document["deliver_on"]]
    return {
        "order_id": order_row.id,
        "external_id": order_row.external_id,
        "channel": order_row.channel,
        "status": payload.get("order", {}).get("status", order_row.status),
        "customer_name": (doc.get("customer") or {}).get("name") or "customer",
        "fulfilment_id": request.id if request else "",
        "carrier": str(
            detail.get("carrier") or (request and request.document.get("carrier")) or ""
        ),
        "service": str(
            detail.get("service") or (request and request.document.get("service")) or ""
        ),
        "tracking": ", ".join(str(number) for number in detail.get("tracking") or []),
        "node_name": place.name if place else "",
        "node_address": f"{place.address_line1}, {place.city}, {place.state} {place.zip}"
        if place
        else "",
        "ship_on": str(
            detail.get("ship_on") or (request and request.document.get("ship_on")) or ""
        ),
        "deliver_on": max(deliver_on) if deliver_on else "soon",
        "planned_delivery": str(detail.get("planned_delivery") or ""),
        "expected_delivery": str(detail.get("expected_delivery") or "later than planned"),
        "promise_by": str(doc.get("promise_by") or ""),
        "reason": str(detail.get("reason") or ""),
    }


# ---- delivery -----------------------------------------------------------------------------------


def deliver_webhooks(engine: Engine, relay: Relay, key: str, now: datetime | None = None) -> int:
    """Lease due deliveries, POST them, record what happened; returns how many were tried."""
    moment = now or datetime.now(UTC)
    lease = moment + relay.lease
    claimed = claim_due(engine, webhook_deliveries, relay, moment)
    if not claimed:
        return 0
    with reading(engine) as connection:
        rows = store.claimed_deliveries(connection, claimed)
    with webhook_sender.client(relay.timeout_seconds) as session:
        for row in rows:
            answer = _call(session, row, signing_secret(key, row.subscription_id))
            _record_call(engine, relay, row, lease, answer, moment)
    return len(rows)


def claim_due(engine: Engine, table: Table, relay: Relay, now: datetime) -> list[int]:
    """Lease up to a batch of due rows of `table` for this worker; their ids."""
    with writing(engine) as connection:
        due = store.due_ids(connection, table, now, relay.batch)
        return [i for i in due if store.claim(connection, table, i, now, now + relay.lease)]


def _call(session: Any, row: Any, secret: str) -> webhook_sender.Answer:
    body = json.dumps(row.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"dom-webhooks/{dom.__version__}",
        "Dom-Event-Id": row.event_id,
        "Dom-Event-Type": row.event,
        "Dom-Delivery-Id": str(row.id),
        "Dom-Signature": signature(secret, int(time.time()), body),
    }
    return webhook_sender.post(session, row.url, body, headers)


def _record_call(
    engine: Engine,
    relay: Relay,
    row: Any,
    lease: datetime,
    answer: webhook_sender.Answer,
    now: datetime,
) -> None:
    code = answer.status_code
    outcome: dict[str, Any] = {"last_status_code": code, "last_error": answer.error}
    if code is not None and 200 <= code < 300:
        outcome |= {"status": "delivered", "delivered_at": now, "last_error": None}
    elif code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX:
        outcome |= {"status": "dead"}  # the receiver says the request is wrong: never retried
    else:
        outcome |= _retry_or_dead(relay, row.attempts, now)
    with writing(engine) as connection:
        store.finish(connection, webhook_deliveries, row.id, lease, outcome)
    if outcome["status"] == "dead":
        log.warning("webhook %s to %s dead after %d tries: %s", row.id, row.url, row.attempts, code)


def _retry_or_dead(relay: Relay, attempts: int, now: datetime) -> dict[str, Any]:
    if attempts >= relay.max_attempts:
        return {"status": "dead"}
    return {"status": "pending", "next_attempt_at": now + backoff(relay, attempts)}


def send_messages(engine: Engine, relay: Relay, mailer: Mailer, now: datetime | None = None) -> int:
    """Lease due customer messages, hand them to the mailer, record; returns how many tried."""
    moment = now or datetime.now(UTC)
    lease = moment + relay.lease
    claimed = claim_due(engine, customer_messages, relay, moment)
    if not claimed:
        return 0
    with reading(engine) as connection:
        rows = store.rows_by_id(connection, customer_messages, claimed)
    for row in rows:
        message = compose(relay.mail_from, row.to, row.subject, row.body, row.event_id, row.event)
        try:
            mailer.send(message)
            outcome: dict[str, Any] = {"status": "sent", "sent_at": moment, "last_error": None}
        except Undeliverable as error:
            outcome = {"status": "dead", "last_error": str(error)[:500]}
        except MailUnavailable as error:
            outcome = {"last_error": str(error)[:500]} | _retry_or_dead(relay, row.attempts, moment)
        with writing(engine) as connection:
            store.finish(connection, customer_messages, row.id, lease, outcome)
    return len(rows)


# ---- subscriptions, deliveries, templates, messages (the API's side) ----------------------------


def create_subscription(
    engine: Engine,
    principal: Principal,
    key: str,
    url: str,
    events: Collection[str],
    description: str = "",
    now: datetime | None = None,
) -> tuple[dict[str, Any], str]:
    """Subscribe a URL to event types (`*`: all); returns it and its signing secret, which is
    shown this once."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    problems = _url_problems(url) + _event_problems(events)
    if problems:
        raise InvalidInput(problems)
    subscription_id = "wh_" + secrets.token_hex(8)
    row: dict[str, Any] = {
        "id": subscription_id,
        "url": url,
        "events": [EVERY_EVENT] if EVERY_EVENT in events else sorted(set(events)),
        "description": description,
        "active": True,
        "created_at": now or datetime.now(UTC),
        "created_by": principal.name,
    }
    with writing(engine) as connection:
        store.insert_subscription(connection, row)
    return row, signing_secret(key, subscription_id)


def _url_problems(url: str) -> list[Problem]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Problem("url", "must be an absolute http:// or https:// URL")]
    return []


def _event_problems(events: Collection[str]) -> list[Problem]:
    if not events:
        return [Problem("events", f"name at least one event type, or {EVERY_EVENT!r} for all")]
    return [
        Problem("events", f"unknown event type {event!r}")
        for event in sorted(set(events))
        if event != EVERY_EVENT and event not in EVENT_TYPES
    ]


def subscriptions(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with reading(engine) as connection:
        return [dict(row._mapping) for row in store.subscriptions(connection)]


def pause_subscription(
    engine: Engine, principal: Principal, subscription_id: str
) -> dict[str, Any]:
    """Send it nothing new: events while it is paused are not queued for it (retries already
    queued go on)."""
    return _set_active(engine, principal, subscription_id, False)


def resume_subscription(
    engine: Engine, principal: Principal, subscription_id: str
) -> dict[str, Any]:
    """Queue events for it again, from the next one fanned out."""
    return _set_active(engine, principal, subscription_id, True)


def _set_active(
    engine: Engine, principal: Principal, subscription_id: str, active: bool
) -> dict[str, Any]:
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with writing(engine) as connection:
        row = store.set_active(connection, subscription_id, active)
    if row is None:
        raise NotFound("webhook subscription", subscription_id)
    return dict(row._mapping)


def delete_subscription(engine: Engine, principal: Principal, subscription_id: str) -> None:
    """Stop sending to a subscription; its deliveries go with it."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with writing(engine) as connection:
        if not store.delete_subscription(connection, subscription_id):
            raise NotFound("webhook subscription", subscription_id)


def deliveries(
    engine: Engine,
    principal: Principal,
    status: str | None = None,
    subscription_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Deliveries, newest first."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with reading(engine) as connection:
        found = store.deliveries(connection, status, subscription_id, limit)
        return [dict(row._mapping) for row in found]


def replay_delivery(
    engine: Engine, principal: Principal, delivery_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Send a delivery again (dead, delivered or pending), same event id, a fresh count of tries."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with writing(engine) as connection:
        if not store.replay(connection, webhook_deliveries, delivery_id, now or datetime.now(UTC)):
            raise NotFound("webhook delivery", str(delivery_id))
        return dict(store.get_row(connection, webhook_deliveries, delivery_id)._mapping)


def templates(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    """Every message template in use: edited ones, and the defaults for the rest."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with reading(engine) as connection:
        edited = store.templates(connection)
    return [_template_view(event, edited.get(event)) for event in sorted(DEFAULT_TEMPLATES)]


def _template_view(event: str, edited: Any) -> dict[str, Any]:
    shown = edited or DEFAULT_TEMPLATES[event]
    return {
        "event": event,
        "subject": shown.subject,
        "body": shown.body,
        "edited": edited is not None,
        "updated_at": edited.updated_at if edited else None,
        "updated_by": edited.updated_by if edited else None,
    }


def save_template(
    engine: Engine,
    principal: Principal,
    event: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Replace the message an event sends; placeholders are `$name` fields of TEMPLATE_FIELDS."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    if event not in DEFAULT_TEMPLATES:
        raise NotFound("message template", event)
    problems = template_problems("subject", subject) + template_problems("body", body)
    if problems:
        raise InvalidInput(problems)
    row = {
        "event": event,
        "subject": subject,
        "body": body,
        "updated_at": now or datetime.now(UTC),
        "updated_by": principal.name,
    }
    with writing(engine) as connection:
        store.save_template(connection, row)
        return _template_view(event, store.templates(connection)[event])


def reset_template(engine: Engine, principal: Principal, event: str) -> dict[str, Any]:
    """Go back to the message dom ships for the event."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    if event not in DEFAULT_TEMPLATES:
        raise NotFound("message template", event)
    with writing(engine) as connection:
        store.delete_template(connection, event)
    return _template_view(event, None)


def order_messages(engine: Engine, principal: Principal, order_id: str) -> list[dict[str, Any]]:
    """The customer messages an order sent or will send."""
    orders.order(engine, principal, order_id)  # the caller may see it
    with reading(engine) as connection:
        return [dict(row._mapping) for row in store.messages_of(connection, order_id)]


def delivery_counts(engine: Engine, principal: Principal) -> dict[str, dict[str, int]]:
    """How many deliveries each subscription has, per status (subscription id -> status -> n)."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with reading(engine) as connection:
        return store.delivery_counts(connection)


def recent_messages(engine: Engine, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """Customer messages of every order, newest first."""
    principal.require(Action.MANAGE_NOTIFICATIONS)
    with reading(engine) as connection:
        return [dict(row._mapping) for row in store.recent_messages(connection, limit)]
