"""The inventory page in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Without /usr/bin/chromium these tests are skipped with a loud notice, unless
DOM_REQUIRE_BROWSER=1 or CI=true, where they fail instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from dom.domain.access import LOCAL_OPERATOR, Role
from dom.services.inventory import positions
from dom.services.keys import create_key
from tests.e2e.test_console_inventory import DRILL, stock
from tests.support.browser import Site, Visit, sign_in
from tests.support.server import running_server

pytestmark = pytest.mark.browser
SELECTED = re.compile(r"\bselected\b")


@pytest.fixture
def stocked_site(sqlite_engine: Engine) -> Iterator[Site]:
    """The service over real HTTP with the test network, drill stock at three nodes, an admin."""
    stock(sqlite_engine)
    token = create_key(sqlite_engine, "browser admin", Role.ADMIN).token
    with running_server(sqlite_engine) as base:
        yield Site(base, sqlite_engine, token)


def test_searching_a_sku_shows_a_marker_per_position_and_the_table(
    tab: Visit, stocked_site: Site, tmp_path: Path
) -> None:
    page, site = tab.page, stocked_site
    sign_in(page, site)

    page.click("nav.pages >> text=Inventory")
    expect(page).to_have_url(site.base + "/console/inventory")
    page.fill("#sku", "drill")
    page.press("#sku", "Enter")
    expect(page.locator("#missing")).to_contain_text("No such SKU: drill")
    # the "no such SKU" page is a 404 on purpose, and Chromium logs it; nothing else may be
    assert tab.errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    tab.errors.clear()
    page.click(f'#matches a[data-sku="{DRILL}"]')

    expect(page).to_have_url(f"{site.base}/console/inventory?sku={DRILL}")
    expect(page.locator("h1")).to_contain_text("Cordless drill 18 V")
    stored = positions(site.engine, LOCAL_OPERATOR, sku=DRILL)
    assert len(stored) == 3
    expect(page.locator("svg#map .marker")).to_have_count(len(stored))
    expect(page.locator("#positions tbody tr")).to_have_count(len(stored))
    for position in stored:
        expect(page.locator(f'svg#map .marker[data-node="{position.node_id}"]')).to_have_count(1)
        row = page.locator(f'#positions tr[data-node="{position.node_id}"] td.available')
        expect(row).to_have_text(str(position.available))
    expect(page.locator("#totals")).to_contain_text("Network total")
    expect(page.locator("#positions td.counted.stale")).to_have_count(1)
    expect(page.locator("#events tbody tr")).to_have_count(5)
    shot = tmp_path / "console-inventory.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert [url for url in tab.requests if not url.startswith(site.base + "/")] == []
    assert tab.errors == []  # a CSP refusal or a script error would be logged here


def test_hovering_a_marker_shows_the_positions_numbers(tab: Visit, stocked_site: Site) -> None:
    page, site = tab.page, stocked_site
    sign_in(page, site)
    page.goto(f"{site.base}/console/inventory?sku={DRILL}")

    page.hover('svg#map .marker[data-node="store-seattle"]')

    details = page.locator("#details dl")
    expect(details).to_be_visible()
    expect(details).to_contain_text("Seattle store")
    expect(details).to_contain_text("Safety stock4")
    expect(details).to_contain_text("45 days ago")
    expect(page.locator('#positions tr[data-node="store-seattle"]')).to_have_class(SELECTED)


def test_a_marker_is_larger_where_more_units_are_available(tab: Visit, stocked_site: Site) -> None:
    page, site = tab.page, stocked_site
    sign_in(page, site)
    page.goto(f"{site.base}/console/inventory?sku={DRILL}")

    def drawn_width(node: str) -> float:
        box = page.locator(f'svg#map .marker[data-node="{node}"]').bounding_box()
        assert box is not None
        return float(box["width"])

    # Columbus (100 available, a DC square) dwarfs Seattle (4), which outsizes Miami (none)
    assert drawn_width("dc-columbus") > 2 * drawn_width("store-seattle")
    assert drawn_width("store-seattle") > drawn_width("store-miami")
