"""Notifications end to end over real HTTP, on SQLite and PostgreSQL: an order shipped through
the API reaches a webhook receiver and the customer's SMTP server; dead deliveries are listed and
replayed; subscriptions and templates refuse bad input and change nothing; `dom worker --once`
writes customer messages to the mail folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from dom.adapters.mail import SmtpMailer
from dom.domain.access import Role
from dom.domain.notifications import Relay, verify
from dom.services import notifications
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.e2e.test_inventory_api import problem
from tests.e2e.test_inventory_api import stocked as stocked
from tests.e2e.test_orders_api import line, new_order, post, the_request
from tests.e2e.test_orders_api import node_client as node_client
from tests.e2e.test_orders_api import shop as shop
from tests.e2e.test_sourcing_api import network as network
from tests.integration.test_notifications import an_order, publish
from tests.support.receivers import smtp_sink, webhook_receiver

RELAY = Relay(max_attempts=2, base_delay=timedelta(seconds=1), timeout_seconds=5)


def work(engine: Engine, mailer: Any = None, now: datetime | None = None) -> None:
    """One round of the relay, as `dom worker` runs it."""
    key = notifications.master_key(engine, None)
    notifications.fan_out(engine, RELAY, now)
    notifications.deliver_webhooks(engine, RELAY, key, now)
    if mailer is not None:
        notifications.send_messages(engine, RELAY, mailer, now)


def test_a_shipped_order_reaches_the_webhook_receiver_and_the_customer(
    engine: Engine, shop: httpx.Client, node_client: Any
) -> None:
    with webhook_receiver() as receiver, smtp_sink() as sink:
        made = shop.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["fulfilment.shipped"], "description": "ERP"},
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        order = shop.post("/v1/orders", json=new_order("N-1", line("SKU-1", 1))).json()
        request = the_request(order)
        dc = node_client(request["node_id"])
        path = f"/v1/fulfilments/{request['id']}"
        post(dc, f"{path}/acknowledge")
        post(dc, f"{path}/pick", {})
        post(dc, f"{path}/pack", {"packages": [{"lines": {"1": 1}, "weight_lb": 2}]})
        tracking = {"carrier": "ups", "service": "ground", "tracking": ["1Z555"]}
        post(dc, f"{path}/ship", tracking)
        work(engine, SmtpMailer(sink.url))
    [call] = receiver.calls
    assert verify(secret, call.headers["Dom-Signature"], call.body, time.time())
    shipped = json.loads(call.body)
    assert shipped["type"] == "fulfilment.shipped"
    assert shipped["detail"]["tracking"] == ["1Z555"]
    published = shop.get(f"/v1/orders/{order['id']}/events").json()
    assert shipped in published
    subjects = sorted(str(m["Subject"]) for m in sink.messages)
    assert subjects == ["Your order N-1 has shipped", "Your order N-1 is confirmed"]
    [shipped_mail] = [m for m in sink.messages if "shipped" in str(m["Subject"])]
    assert "1Z555" in shipped_mail.get_content()
    assert shipped_mail["X-Dom-Event-Id"] == shipped["id"]
    messages = shop.get(f"/v1/orders/{order['id']}/messages").json()
    assert [(m["event"], m["status"]) for m in messages] == [
        ("order.sourced", "sent"),
        ("fulfilment.shipped", "sent"),
    ]


def test_a_dead_delivery_is_listed_and_replayed_through_the_api(
    engine: Engine, admin: httpx.Client
) -> None:
    moment = datetime.now(UTC)
    with webhook_receiver(500, 500) as receiver:
        subscribed = admin.post("/v1/webhooks", json={"url": receiver.url}).json()
        event_id = publish(engine, an_order(), "order.created", lines=1)
        work(engine, now=moment)
        work(engine, now=moment + timedelta(minutes=1))
        [dead] = admin.get("/v1/webhook-deliveries", params={"status": "dead"}).json()
        assert dead["subscription_id"] == subscribed["id"]
        assert (dead["event_id"], dead["attempts"], dead["last_status_code"]) == (event_id, 2, 500)
        assert admin.get("/v1/webhook-deliveries", params={"status": "pending"}).json() == []
        replayed = admin.post(f"/v1/webhook-deliveries/{dead['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)
        work(engine)
    [done] = admin.get("/v1/webhook-deliveries", params={"status": "delivered"}).json()
    assert done["id"] == dead["id"]
    assert receiver.event_ids() == [event_id] * 3


def test_bad_subscriptions_are_refused_naming_the_field_and_change_nothing(
    admin: httpx.Client,
) -> None:
    cases = [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://example.com/x", "events": ["order.nope"]}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"events": ["*"]}, "url"),
        ({"url": "https://example.com/x", "secret": "mine"}, "secret"),
    ]
    for body, field in cases:
        refused = problem(admin.post("/v1/webhooks", json=body), 422, "invalid_input")
        assert field in [e["field"] for e in refused["errors"]], refused
    assert admin.get("/v1/webhooks").json() == []
    problem(admin.delete("/v1/webhooks/wh_missing"), 404, "not_found")
    problem(admin.post("/v1/webhook-deliveries/999/replay"), 404, "not_found")
    problem(admin.get("/v1/webhook-deliveries", params={"status": "lost"}), 422, "invalid_input")


def test_a_paused_subscription_is_sent_nothing_new_until_resumed(
    engine: Engine, admin: httpx.Client
) -> None:
    with webhook_receiver() as receiver:
        made = admin.post("/v1/webhooks", json={"url": receiver.url}).json()
        paused = admin.post(f"/v1/webhooks/{made['id']}/pause")
        assert paused.status_code == 200 and paused.json()["active"] is False
        publish(engine, an_order("o_p"), "order.created", lines=1)
        work(engine)
        assert receiver.calls == []
        assert admin.post(f"/v1/webhooks/{made['id']}/resume").json()["active"] is True
        publish(engine, an_order("o_p"), "order.cancelled", reason="x")
        work(engine)
    assert [json.loads(call.body)["type"] for call in receiver.calls] == ["order.cancelled"]
    problem = admin.post("/v1/webhooks/nope/pause")
    assert problem.status_code == 404 and problem.json()["code"] == "not_found"


def test_the_secret_is_shown_once_and_a_deleted_subscription_is_gone(
    admin: httpx.Client,
) -> None:
    made = admin.post("/v1/webhooks", json={"url": "https://example.com/hook"}).json()
    assert made["secret"].startswith("whsec_") and made["events"] == ["*"]
    [listed] = admin.get("/v1/webhooks").json()
    assert "secret" not in listed and listed["id"] == made["id"]
    assert admin.delete(f"/v1/webhooks/{made['id']}").status_code == 204
    assert admin.get("/v1/webhooks").json() == []


def test_templates_are_listed_edited_validated_and_reset(admin: httpx.Client) -> None:
    listed = {t["event"]: t for t in admin.get("/v1/message-templates").json()}
    assert "$tracking" in listed["fulfilment.shipped"]["body"]
    assert set(listed) >= {"order.sourced", "order.at_risk", "order.cancelled"}
    path = "/v1/message-templates/fulfilment.shipped"
    bad = admin.put(path, json={"subject": "Shipped $external_id", "body": "Costs $5 $tracker"})
    refused = problem(bad, 422, "invalid_input")
    assert [e["field"] for e in refused["errors"]] == ["body"]
    problem(
        admin.put("/v1/message-templates/order.nope", json={"subject": "s", "body": "b"}),
        404,
        "not_found",
    )
    assert admin.get("/v1/message-templates").json() == list(listed.values())
    edited = admin.put(path, json={"subject": "Off it goes", "body": "Tracking: $tracking, $$5"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["edited"] is True
    reset = admin.delete(path).json()
    assert reset == listed["fulfilment.shipped"]


def test_only_admins_manage_notifications(server: str, engine: Engine) -> None:
    token = create_key(engine, "looker", Role.VIEWER).token
    with client_for(server, token) as viewer:
        problem(viewer.post("/v1/webhooks", json={"url": "https://x.example"}), 403, "forbidden")
        problem(viewer.get("/v1/webhook-deliveries"), 403, "forbidden")
        problem(viewer.get("/v1/message-templates"), 403, "forbidden")


def test_dom_worker_once_writes_customer_messages_to_the_mail_folder(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    event_id = publish(sqlite_engine, an_order(), "order.sourced", fulfilments=[])
    mail = tmp_path / "mail"
    env = os.environ | {
        "DOM_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "DOM_MAIL_DIR": str(mail),
    }
    env.pop("DOM_SMTP_URL", None)
    ran = subprocess.run(
        [sys.executable, "-m", "dom", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "messages tried: 1" in ran.stdout
    assert (mail / f"{event_id}.eml").read_text().count("Your order W-o_1 is confirmed") == 1
