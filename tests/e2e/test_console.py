"""The console over real HTTP: signing in with a key, the nodes page, its map, and what it loads."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import writing
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.schemas.records import NodeRecord
from dom.services import network
from dom.services.keys import create_key, revoke_key
from dom.services.masterdata import node_from_record
from tests.support.server import running_server

COOKIE = "dom_key"


# ---- a small network to look at ------------------------------------------------------------


def node_record(
    node_id: str, node_type: str, zip_code: str, city: str, state: str, **changes: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": node_id,
        "name": f"{city} {node_type.replace('_', ' ')}",
        "type": node_type,
        "address_line1": "1 Main Street",
        "city": city,
        "state": state,
        "zip": zip_code,
        "capabilities": ["ship"],
        "handling": [],
        "capacity_orders": 100,
        "capacity_units": 250,
        "capacity_labour_hours": 40,
        "operating_days": ["mon", "tue", "wed", "thu", "fri"],
        "cost_per_order": 2.5,
        "cost_per_unit": 0.4,
    }
    return record | changes


NETWORK = [
    node_record(
        "dc-columbus",
        "dc",
        "43219",
        "Columbus",
        "OH",
        name="Columbus Fulfilment Centre",
        capabilities=["ship", "accept_returns"],
        handling=["hazmat", "oversize"],
        capacity_orders=12000,
        capacity_units=30000,
        capacity_labour_hours=1600,
    ),
    node_record(
        "store-seattle",
        "store",
        "98101",
        "Seattle",
        "WA",
        capabilities=["ship_from_store", "pickup_in_store", "curbside"],
        capacity_labour_hours=37.5,
    ),
    node_record(
        "store-miami",
        "store",
        "33131",
        "Miami",
        "FL",
        capabilities=["ship_from_store", "pickup_in_store"],
        pause_reason="hurricane closure",
        pause_starts_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        pause_ends_at=(datetime.now(UTC) + timedelta(days=2)).isoformat(),
    ),
    node_record("vendor-dallas", "dropship_vendor", "75201", "Dallas", "TX"),
    node_record(
        "3pl-reno", "third_party_warehouse", "89502", "Reno", "NV", handling=["refrigerated"]
    ),
    node_record("store-anchorage", "store", "99501", "Anchorage", "AK"),
    node_record("store-honolulu", "store", "96813", "Honolulu", "HI"),
    node_record("store-san-juan", "store", "00901", "San Juan", "PR"),
]
TYPE_LABELS = {
    "dc": "Distribution centre",
    "store": "Store",
    "dropship_vendor": "Dropship vendor",
    "third_party_warehouse": "3PL warehouse",
}


def seed(engine: Engine, records: list[dict[str, Any]]) -> None:
    for record in records:
        network.put_node(engine, LOCAL_OPERATOR, NodeRecord(**record), zip_directory())


# ---- reading the pages ---------------------------------------------------------------------


TRANSLATE = re.compile(r"translate\(([\d.]+) ([\d.]+)\)")


@dataclass
class Marker:
    node: str
    classes: set[str]
    x: float
    y: float
    title: str = ""


class Page(HTMLParser):
    """What a console page shows: table rows by node id, map markers, and every URL it refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.markers: dict[str, Marker] = {}
        self.urls: list[str] = []
        self.svg_elements = 0
        self.text = ""
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._marker: Marker | None = None
        self._in_title = False
        self._in_svg = 0
        self.insets: dict[str, tuple[float, float, float, float]] = {}
        self._inset: tuple[float, float, float, float] | None = None
        self._label: list[str] | None = None

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def inside(self, node_id: str, inset: str) -> bool:
        """Whether a node's marker lies in the frame of the inset with this label."""
        x, y, width, height = self.insets[inset]
        marker = self.markers[node_id]
        return x <= marker.x <= x + width and y <= marker.y <= y + height

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        self.urls.extend(a[name] for name in ("src", "href", "action") if name in a)
        if tag == "svg":
            self._in_svg += 1
        if self._in_svg:
            self.svg_elements += 1
        if tag == "tr" and "data-node" in a:
            self._row = a["data-node"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "g" and "marker" in a.get("class", "").split():
            where = TRANSLATE.fullmatch(a["transform"])
            assert where is not None, a["transform"]
            x, y = float(where[1]), float(where[2])
            self._marker = Marker(a["data-node"], set(a["class"].split()), x, y)
            self.markers[self._marker.node] = self._marker
        elif tag == "title" and self._marker is not None:
            self._in_title = True
        elif tag == "rect" and a.get("class") == "inset":
            self._inset = (float(a["x"]), float(a["y"]), float(a["width"]), float(a["height"]))
        elif tag == "text" and a.get("class") == "inset-label":
            self._label = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg -= 1
        if tag == "td" and self._cell is not None and self._row is not None:
            self.rows[self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "title":
            self._in_title = False
        elif tag == "g":
            self._marker = None
        elif tag == "text" and self._label is not None and self._inset is not None:
            self.insets["".join(self._label)] = self._inset
            self._label = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title and self._marker is not None:
            self._marker.title += data
        if self._label is not None:
            self._label.append(data)


COLUMNS = [
    "id",
    "name",
    "type",
    "city",
    "capabilities",
    "handling",
    "orders",
    "units",
    "hours",
    "status",
]


def row_of(page: Page, node_id: str) -> dict[str, str]:
    return dict(zip(COLUMNS, page.rows[node_id], strict=True))


# ---- signing in ----------------------------------------------------------------------------


@contextmanager
def signed_in(base: str, token: str) -> Iterator[httpx.Client]:
    """A client that signed in through the console's login form, holding its cookie."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post("/console/login", data={"key": token})
        assert response.status_code == 303, response.text
        yield client


def set_cookie_header(response: httpx.Response) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def test_the_root_sends_a_visitor_without_a_key_to_the_login_page(server: str) -> None:
    response = httpx.get(f"{server}/", follow_redirects=True)

    assert [r.status_code for r in response.history] == [303, 303]
    assert response.url.path == "/console/login"
    assert response.status_code == 200
    assert 'name="key"' in response.text
    assert "prints a local admin key" in " ".join(response.text.split())


def test_the_nodes_page_without_a_cookie_redirects_to_login(server: str) -> None:
    response = httpx.get(f"{server}/console/nodes")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


@pytest.mark.parametrize("key", ["dom_abc_not-a-real-secret", "not a key at all", ""])
def test_a_wrong_key_shows_an_error_and_sets_no_cookie(server: str, key: str) -> None:
    response = httpx.post(f"{server}/console/login", data={"key": key})

    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "Not signed in" in response.text
    assert "set-cookie" not in response.headers


def test_a_valid_key_sets_a_strict_http_only_cookie_and_opens_the_nodes_page(
    server: str, admin_token: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.post("/console/login", data={"key": admin_token})

        assert response.status_code == 303
        assert response.headers["location"] == "/console"
        cookie = set_cookie_header(response)
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert cookie.startswith(f"{COOKIE}={admin_token};")
        assert {"httponly", "samesite=strict", "path=/"} <= attributes
        assert "secure" not in attributes
        page = client.get("/console", follow_redirects=True)

    assert page.url.path == "/console/nodes"
    assert page.status_code == 200
    assert "test admin" in page.text
    assert ">admin<" in page.text.replace(" ", "")  # the role next to the key's name


def test_the_cookie_is_marked_secure_when_the_settings_say_so(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_key(sqlite_engine, "behind https", Role.ADMIN).token
    monkeypatch.setenv("DOM_COOKIE_SECURE", "true")
    with running_server(sqlite_engine) as base:
        response = httpx.post(f"{base}/console/login", data={"key": token})

    attributes = {part.strip().lower() for part in set_cookie_header(response).split(";")[1:]}
    assert "secure" in attributes


def test_a_login_form_posted_from_another_site_is_refused(server: str, admin_token: str) -> None:
    foreign = httpx.post(
        f"{server}/console/login",
        data={"key": admin_token},
        headers={"Origin": "https://attacker.example"},
    )
    own = httpx.post(
        f"{server}/console/login", data={"key": admin_token}, headers={"Origin": server}
    )

    assert foreign.status_code == 403
    assert "set-cookie" not in foreign.headers
    assert own.status_code == 303
    assert set_cookie_header(own).startswith(f"{COOKIE}=")


def test_a_logout_posted_from_another_site_keeps_the_session(server: str, admin_token: str) -> None:
    with signed_in(server, admin_token) as client:
        refused = client.post("/console/logout", headers={"Sec-Fetch-Site": "cross-site"})
        still = client.get("/console/nodes")

    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    assert still.status_code == 200


def test_logging_out_clears_the_cookie(server: str, admin_token: str) -> None:
    with signed_in(server, admin_token) as client:
        response = client.post("/console/logout")
        cleared = set_cookie_header(response)
        after = client.get("/console/nodes")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    assert re.search(r"max-age=0", cleared, re.IGNORECASE)
    assert COOKIE not in client.cookies
    assert after.status_code == 303
    assert after.headers["location"] == "/console/login"


def test_a_revoked_keys_cookie_is_sent_back_to_login(server: str, engine: Engine) -> None:
    issued = create_key(engine, "soon revoked", Role.VIEWER)
    with signed_in(server, issued.token) as client:
        before = client.get("/console/nodes")
        revoke_key(engine, issued.principal.key_id)
        after = client.get("/console/nodes")

    assert before.status_code == 200
    assert after.status_code == 303
    assert after.headers["location"] == "/console/login"
    assert re.search(r"max-age=0", set_cookie_header(after), re.IGNORECASE)


def test_a_key_that_may_not_read_the_network_is_told_so(server: str, engine: Engine) -> None:
    token = create_key(engine, "web shop", Role.CHANNEL, channel="web").token
    with signed_in(server, token) as client:
        response = client.get("/console/nodes")

    assert response.status_code == 403
    assert "may not network:read" in response.text
    assert "Log out" in response.text


# ---- the nodes page ------------------------------------------------------------------------


def test_the_nodes_page_lists_every_node_with_type_capabilities_status_and_capacity(
    server: str, engine: Engine, admin_token: str
) -> None:
    seed(engine, NETWORK)
    with signed_in(server, admin_token) as client:
        page = Page.of(client.get("/console/nodes").text)

    assert set(page.rows) == {r["id"] for r in NETWORK}
    for record in NETWORK:
        row = row_of(page, record["id"])
        assert row["name"] == record["name"]
        assert row["type"] == TYPE_LABELS[record["type"]]
        assert row["city"] == f"{record['city']}, {record['state']}"
        capabilities = sorted(c.replace("_", " ") for c in record["capabilities"])
        assert row["capabilities"] == ", ".join(capabilities)
    columbus = row_of(page, "dc-columbus")
    assert (columbus["orders"], columbus["units"], columbus["hours"]) == (
        "12,000",
        "30,000",
        "1,600",
    )
    assert columbus["handling"] == "hazmat, oversize"
    assert columbus["status"] == "active"
    assert row_of(page, "store-seattle")["hours"] == "37.5"
    miami = row_of(page, "store-miami")["status"]
    assert miami.startswith("paused hurricane closure — since ")
    assert " until " in miami


def test_the_nodes_page_counts_nodes_by_type(server: str, engine: Engine, admin_token: str) -> None:
    seed(engine, NETWORK)
    with signed_in(server, admin_token) as client:
        html = client.get("/console/nodes").text

    counts = dict(re.findall(r'class="count" data-type="(\w+)">(\d+)<', html))
    assert counts == {"dc": "1", "store": "5", "dropship_vendor": "1", "third_party_warehouse": "1"}
    assert "Showing 8 of 8 nodes · 1 paused" in " ".join(html.split())


def test_the_map_has_one_marker_per_node_shaped_by_type_with_a_tooltip(
    server: str, engine: Engine, admin_token: str
) -> None:
    seed(engine, NETWORK)
    with signed_in(server, admin_token) as client:
        page = Page.of(client.get("/console/nodes").text)

    assert set(page.markers) == {r["id"] for r in NETWORK}
    for record in NETWORK:
        marker = page.markers[record["id"]]
        assert f"t-{record['type']}" in marker.classes
        assert record["name"] in marker.title
        assert record["city"] in marker.title
        assert TYPE_LABELS[record["type"]] in marker.title
    assert "paused" in page.markers["store-miami"].classes
    assert "paused" in page.markers["store-miami"].title
    assert "paused" not in page.markers["store-seattle"].classes


def test_the_map_puts_nodes_where_they_are(server: str, engine: Engine, admin_token: str) -> None:
    seed(engine, NETWORK)
    with signed_in(server, admin_token) as client:
        page = Page.of(client.get("/console/nodes").text)

    at = page.markers
    assert at["store-seattle"].x < at["vendor-dallas"].x < at["dc-columbus"].x < at["store-miami"].x
    assert at["3pl-reno"].x < at["vendor-dallas"].x
    assert at["store-seattle"].y < at["3pl-reno"].y < at["vendor-dallas"].y < at["store-miami"].y
    assert set(page.insets) == {"Alaska", "Hawaii", "Puerto Rico & USVI"}
    assert page.inside("store-anchorage", "Alaska")
    assert page.inside("store-honolulu", "Hawaii")
    assert page.inside("store-san-juan", "Puerto Rico & USVI")
    assert not any(page.inside("store-seattle", inset) for inset in page.insets)


def test_the_type_filter_shows_only_nodes_of_that_type(
    server: str, engine: Engine, admin_token: str
) -> None:
    seed(engine, NETWORK)
    with signed_in(server, admin_token) as client:
        stores = Page.of(client.get("/console/nodes", params={"type": "store"}).text)
        unknown = Page.of(client.get("/console/nodes", params={"type": "castle"}).text)

    expected = {r["id"] for r in NETWORK if r["type"] == "store"}
    assert set(stores.rows) == expected
    assert set(stores.markers) == expected
    assert "(Store only)" in stores.text
    assert set(unknown.rows) == {r["id"] for r in NETWORK}


def test_a_node_keys_page_shows_only_its_own_node(server: str, engine: Engine) -> None:
    seed(engine, NETWORK)
    token = create_key(engine, "seattle handheld", Role.NODE, node_id="store-seattle").token
    with signed_in(server, token) as client:
        html = client.get("/console/nodes").text
    page = Page.of(html)

    assert set(page.rows) == {"store-seattle"}
    assert set(page.markers) == {"store-seattle"}
    assert "Your node" in html
    assert "Miami" not in html


def test_an_empty_network_says_how_to_fill_it(server: str, admin_token: str) -> None:
    with signed_in(server, admin_token) as client:
        response = client.get("/console/nodes")
    page = Page.of(response.text)

    assert response.status_code == 200
    assert page.rows == {}
    assert page.markers == {}
    assert "No nodes yet" in page.text


def test_console_pages_load_nothing_from_another_host(server: str, admin_token: str) -> None:
    host = urlsplit(server).netloc
    with signed_in(server, admin_token) as client:
        pages = [client.get("/console/nodes")]
        client.cookies.clear()
        pages.append(client.get("/console/login"))
        urls = [url for page in pages for url in Page.of(page.text).urls]
        assets = {urljoin(server, url) for url in urls if "/console/static/" in url}
        fetched = [client.get(url) for url in sorted(assets)]

    assert urls
    for url in urls:
        assert not url.startswith("//"), url
        if url.startswith(("http://", "https://")):
            assert urlsplit(url).netloc == host, url
    assert len(fetched) >= 3  # stylesheet, script, icon
    for asset in fetched:
        assert asset.status_code == 200, asset.url
        # an SVG's xmlns is a name, not a fetch; nothing else may name another host
        body = asset.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in body and "https://" not in body, asset.url
    for page in pages:
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_the_nodes_page_stays_quick_and_small_with_500_nodes(
    server: str, engine: Engine, admin_token: str
) -> None:
    # ZIP codes from everywhere the map shows (not Guam, Palau or unplaced military codes)
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
    with signed_in(server, admin_token) as client:
        client.get("/console/nodes")  # the first view builds the map background
        started = time.perf_counter()
        response = client.get("/console/nodes")
        seconds = time.perf_counter() - started
    page = Page.of(response.text)

    assert len(page.rows) == 500
    assert len(page.markers) == 500
    assert seconds < 3, f"the nodes page took {seconds:.2f} s with 500 nodes"
    assert len(response.content) < 600_000
    # the background is a handful of elements however many ZIP codes draw it
    assert page.svg_elements < 40 + 3 * len(page.markers)
