"""Notifications over HTTP: webhook subscriptions, their deliveries (and replays), the
customer message templates and the messages an order sent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from dom.api.deps import EngineDep, PrincipalDep
from dom.domain.notifications import TEMPLATE_FIELDS
from dom.schemas.notifications import (
    CreatedSubscriptionView,
    DeliveryStatus,
    DeliveryView,
    MessageView,
    SubscriptionIn,
    SubscriptionView,
    TemplateIn,
    TemplateView,
)
from dom.services import notifications

router = APIRouter(tags=["notifications"])


@router.post(
    "/v1/webhooks",
    response_model=CreatedSubscriptionView,
    status_code=201,
    summary="Subscribe a URL to order events; the signing secret is shown this once",
)
def create_subscription(
    body: SubscriptionIn, engine: EngineDep, principal: PrincipalDep, request: Request
) -> dict[str, Any]:
    key = notifications.master_key(engine, request.app.state.settings.secret_key)
    row, secret = notifications.create_subscription(
        engine, principal, key, body.url, body.events, body.description
    )
    return row | {"secret": secret}


@router.get("/v1/webhooks", response_model=list[SubscriptionView], summary="Webhook subscriptions")
def list_subscriptions(engine: EngineDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return notifications.subscriptions(engine, principal)


@router.post(
    "/v1/webhooks/{subscription_id}/pause",
    response_model=SubscriptionView,
    summary="Pause: events from now on are not queued for it (queued retries go on)",
)
def pause_subscription(
    subscription_id: str, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return notifications.pause_subscription(engine, principal, subscription_id)


@router.post(
    "/v1/webhooks/{subscription_id}/resume",
    response_model=SubscriptionView,
    summary="Resume: events from now on are queued for it again",
)
def resume_subscription(
    subscription_id: str, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return notifications.resume_subscription(engine, principal, subscription_id)


@router.delete(
    "/v1/webhooks/{subscription_id}",
    status_code=204,
    summary="Unsubscribe: nothing more is sent, its deliveries are removed",
)
def delete_subscription(
    subscription_id: str, engine: EngineDep, principal: PrincipalDep
) -> Response:
    notifications.delete_subscription(engine, principal, subscription_id)
    return Response(status_code=204)


@router.get(
    "/v1/webhook-deliveries",
    response_model=list[DeliveryView],
    summary="Webhook deliveries, newest first (status=dead: the dead letters)",
)
def list_deliveries(
    engine: EngineDep,
    principal: PrincipalDep,
    status: DeliveryStatus | None = None,
    subscription_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return notifications.deliveries(engine, principal, status, subscription_id, limit)


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/replay",
    response_model=DeliveryView,
    summary="Send a delivery again (the same event id), with a fresh count of tries",
)
def replay_delivery(delivery_id: int, engine: EngineDep, principal: PrincipalDep) -> Any:
    return notifications.replay_delivery(engine, principal, delivery_id)


@router.get(
    "/v1/message-templates",
    response_model=list[TemplateView],
    summary="The customer messages each event sends: edited, or the defaults",
)
def list_templates(engine: EngineDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return notifications.templates(engine, principal)


@router.put(
    "/v1/message-templates/{event}",
    response_model=TemplateView,
    summary="Edit the message an event sends",
    description="Placeholders: "
    + ", ".join(f"`${name}`" for name in sorted(TEMPLATE_FIELDS))
    + ". Write `$$` for a dollar sign.",
)
def save_template(
    event: str, body: TemplateIn, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return notifications.save_template(engine, principal, event, body.subject, body.body)


@router.delete(
    "/v1/message-templates/{event}",
    response_model=TemplateView,
    summary="Go back to the message dom ships for the event",
)
def reset_template(event: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return notifications.reset_template(engine, principal, event)


@router.get(
    "/v1/orders/{order_id}/messages",
    response_model=list[MessageView],
    summary="The customer messages an order sent or is sending",
)
def order_messages(order_id: str, engine: EngineDep, principal: PrincipalDep) -> list[Any]:
    return notifications.order_messages(engine, principal, order_id)
