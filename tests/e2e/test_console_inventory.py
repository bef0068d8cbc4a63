"""The console's inventory page over real HTTP: searching a SKU, its positions on the map and in
a table, network totals, recent events, and what each kind of key may see."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import writing
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR, Principal, Role
from dom.domain.inventory import EventKind, InventoryEvent, SupplyKind
from dom.schemas.records import NodeRecord, ProductRecord
from dom.services import catalog
from dom.services.inventory import (
    EventRequest,
    HoldLine,
    ReservationRequest,
    allocate,
    record_events,
    reserve,
)
from dom.services.inventory import set_safety_stock as keep_back
from dom.services.keys import create_key
from dom.services.masterdata import node_from_record
from dom.services.supply import SupplyLine, add_supply
from tests.e2e.test_console import NETWORK, node_record, seed, signed_in
from tests.support.factories import product_record

DRILL = "DRILL-18V"
NOW = datetime.now(UTC)
#: when the stock below was recorded: one hour apart, oldest first
RECORDED = [NOW - timedelta(days=3) + timedelta(hours=i) for i in range(14)]


# ---- stock to look at ----------------------------------------------------------------------


def event(
    key: str, kind: EventKind, node: str, quantity: int, at: datetime, **changes: Any
) -> EventRequest:
    return EventRequest(key, InventoryEvent(kind, DRILL, node, quantity, "wms", at, **changes))


def record(engine: Engine, request: EventRequest, when: datetime, by: Principal) -> None:
    record_events(engine, by, [request], now=when)


def stock(engine: Engine) -> None:
    """The test network, three drills and a saw, and drill stock at three nodes:

    Columbus DC: counted 120, adjusted -3, 7 held for a cart and 10 allocated: 100 available.
    Seattle store: counted 8 forty-five days ago (stale), safety stock 4: 4 available.
    Miami store: 5 received, never counted, all 5 held for a cart: nothing available.
    """
    seed(engine, NETWORK)
    for sku, name in [
        (DRILL, "Cordless drill 18 V"),
        ("DRILL-12V", "Compact drill 12 V"),
        ("SAW-7", "Circular saw 7¼ in"),
    ]:
        record_ = product_record(sku, name=name, length=14, width=10.5, height=4, weight=3.75)
        catalog.put_product(engine, LOCAL_OPERATOR, ProductRecord(**record_))
    seattle_key = create_key(engine, "seattle handheld", Role.NODE, node_id="store-seattle")
    counted = NOW - timedelta(days=45)
    steps = [
        (event("c-1", EventKind.SNAPSHOT, "dc-columbus", 120, RECORDED[0]), LOCAL_OPERATOR),
        (event("s-1", EventKind.SNAPSHOT, "store-seattle", 8, counted), seattle_key.principal),
        (event("m-1", EventKind.RECEIPT, "store-miami", 5, RECORDED[2]), LOCAL_OPERATOR),
        (
            event(
                "c-2",
                EventKind.ADJUSTMENT,
                "dc-columbus",
                -3,
                RECORDED[3],
                reason="cycle_count",
            ),
            LOCAL_OPERATOR,
        ),
        # older than Seattle's count: recorded, but moves nothing
        (
            event("s-0", EventKind.SNAPSHOT, "store-seattle", 99, counted - timedelta(days=1)),
            seattle_key.principal,
        ),
    ]
    for index, (request, by) in enumerate(steps):
        record(engine, request, RECORDED[index], by)
    later = datetime.now(UTC) + timedelta(hours=1)
    order = reserve(engine, LOCAL_OPERATOR, hold("order-1", "dc-columbus", 10, later))
    allocate(engine, LOCAL_OPERATOR, order.id)
    reserve(engine, LOCAL_OPERATOR, hold("cart-1", "dc-columbus", 7, later))
    reserve(engine, LOCAL_OPERATOR, hold("cart-2", "store-miami", 5, later))
    set_safety_stock(engine, "store-seattle", 4)


def hold(reference: str, node: str, quantity: int, until: datetime) -> ReservationRequest:
    return ReservationRequest(reference, (HoldLine(DRILL, node, quantity),), until)


def set_safety_stock(engine: Engine, node: str, units: int) -> None:
    keep_back(engine, LOCAL_OPERATOR, DRILL, node, units)


# ---- reading the page ----------------------------------------------------------------------


PLACED = re.compile(r"translate\(([\d.]+) ([\d.]+)\)(?: scale\(([\d.]+)\))?")


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)
    classes: list[set[str]] = field(default_factory=list)


@dataclass
class Table:
    head: list[str] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    foot: list[Row] = field(default_factory=list)

    def rows(self) -> list[dict[str, str]]:
        return [dict(zip(self.head, row.cells, strict=True)) for row in self.body]

    def by_node(self) -> dict[str, dict[str, str]]:
        return {
            row.attrs["data-node"]: dict(zip(self.head, row.cells, strict=True))
            for row in self.body
        }

    def classes_of(self, node: str, column: str) -> set[str]:
        row = next(r for r in self.body if r.attrs.get("data-node") == node)
        return row.classes[self.head.index(column)]


@dataclass
class Marker:
    classes: set[str]
    scale: float
    title: str = ""


class InventoryPage(HTMLParser):
    """What the inventory page shows: its tables by id, map markers, links and plain text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, Table] = {}
        self.markers: dict[str, Marker] = {}
        self.links: dict[str, str] = {}
        self.ids: set[str] = set()
        self.text = ""
        self._table: Table | None = None
        self._section = ""
        self._row: Row | None = None
        self._cell: list[str] | None = None
        self._marker: Marker | None = None
        self._in_title = False
        self._link: tuple[str, list[str]] | None = None

    @classmethod
    def of(cls, html: str) -> InventoryPage:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        classes = set(a.get("class", "").split())
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id", ""), Table())
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr" and self._table is not None:
            self._row = Row(a)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row.classes.append(classes)
        elif tag == "g" and "marker" in classes:
            placed = PLACED.fullmatch(a["transform"])
            assert placed is not None, a["transform"]
            self._marker = Marker(classes, float(placed[3] or 1))
            self.markers[a["data-node"]] = self._marker
        elif tag == "title" and self._marker is not None:
            self._in_title = True
        elif tag == "a" and "href" in a:
            self._link = (a["href"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._section == "thead":
                self._table.head = self._row.cells
            else:
                getattr(self._table, self._section.removeprefix("t")).append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "title":
            self._in_title = False
        elif tag == "g":
            self._marker = None
        elif tag == "a" and self._link is not None:
            href, words = self._link
            self.links[" ".join("".join(words).split())] = href
            self._link = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title and self._marker is not None:
            self._marker.title += data
        if self._link is not None:
            self._link[1].append(data)

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def inventory(base: str, token: str, **params: str) -> tuple[int, InventoryPage, str]:
    with signed_in(base, token) as client:
        response = client.get("/console/inventory", params=params)
    return response.status_code, InventoryPage.of(response.text), response.text


# ---- signing in and finding the page -------------------------------------------------------


def test_the_inventory_page_without_a_cookie_redirects_to_login(server: str) -> None:
    response = httpx.get(f"{server}/console/inventory", params={"sku": DRILL})

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


def test_the_network_and_inventory_pages_link_to_each_other(server: str, admin_token: str) -> None:
    with signed_in(server, admin_token) as client:
        nodes = InventoryPage.of(client.get("/console/nodes").text)
        stock_page = client.get("/console/inventory")
    page = InventoryPage.of(stock_page.text)

    assert nodes.links["Inventory"] == "/console/inventory"
    assert page.links["Network"] == "/console/nodes"
    assert 'href="/console/inventory" aria-current="page"' in stock_page.text
    assert stock_page.status_code == 200
    assert "sku" in page.ids  # the search box
    assert "Enter a SKU to see its stock at every node" in page.words


# ---- a SKU's page --------------------------------------------------------------------------


def test_an_exact_sku_shows_the_products_name_and_measures(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    status, page, _ = inventory(server, admin_token, sku=f"  {DRILL} ")

    assert status == 200
    assert f"{DRILL} Cordless drill 18 V" in page.words
    assert "14 × 10.5 × 4 in" in page.words
    assert "3.75 lb" in page.words


def test_the_positions_table_shows_units_commitments_and_when_each_node_last_counted(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    table = page.tables["positions"]
    rows = table.by_node()
    assert list(rows) == ["dc-columbus", "store-seattle", "store-miami"]  # most available first
    columbus, seattle, miami = rows["dc-columbus"], rows["store-seattle"], rows["store-miami"]
    assert columbus["Node"] == "Columbus Fulfilment Centre dc-columbus"
    assert (columbus["Type"], columbus["City"]) == ("Distribution centre", "Columbus, OH")
    numbers = ["On hand", "Reserved", "Allocated", "Safety stock", "Available"]
    assert [columbus[n] for n in numbers] == ["117", "7", "10", "0", "100"]
    assert [seattle[n] for n in numbers] == ["8", "0", "0", "4", "4"]
    assert [miami[n] for n in numbers] == ["5", "5", "0", "0", "0"]
    assert columbus["Last counted"] == stamp(RECORDED[0])
    assert seattle["Last counted"] == f"{stamp(NOW - timedelta(days=45))} (45 days ago)"
    assert miami["Last counted"] == "never"
    assert "stale" in table.classes_of("store-seattle", "Last counted")
    assert "stale" not in table.classes_of("dc-columbus", "Last counted")
    assert "stale" not in table.classes_of("store-miami", "Last counted")


def test_the_table_ends_with_network_totals(server: str, engine: Engine, admin_token: str) -> None:
    stock(engine)

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    (totals,) = page.tables["positions"].foot
    assert totals.cells[0] == "Network total"
    assert totals.cells[1:6] == ["130", "12", "10", "4", "104"]
    assert "3 positions · 104 available at 2 nodes" in page.words


def test_the_map_draws_a_marker_per_position_sized_by_available_units_with_a_tooltip(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    markers = page.markers
    assert set(markers) == {"dc-columbus", "store-seattle", "store-miami"}
    assert markers["dc-columbus"].scale > markers["store-seattle"].scale
    assert markers["store-seattle"].scale > markers["store-miami"].scale
    assert "out" in markers["store-miami"].classes  # drawn hollow: nothing available
    assert "out" not in markers["store-seattle"].classes
    assert {"t-dc"} <= markers["dc-columbus"].classes
    assert markers["dc-columbus"].title == (
        "Columbus Fulfilment Centre (dc-columbus) — on hand 117, reserved 7, allocated 10, "
        f"safety stock 0, available 100, last counted {stamp(RECORDED[0])}"
    )
    assert "last counted never" in markers["store-miami"].title


def test_a_position_the_map_cannot_place_is_listed_and_counted_as_outside_the_map(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)
    seed(engine, [node_record("store-guam", "store", "96910", "Hagatna", "GU")])
    at = RECORDED[5]
    record(engine, event("g-1", EventKind.SNAPSHOT, "store-guam", 2, at), at, LOCAL_OPERATOR)

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    assert page.tables["positions"].by_node()["store-guam"]["City"] == "Hagatna, GU (not on map)"
    assert "store-guam" not in page.markers
    assert len(page.markers) == 3
    assert "4 positions · 106 available at 3 nodes · 1 outside the map" in page.words


def test_recent_events_are_the_latest_across_nodes_newest_first(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)
    # nine more receipts at Columbus, recorded after everything else: twelve events stay in view
    for i in range(9):
        at = RECORDED[5 + i]
        record(
            engine, event(f"r-{i}", EventKind.RECEIPT, "dc-columbus", 1 + i, at), at, LOCAL_OPERATOR
        )

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    events = page.tables["events"].rows()
    assert len(events) == 10
    assert [e["When"] for e in events] == [stamp(RECORDED[i]) for i in range(13, 3, -1)]
    assert [e["Quantity"] for e in events[:9]] == [f"+{9 - i}" for i in range(9)]
    oldest_shown = events[9]  # Seattle's late count, recorded but not applied
    assert oldest_shown["Node"] == "Seattle store"
    assert oldest_shown["Kind"] == "snapshot"
    assert oldest_shown["Quantity"] == "= 99"
    assert oldest_shown["Source"] == f"wms · {stamp(NOW - timedelta(days=46))}"
    assert oldest_shown["By"] == "seattle handheld"
    assert oldest_shown["Applied"] == "no"
    assert oldest_shown["Note"].startswith("older than the snapshot of ")


def test_an_adjustment_shows_its_signed_quantity_and_reason(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    events = page.tables["events"].rows()
    assert [e["When"] for e in events] == [stamp(RECORDED[i]) for i in range(4, -1, -1)]
    adjustment = events[1]
    assert (adjustment["Node"], adjustment["Kind"]) == ("Columbus Fulfilment Centre", "adjustment")
    assert adjustment["Quantity"] == "−3"
    assert adjustment["Note"] == "reason: cycle_count"
    assert (adjustment["By"], adjustment["Applied"]) == ("command line", "yes")


def test_open_inbound_supply_is_listed_by_expected_date(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)
    _, empty, _ = inventory(server, admin_token, sku=DRILL)
    assert "No open purchase orders, transfers or ship notices" in empty.words
    line = SupplyLine(
        SupplyKind.PURCHASE_ORDER, "PO-1", DRILL, "dc-columbus", 40, date(2026, 12, 3)
    )
    add_supply(engine, LOCAL_OPERATOR, [line])

    _, page, _ = inventory(server, admin_token, sku=DRILL)

    assert "inbound" in page.ids
    assert "2026-12-03 dc-columbus purchase order" in page.words
    assert "No open purchase orders" not in page.words


def test_a_sku_without_stock_says_none_is_recorded(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    status, page, _ = inventory(server, admin_token, sku="SAW-7")

    assert status == 200
    assert page.tables["positions"].body[0].cells == [
        "No stock of SAW-7 is recorded across the network yet."
    ]
    assert page.markers == {}
    assert page.tables["positions"].foot == []
    assert "No stock events recorded for SAW-7" in page.words


# ---- what each key sees --------------------------------------------------------------------


def test_a_node_key_sees_only_its_own_nodes_position_and_events(
    server: str, engine: Engine
) -> None:
    stock(engine)
    token = create_key(engine, "seattle till", Role.NODE, node_id="store-seattle").token

    status, page, html = inventory(server, token, sku=DRILL)

    assert status == 200
    assert set(page.tables["positions"].by_node()) == {"store-seattle"}
    assert set(page.markers) == {"store-seattle"}
    (totals,) = page.tables["positions"].foot
    assert totals.cells[0] == "Your node"
    assert totals.cells[1:6] == ["8", "0", "0", "4", "4"]
    assert {e["Node"] for e in page.tables["events"].rows()} == {"Seattle store"}
    assert "Columbus" not in html
    assert "Miami" not in html


def test_a_channel_key_sees_positions_by_node_id_without_the_network_map(
    server: str, engine: Engine
) -> None:
    stock(engine)
    token = create_key(engine, "web shop", Role.CHANNEL, channel="web").token

    with signed_in(server, token) as client:
        landing = client.get("/console", follow_redirects=True)
    status, page, html = inventory(server, token, sku=DRILL)

    assert landing.url.path == "/console/inventory"
    assert status == 200
    rows = page.tables["positions"].by_node()
    assert set(rows) == {"dc-columbus", "store-seattle", "store-miami"}
    assert (rows["dc-columbus"]["Node"], rows["dc-columbus"]["Type"]) == ("dc-columbus", "—")
    assert rows["dc-columbus"]["Available"] == "100"
    assert page.markers == {}
    assert "no-map" in page.ids
    assert "may not read the network" in page.words
    assert "outside the map" not in page.words
    assert "Network" not in page.links  # the page it may not open is not offered
    assert "Columbus Fulfilment Centre" not in html


# ---- searching -----------------------------------------------------------------------------


def test_an_unknown_sku_is_not_found_and_suggests_products_that_match(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)

    status, page, _ = inventory(server, admin_token, sku="drill")

    assert status == 404
    assert "No such SKU: drill" in page.words
    assert "2 products with “drill” in the SKU or name" in page.words
    assert page.links["DRILL-12V Compact drill 12 V"] == "/console/inventory?sku=DRILL-12V"
    assert page.links[f"{DRILL} Cordless drill 18 V"] == f"/console/inventory?sku={DRILL}"
    assert "SAW-7 Circular saw 7¼ in" not in page.links


def test_a_search_matches_product_names_too(server: str, engine: Engine, admin_token: str) -> None:
    stock(engine)

    status, page, _ = inventory(server, admin_token, sku="circular")

    assert status == 404
    assert "One product with “circular” in the SKU or name" in page.words
    assert page.links["SAW-7 Circular saw 7¼ in"] == "/console/inventory?sku=SAW-7"


def test_a_sku_matching_nothing_says_so(server: str, engine: Engine, admin_token: str) -> None:
    stock(engine)

    status, page, _ = inventory(server, admin_token, sku="HAMMER-9")

    assert status == 404
    assert "No such SKU: HAMMER-9" in page.words
    assert "No product has “HAMMER-9” in its SKU or name" in page.words
    assert "positions" not in page.tables


# ---- safety --------------------------------------------------------------------------------


def test_names_and_queries_are_html_escaped(server: str, engine: Engine, admin_token: str) -> None:
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    seed(engine, [node_record("dc-x", "dc", "43219", "Columbus", "OH", name=f"DC {hostile}")])
    catalog.put_product(
        engine, LOCAL_OPERATOR, ProductRecord(**product_record("EVIL-1", name=f"Drill {hostile}"))
    )
    record_events(
        engine,
        LOCAL_OPERATOR,
        [
            EventRequest(
                "e-1",
                InventoryEvent(
                    EventKind.ADJUSTMENT, "EVIL-1", "dc-x", 3, "<i>wms</i>", NOW, reason="<u>r</u>"
                ),
            )
        ],
    )

    _, page, html = inventory(server, admin_token, sku="EVIL-1")
    status, missing, missing_html = inventory(server, admin_token, sku=f"{hostile}")

    for raw in ("<script>", "<b>bold</b>", "<i>wms</i>", "<u>r</u>"):
        assert raw not in html
        assert raw not in missing_html
    assert "&lt;script&gt;" in html
    assert f"Drill {hostile}" in page.words  # shown as text, as written
    assert f"DC {hostile}" in page.markers["dc-x"].title
    assert page.tables["events"].rows()[0]["Source"].startswith("<i>wms</i> · ")
    assert status == 404
    assert f"No such SKU: {hostile}" in missing.words


def test_the_inventory_page_keeps_the_strict_policy_and_loads_nothing_from_elsewhere(
    server: str, engine: Engine, admin_token: str
) -> None:
    stock(engine)
    with signed_in(server, admin_token) as client:
        response = client.get("/console/inventory", params={"sku": DRILL})

    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "<style" not in response.text
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None  # no inline script
    assert re.search(r"\son[a-z]+=", response.text) is None  # no inline event handlers
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', response.text):
        assert not url.startswith("//"), url
        assert urlsplit(url).netloc in ("", urlsplit(server).netloc), url


@pytest.mark.parametrize("path", ["/console/inventory", f"/console/inventory?sku={DRILL}"])
def test_a_viewer_may_open_the_inventory_page(server: str, engine: Engine, path: str) -> None:
    stock(engine)
    token = create_key(engine, "analyst", Role.VIEWER).token
    with signed_in(server, token) as client:
        response = client.get(path)

    assert response.status_code == 200
    assert "analyst" in response.text


def test_the_inventory_page_stays_quick_with_500_positions(
    server: str, engine: Engine, admin_token: str
) -> None:
    places = [
        p
        for p in zip_directory().places()
        if p.active and p.timezone and p.location.latitude > 17 and p.location.longitude < -60
    ][::80][:500]
    records = [
        node_record(f"n-{i:04d}", "store" if i % 10 else "dc", p.zip, p.city, p.state)
        for i, p in enumerate(places)
    ]
    with writing(engine) as connection:
        repo.save_nodes(
            connection, [node_from_record(NodeRecord(**r), zip_directory()) for r in records]
        )
    catalog.put_product(engine, LOCAL_OPERATOR, ProductRecord(**product_record(DRILL)))
    counts = [event(f"n-{i}", EventKind.SNAPSHOT, f"n-{i:04d}", i % 50, NOW) for i in range(500)]
    record_events(engine, LOCAL_OPERATOR, counts)
    with signed_in(server, admin_token) as client:
        client.get("/console/nodes")  # the first view builds the map background
        started = time.perf_counter()
        response = client.get("/console/inventory", params={"sku": DRILL})
        seconds = time.perf_counter() - started
    page = InventoryPage.of(response.text)

    assert len(page.tables["positions"].body) == 500
    assert len(page.markers) == 500
    assert len(page.tables["events"].body) == 10
    assert seconds < 3, f"the inventory page took {seconds:.2f} s with 500 positions"
    assert len(response.content) < 800_000
