"""The notifications page in a real headless Chromium against a real server: a webhook the relay
dead-lettered is shown and replayed, a subscription is paused and resumed, secrets stay hidden;
keys that may not manage notifications, forms from other sites and bad ids or filters are
refused and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.domain.notifications import Relay
from dom.domain.orders.model import Order, OrderLine
from dom.services import notifications
from dom.services.keys import create_key
from tests.integration.test_order_jobs import capture, count, set_up
from tests.support.browser import Site, Visit, sign_in
from tests.support.receivers import webhook_receiver
from tests.support.server import running_server

pytestmark = pytest.mark.browser

#: one try, then dead: the receiver's 500 is retryable, but not beyond the last try
ONE_TRY = Relay(max_attempts=1, base_delay=timedelta(seconds=1), timeout_seconds=5)
PASSWORD = "pa55word"
TOKEN = "t0ken-in-the-query"


@dataclass(frozen=True)
class Notified:
    site: Site
    order: Order
    subscription_id: str
    secret: str


@pytest.fixture
def notified(sqlite_engine: Engine, zips: ZipDirectory) -> Iterator[Notified]:
    """An order whose `order.created` webhook died at a receiver answering 500."""
    set_up(sqlite_engine, zips)
    count(sqlite_engine, "SKU-1", "dc-columbus", 5)
    key = notifications.master_key(sqlite_engine, None)
    with webhook_receiver(otherwise=500) as receiver:
        url = receiver.url.replace("://", f"://hooks:{PASSWORD}@") + f"?token={TOKEN}"
        subscription, secret = notifications.create_subscription(
            sqlite_engine, LOCAL_OPERATOR, key, url, ["order.created"], "ERP"
        )
        placed = capture(sqlite_engine, zips, OrderLine("1", "SKU-1", 2, 19.5))
        notifications.fan_out(sqlite_engine, ONE_TRY)
        notifications.deliver_webhooks(sqlite_engine, ONE_TRY, key)
        assert len(receiver.calls) == 1
    token = create_key(sqlite_engine, "browser admin", Role.ADMIN).token
    with running_server(sqlite_engine) as base:
        yield Notified(Site(base, sqlite_engine, token), placed, subscription["id"], secret)


def deliveries(engine: Engine) -> list[dict[str, Any]]:
    return notifications.deliveries(engine, LOCAL_OPERATOR)


def admin_client(notified: Notified) -> httpx.Client:
    return httpx.Client(base_url=notified.site.base, cookies={"dom_key": notified.site.token})


def test_a_dead_webhook_is_shown_and_replayed_from_the_console(
    tab: Visit, notified: Notified
) -> None:
    site, page = notified.site, tab.page
    [dead] = deliveries(site.engine)
    sign_in(page, site)
    page.click("nav.pages >> text=Notifications")
    expect(page).to_have_url(site.base + "/console/notifications")
    subscription = page.locator(
        f'#subscriptions tr[data-subscription="{notified.subscription_id}"]'
    )
    expect(subscription.locator(".dead")).to_have_text("1")
    expect(subscription.locator(".state")).to_have_text("active")
    expect(page.locator("#messages tbody")).to_contain_text(
        f"Your order {notified.order.external_id} is confirmed"
    )

    page.select_option("#status", "dead")
    page.click("form.filter button")
    expect(page).to_have_url(site.base + "/console/notifications?status=dead")
    row = page.locator(f'#deliveries tr[data-delivery="{dead["id"]}"]')
    expect(page.locator("#deliveries tbody tr")).to_have_count(1)
    expect(row.locator(".status-cell")).to_have_text("dead")
    expect(row.locator(".attempts")).to_have_text("1")
    expect(row.locator(".outcome")).to_contain_text("HTTP 500")
    expect(row).to_contain_text(dead["event_id"])

    row.locator("button", has_text="Replay").click()
    expect(page).to_have_url(f"{site.base}/console/notifications#delivery-{dead['id']}")
    expect(row.locator(".status-cell")).to_have_text("pending")
    expect(row.locator(".attempts")).to_have_text("0")
    expect(row.locator("button", has_text="Replay")).to_have_count(0)
    expect(subscription.locator(".pending")).to_have_text("1")
    [replayed] = deliveries(site.engine)
    assert (replayed["id"], replayed["status"], replayed["attempts"]) == (dead["id"], "pending", 0)
    assert tab.errors == []


def test_a_subscription_is_paused_and_resumed_from_its_row(tab: Visit, notified: Notified) -> None:
    site, page = notified.site, tab.page
    sign_in(page, site)
    page.goto(site.base + "/console/notifications")
    row = page.locator(f'#subscriptions tr[data-subscription="{notified.subscription_id}"]')

    row.locator("button", has_text="Pause").click()
    expect(row.locator(".state")).to_have_text("paused")
    [paused] = notifications.subscriptions(site.engine, LOCAL_OPERATOR)
    assert paused["active"] is False

    row.locator("button", has_text="Resume").click()
    expect(row.locator(".state")).to_have_text("active")
    [resumed] = notifications.subscriptions(site.engine, LOCAL_OPERATOR)
    assert resumed["active"] is True
    assert tab.errors == []


def test_the_page_never_shows_a_signing_secret_or_the_urls_credentials(
    notified: Notified,
) -> None:
    with admin_client(notified) as browser:
        shown = browser.get("/console/notifications")
    assert shown.status_code == 200
    assert notified.subscription_id in shown.text
    for secret in (notified.secret, PASSWORD, TOKEN):
        assert secret not in shown.text
    assert "hooks:***@127.0.0.1" in shown.text


@pytest.mark.parametrize("role", [Role.NODE, Role.VIEWER])
def test_a_key_that_may_not_manage_webhooks_is_refused_the_page_and_not_shown_its_links(
    notified: Notified, role: Role
) -> None:
    site, before = notified.site, deliveries(notified.site.engine)
    node_id = "dc-columbus" if role is Role.NODE else None
    token = create_key(site.engine, "not an admin", role, node_id=node_id).token
    with httpx.Client(base_url=site.base, cookies={"dom_key": token}) as browser:
        assert 'href="/console/notifications"' not in browser.get("/console/nodes").text
        refused = browser.get("/console/notifications")
        assert refused.status_code == 403
        assert "notifications:manage" in refused.text
        replay = browser.post(f"/console/notifications/deliveries/{before[0]['id']}/replay")
        assert replay.status_code == 403
        pause = browser.post(
            f"/console/notifications/subscriptions/{notified.subscription_id}/pause"
        )
        assert pause.status_code == 403
        if role is Role.VIEWER:
            order_page = browser.get(f"/console/orders/{notified.order.id}")
            assert order_page.status_code == 200
            assert "customer messages" not in order_page.text
    assert deliveries(site.engine) == before
    [subscription] = notifications.subscriptions(site.engine, LOCAL_OPERATOR)
    assert subscription["active"] is True


def test_a_bad_replay_id_subscription_or_status_filter_is_refused_and_changes_nothing(
    notified: Notified,
) -> None:
    before = deliveries(notified.site.engine)
    with admin_client(notified) as browser:
        for delivery_id in ("999999", "abc", "-1", "0", "9" * 40):
            refused = browser.post(f"/console/notifications/deliveries/{delivery_id}/replay")
            assert refused.status_code == 404, delivery_id
            assert f"No webhook delivery {delivery_id}" in refused.text
        unknown = browser.post("/console/notifications/subscriptions/wh_nope/pause")
        assert unknown.status_code == 404
        assert "No webhook subscription wh_nope" in unknown.text
        bad_filter = browser.get("/console/notifications", params={"status": "lost"})
        assert bad_filter.status_code == 400
        assert "No delivery status &#39;lost&#39;: it is one of pending, delivered, dead" in (
            bad_filter.text
        )
        assert browser.get("/console/notifications", params={"order": "o_nope"}).status_code == 404
    assert deliveries(notified.site.engine) == before
    [subscription] = notifications.subscriptions(notified.site.engine, LOCAL_OPERATOR)
    assert subscription["active"] is True


def test_a_replay_posted_from_another_site_is_refused_and_changes_nothing(
    notified: Notified,
) -> None:
    [dead] = deliveries(notified.site.engine)
    with admin_client(notified) as browser:
        forged = browser.post(
            f"/console/notifications/deliveries/{dead['id']}/replay",
            headers={"Origin": "https://evil.example"},
        )
    assert forged.status_code == 403
    assert "sent from another site" in forged.text
    assert deliveries(notified.site.engine) == [dead]


def test_an_orders_page_links_to_the_customer_messages_it_sent(notified: Notified) -> None:
    order = notified.order
    with admin_client(notified) as browser:
        order_page = browser.get(f"/console/orders/{order.id}")
        link = f'href="/console/notifications?order={order.id}#messages"'
        assert link in order_page.text
        messages = browser.get("/console/notifications", params={"order": order.id})
    assert messages.status_code == 200
    assert "Customer messages of order" in messages.text
    assert f"Your order {order.external_id} is confirmed" in messages.text
    assert "ada@example.com" in messages.text
