"""The console's notifications page: webhook subscriptions with their deliveries counted by
status, the newest deliveries (of one status if asked) and the newest customer messages (or one
order's), for a key that may manage notifications (an admin).

Its buttons are forms that post here and come back to the page (post/redirect/get). Like the
console's other forms they ride on the SameSite=Strict session cookie and refuse a post whose
Origin is another site. Signing secrets are never stored, so never shown; a password or query in
a subscription's URL is masked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from dom.console.pages import (
    NOTIFICATIONS_URL,
    cross_site,
    engine_of,
    refused_cross_site,
    render,
    signed_in,
    templates,
    to_login,
)
from dom.domain.access import Principal
from dom.domain.errors import Forbidden, NotFound
from dom.schemas.notifications import DeliveryStatus
from dom.services import notifications

SHOWN = 100
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)
#: the largest id the databases store (a signed 64-bit integer)
LARGEST_ID = 2**63 - 1
MASK = "***"

router = APIRouter(include_in_schema=False)
templates.globals.update(delivery_statuses=DELIVERY_STATUSES)


@dataclass(frozen=True)
class SubscriptionRow:
    """A subscription as the page shows it: where it sends, what, and how its deliveries stand."""

    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    delivered: int
    pending: int
    dead: int


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as the page shows it: the event, where it goes, and how its last try went."""

    id: int
    event: str
    event_id: str
    url: str
    status: str
    attempts: int
    outcome: str
    next_attempt_at: datetime | None

    @property
    def replayable(self) -> bool:
        """Done with (delivered or dead): a replay sends it again; a pending one is still going."""
        return self.status != "pending"


# ---- the page ------------------------------------------------------------------------------


@router.get(NOTIFICATIONS_URL)
def notifications_page(request: Request, status: str = "", order: str = "") -> Response:
    """Subscriptions, the newest deliveries (only `status` ones if asked) and the newest customer
    messages (only `order`'s if asked)."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    engine = engine_of(request)
    try:
        subscriptions = notifications.subscriptions(engine, principal)  # refuses who may not
        if status and status not in DELIVERY_STATUSES:
            known = ", ".join(DELIVERY_STATUSES)
            reason = f"No delivery status {status!r}: it is one of {known}"
            return render("refused.html", status_code=400, principal=principal, reason=reason)
        counts = notifications.delivery_counts(engine, principal)
        deliveries = notifications.deliveries(engine, principal, status or None, limit=SHOWN)
        messages = (
            notifications.order_messages(engine, principal, order)
            if order
            else notifications.recent_messages(engine, principal, SHOWN)
        )
    except NotFound:
        return render(
            "refused.html", status_code=404, principal=principal, reason=f"No order {order}"
        )
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    urls = {s["id"]: shown_url(s["url"]) for s in subscriptions}
    return render(
        "notifications.html",
        principal=principal,
        current="notifications",
        subscriptions=[subscription_row(s, counts.get(s["id"], {})) for s in subscriptions],
        # a subscription made after it was read may already have deliveries
        deliveries=[delivery_row(d, urls.get(d["subscription_id"], "—")) for d in deliveries],
        messages=messages,
        wanted=status,
        order=order,
    )


# ---- the forms -----------------------------------------------------------------------------


@router.post(NOTIFICATIONS_URL + "/deliveries/{delivery_id}/replay")
def replay(request: Request, delivery_id: str) -> Response:
    """Send a delivery again (same event id, fresh count of tries); back to its row."""

    def change(engine: Engine, principal: Principal) -> None:
        notifications.replay_delivery(engine, principal, _row_id(delivery_id))

    back = f"{NOTIFICATIONS_URL}#delivery-{delivery_id}"
    return _change(request, change, f"No webhook delivery {delivery_id}", back)


@router.post(NOTIFICATIONS_URL + "/subscriptions/{subscription_id}/pause")
def pause(request: Request, subscription_id: str) -> Response:
    """Queue nothing new for a subscription; back to its row."""

    def change(engine: Engine, principal: Principal) -> None:
        notifications.pause_subscription(engine, principal, subscription_id)

    return _change(request, change, *_subscription_refs(subscription_id))


@router.post(NOTIFICATIONS_URL + "/subscriptions/{subscription_id}/resume")
def resume(request: Request, subscription_id: str) -> Response:
    """Queue events for a subscription again; back to its row."""

    def change(engine: Engine, principal: Principal) -> None:
        notifications.resume_subscription(engine, principal, subscription_id)

    return _change(request, change, *_subscription_refs(subscription_id))


def _change(
    request: Request, change: Callable[[Engine, Principal], None], missing: str, back: str
) -> Response:
    """Make a form's change as the signed-in key, then back to the page; refused when posted from
    another site, when the key may not, or when what it names does not exist (`missing`)."""
    if cross_site(request):
        return refused_cross_site()
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    try:
        change(engine_of(request), principal)
    except NotFound:
        return render("refused.html", status_code=404, principal=principal, reason=missing)
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    return RedirectResponse(back, status_code=303)


def _subscription_refs(subscription_id: str) -> tuple[str, str]:
    """What to say when a subscription is missing, and where its row is."""
    return (
        f"No webhook subscription {subscription_id}",
        f"{NOTIFICATIONS_URL}#subscription-{subscription_id}",
    )


def _row_id(text: str) -> int:
    """A delivery id from the URL; anything that cannot be one names no delivery."""
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(LARGEST_ID))
    if not (digits and 0 < int(text) <= LARGEST_ID):
        raise NotFound("webhook delivery", text)
    return int(text)


# ---- building the page ---------------------------------------------------------------------


def subscription_row(subscription: Mapping[str, Any], counts: Mapping[str, int]) -> SubscriptionRow:
    """A subscription with its deliveries counted by status."""
    return SubscriptionRow(
        id=subscription["id"],
        url=shown_url(subscription["url"]),
        events=list(subscription["events"]),
        description=subscription["description"],
        active=subscription["active"],
        delivered=counts.get("delivered", 0),
        pending=counts.get("pending", 0),
        dead=counts.get("dead", 0),
    )


def delivery_row(delivery: Mapping[str, Any], url: str) -> DeliveryRow:
    """A delivery with the URL it goes to; its next try only while it is pending."""
    code, error = delivery["last_status_code"], delivery["last_error"]
    outcome = " — ".join(
        [*([f"HTTP {code}"] if code is not None else []), *([error] if error else [])]
    )
    pending = delivery["status"] == "pending"
    return DeliveryRow(
        id=delivery["id"],
        event=delivery["event"],
        event_id=delivery["event_id"],
        url=url,
        status=delivery["status"],
        attempts=delivery["attempts"],
        outcome=outcome,
        next_attempt_at=delivery["next_attempt_at"] if pending else None,
    )


def shown_url(url: str) -> str:
    """A subscription's URL with its password and query values masked: receivers often take
    their credentials there."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = netloc.rpartition("@")[2]
        netloc = f"{parts.username}:{MASK}@{host}"
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    query = urlencode([(name, MASK) for name in names], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))
