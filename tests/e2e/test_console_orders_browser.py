"""The orders pages in a real headless Chromium: the list with what is at risk and each node's
day, and an order's lines, requests, timeline and routing explanation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Role
from dom.domain.orders.model import Order, OrderLine
from dom.services.keys import create_key
from tests.integration.test_order_jobs import capture, count, set_up
from tests.support.browser import Site, Visit, sign_in
from tests.support.server import running_server

pytestmark = pytest.mark.browser


@pytest.fixture
def ordered_site(sqlite_engine: Engine, zips: ZipDirectory) -> Iterator[tuple[Site, Order]]:
    set_up(sqlite_engine, zips)
    count(sqlite_engine, "SKU-1", "dc-columbus", 5)
    placed = capture(sqlite_engine, zips, OrderLine("1", "SKU-1", 2, 19.5))
    capture(sqlite_engine, zips, OrderLine("1", "SKU-2", 1, 5.0))  # nobody has SKU-2
    token = create_key(sqlite_engine, "browser admin", Role.ADMIN).token
    with running_server(sqlite_engine) as base:
        yield Site(base, sqlite_engine, token), placed


def test_the_orders_page_lists_orders_and_opens_one_with_its_timeline_and_why(
    tab: Visit, ordered_site: tuple[Site, Order]
) -> None:
    (site, placed), page = ordered_site, tab.page
    sign_in(page, site)
    page.click("nav.pages >> text=Orders")
    expect(page).to_have_url(site.base + "/console/orders")
    expect(page.locator("#orders tbody tr")).to_have_count(2)
    expect(page.locator("#backordered")).to_have_text("1")
    expect(page.locator('#capacity tr[data-node="dc-columbus"]')).to_contain_text("2")

    page.click(f'#orders tr[data-order="{placed.id}"] a')
    expect(page).to_have_url(f"{site.base}/console/orders/{placed.id}")
    expect(page.locator("#order-status")).to_have_text("released")
    expect(page.locator('#fulfilments tr[data-node="dc-columbus"]')).to_contain_text("1 × 2")
    expect(page.locator('#timeline li[data-event="order.created"]')).to_have_count(1)
    expect(page.locator('#timeline li[data-event="order.sourced"]')).to_have_count(1)
    expect(page.locator("#explanation .why")).not_to_be_empty()
    assert tab.errors == []

    page.click("nav.pages >> text=Orders")
    page.click('#summary a[data-status="backordered"]')
    expect(page.locator("#orders tbody tr")).to_have_count(1)
    expect(page.locator("#orders tbody tr")).to_contain_text("backordered")


def test_a_node_key_is_not_shown_the_orders_pages(ordered_site: tuple[Site, Order]) -> None:
    site, placed = ordered_site
    token = create_key(site.engine, "store app", Role.NODE, node_id="store-a").token
    with httpx.Client(base_url=site.base, cookies={"dom_key": token}) as browser:
        assert 'href="/console/orders"' not in browser.get("/console/nodes").text
        assert browser.get("/console/orders").status_code == 403
        assert browser.get(f"/console/orders/{placed.id}").status_code == 403
