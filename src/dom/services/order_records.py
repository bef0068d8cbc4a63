"""Orders and fulfilment requests as database rows and JSON documents, and back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dom.domain.orders.lifecycle import HoldKind, Method, Status
from dom.domain.orders.model import (
    Address,
    Customer,
    Entry,
    Fulfilment,
    Order,
    OrderLine,
    Package,
    Part,
)
from dom.services.plan_records import plain


def order_row(order: Order, now: datetime) -> dict[str, Any]:
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status.value,
        "customer_id": order.customer.id,
        "created_at": order.created_at,
        "updated_at": now,
        "version": order.version,
        "document": order_document(order),
    }


def order_document(order: Order) -> dict[str, Any]:
    return {
        "customer": plain(order.customer),
        "ship_to": plain(order.ship_to),
        "pickup_node_id": order.pickup_node_id,
        "lines": plain(order.lines),
        "service_level": order.service_level,
        "promise_by": plain(order.promise_by),
        "free_shipping": order.free_shipping,
        "gift": order.gift,
        "tags": list(order.tags),
        "holds": sorted(order.holds),
        "cancelled": dict(order.cancelled),
        "waiting": dict(order.waiting),
        "sourced_at": order.sourced_at.isoformat() if order.sourced_at else None,
        "queued": order.queued,
        "decisions": list(order.decisions),
        "avoid": sorted([list(pair) for pair in order.avoid]),
    }


def order_from_rows(row: Any, fulfilment_rows: list[Any]) -> Order:
    doc = row.document
    ship_to = doc["ship_to"]
    return Order(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        customer=Customer(**doc["customer"]),
        lines=tuple(
            OrderLine(
                line["line_id"],
                line["sku"],
                line["quantity"],
                line["unit_price"],
                Method(line["method"]),
            )
            for line in doc["lines"]
        ),
        created_at=row.created_at,
        ship_to=Address(**ship_to) if ship_to else None,
        pickup_node_id=doc["pickup_node_id"],
        service_level=doc["service_level"],
        promise_by=date.fromisoformat(doc["promise_by"]) if doc["promise_by"] else None,
        free_shipping=doc["free_shipping"],
        gift=doc["gift"],
        tags=tuple(doc["tags"]),
        holds={HoldKind(kind) for kind in doc["holds"]},
        fulfilments=[fulfilment_from_row(f) for f in fulfilment_rows],
        cancelled=dict(doc["cancelled"]),
        waiting=dict(doc["waiting"]),
        sourced_at=datetime.fromisoformat(doc["sourced_at"]) if doc["sourced_at"] else None,
        queued=doc.get("queued", False),
        decisions=list(doc["decisions"]),
        avoid={(sku, node) for sku, node in doc["avoid"]},
        status=Status(row.status),
        version=row.version,
    )


def fulfilment_row(order_id: str, found: Fulfilment, now: datetime) -> dict[str, Any]:
    return {
        "id": found.id,
        "order_id": order_id,
        "node_id": found.node_id,
        "method": found.method.value,
        "status": found.status.value,
        "created_at": found.created_at,
        "updated_at": now,
        "document": {
            "parts": plain(found.parts),
            "carrier": found.carrier,
            "service": found.service,
            "ship_on": plain(found.ship_on),
            "deliver_on": plain(found.deliver_on),
            "packages": plain(found.packages),
            "reason": found.reason,
            "ready_at": found.ready_at.isoformat() if found.ready_at else None,
            "transfer_to": found.transfer_to,
            "planned_packages": found.planned_packages,
            "ship_with": list(found.ship_with),
            "at_risk_since": found.at_risk_since.isoformat() if found.at_risk_since else None,
        },
    }


def fulfilment_from_row(row: Any) -> Fulfilment:
    doc = row.document
    return Fulfilment(
        id=row.id,
        node_id=row.node_id,
        method=Method(row.method),
        status=Status(row.status),
        parts=[Part(**part) for part in doc["parts"]],
        created_at=row.created_at,
        carrier=doc["carrier"],
        service=doc["service"],
        ship_on=date.fromisoformat(doc["ship_on"]) if doc["ship_on"] else None,
        deliver_on=date.fromisoformat(doc["deliver_on"]) if doc["deliver_on"] else None,
        packages=[Package(**package) for package in doc["packages"]],
        reason=doc["reason"],
        ready_at=datetime.fromisoformat(doc["ready_at"]) if doc["ready_at"] else None,
        transfer_to=doc.get("transfer_to"),
        planned_packages=doc.get("planned_packages"),
        ship_with=list(doc.get("ship_with") or []),
        at_risk_since=_moment(doc.get("at_risk_since")),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def entry_rows(
    order: Order, entries: list[Entry], event_ids: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """History rows and outbox rows for the entries a command added."""
    history = [
        {
            "order_id": order.id,
            "at": entry.at,
            "actor": entry.actor,
            "event": entry.event,
            "detail": plain(entry.detail),
        }
        for entry in entries
    ]
    events = [
        {
            "event_id": event_id,
            "event": entry.event,
            "order_id": order.id,
            "occurred_at": entry.at,
            "payload": {
                "id": event_id,
                "type": entry.event,
                "occurred_at": entry.at.isoformat(),
                "actor": entry.actor,
                "order": {
                    "id": order.id,
                    "channel": order.channel,
                    "external_id": order.external_id,
                    "status": order.status.value,
                },
                "detail": plain(entry.detail),
            },
        }
        for entry, event_id in zip(entries, event_ids, strict=True)
    ]
    return history, events


def entry_from_row(row: Any) -> Entry:
    return Entry(row.at, row.actor, row.event, row.detail)
