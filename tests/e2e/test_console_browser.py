"""The console in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Without /usr/bin/chromium these tests are skipped with a loud notice, unless
DOM_REQUIRE_BROWSER=1 or CI=true, where they fail instead. `playwright install` is never used:
the browser comes from Debian (`apt-get install chromium`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from dom.domain.access import LOCAL_OPERATOR, Role
from dom.domain.network import NodeType
from dom.services import network
from dom.services.keys import create_key
from tests.e2e.test_console import NETWORK, seed
from tests.support.browser import Site, Visit, sign_in
from tests.support.server import running_server

pytestmark = pytest.mark.browser
SELECTED = re.compile(r"\bselected\b")


@pytest.fixture
def site(sqlite_engine: Engine) -> Iterator[Site]:
    """The service over real HTTP with the small test network and an admin key."""
    seed(sqlite_engine, NETWORK)
    token = create_key(sqlite_engine, "browser admin", Role.ADMIN).token
    with running_server(sqlite_engine) as base:
        yield Site(base, sqlite_engine, token)


@pytest.fixture
def visit(tab: Visit, site: Site) -> Visit:
    """A fresh tab, once the site is up."""
    return tab


def test_signing_in_through_the_form_opens_the_network_map(
    visit: Visit, site: Site, tmp_path: Path
) -> None:
    page = visit.page
    sign_in(page, site)

    expect(page.locator("header .key-name")).to_have_text("browser admin")
    stored = network.list_nodes(site.engine, LOCAL_OPERATOR, limit=1000)
    expect(page.locator("svg#map .marker")).to_have_count(len(stored))
    for node in stored:
        expect(page.locator(f'svg#map .marker[data-node="{node.id}"]')).to_have_count(1)
    expect(page.locator("#nodes tbody tr")).to_have_count(len(stored))
    cookie = next(c for c in page.context.cookies() if c["name"] == "dom_key")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the key is out of the page script's reach
    shot = tmp_path / "console-nodes.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_clicking_a_marker_shows_the_nodes_details(visit: Visit, site: Site) -> None:
    page = visit.page
    sign_in(page, site)

    page.click('svg#map .marker[data-node="dc-columbus"]')

    details = page.locator("#details dl")
    expect(details).to_be_visible()
    expect(details).to_contain_text("Columbus Fulfilment Centre")
    expect(details).to_contain_text("Columbus, OH")
    expect(details).to_contain_text("accept returns, ship")
    expect(details).to_contain_text("12,000")
    expect(page.locator('#nodes tr[data-node="dc-columbus"]')).to_have_class(SELECTED)


def test_hovering_a_table_row_shows_its_details_and_marks_it_on_the_map(
    visit: Visit, site: Site
) -> None:
    page = visit.page
    sign_in(page, site)

    page.hover('#nodes tr[data-node="store-miami"]')

    expect(page.locator("#details dl")).to_contain_text("hurricane closure")
    expect(page.locator('svg#map .marker[data-node="store-miami"]')).to_have_class(SELECTED)


def test_a_marker_tooltip_names_the_node(visit: Visit, site: Site) -> None:
    page = visit.page
    sign_in(page, site)

    title = page.locator('svg#map .marker[data-node="store-honolulu"] title')

    expect(title).to_have_text("Honolulu store — Store, Honolulu, HI — active")


def test_choosing_a_type_shows_only_nodes_of_that_type(visit: Visit, site: Site) -> None:
    page = visit.page
    sign_in(page, site)

    page.select_option("#type", "store")

    expect(page).to_have_url(site.base + "/console/nodes?type=store")
    stores = network.list_nodes(site.engine, LOCAL_OPERATOR, node_type=NodeType.STORE, limit=1000)
    expect(page.locator("svg#map .marker")).to_have_count(len(stores))
    expect(page.locator("svg#map .marker.t-store")).to_have_count(len(stores))
    expect(page.locator("#nodes tbody tr")).to_have_count(len(stores))
    expect(page.locator("#nodes tbody td.type")).to_have_text(["Store"] * len(stores))


def test_the_console_loads_everything_from_its_own_server(visit: Visit, site: Site) -> None:
    page = visit.page
    sign_in(page, site)
    page.click('svg#map .marker[data-node="store-seattle"]')

    assert visit.requests
    assert [url for url in visit.requests if not url.startswith(site.base + "/")] == []
    # the content security policy would log a refusal if anything were inline or foreign
    assert visit.errors == []


def test_logging_out_returns_to_the_login_form(visit: Visit, site: Site) -> None:
    page = visit.page
    sign_in(page, site)

    page.click("text=Log out")

    expect(page).to_have_url(site.base + "/console/login")
    assert [c for c in page.context.cookies() if c["name"] == "dom_key"] == []
    page.goto(site.base + "/console/nodes")
    expect(page).to_have_url(site.base + "/console/login")


def test_a_wrong_key_in_the_form_shows_an_error(visit: Visit, site: Site) -> None:
    page = visit.page
    page.goto(site.base + "/console/login")

    page.fill("#key", "dom_000000000000_wrong")
    page.click("button[type=submit]")

    expect(page.locator(".error")).to_contain_text("the API key is not valid")
    assert page.context.cookies() == []
