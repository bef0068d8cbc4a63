"""The console's pages: sign in with an API key, then see the network and a SKU's stock on a
map and in tables, and the orders with their timelines and routing explanations.

The console calls the same services as the REST API; what its pages share (templates, the
session cookie, refusing cross-site posts) is in `pages`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from dom.api.deps import COOKIE
from dom.console.mapview import TYPE_LABELS, Marker, map_view, place
from dom.console.pages import (
    INVENTORY_URL,
    LOGIN_URL,
    NODES_URL,
    ORDERS_URL,
    cookie_secure,
    cross_site,
    engine_of,
    forget_cookie,
    refused_cross_site,
    render,
    signed_in,
    to_login,
)
from dom.console.stock import stock_view, suggestions
from dom.console.usmap import Point
from dom.domain.access import Action, Principal
from dom.domain.catalog import Product
from dom.domain.errors import Forbidden, NotFound, Unauthenticated
from dom.domain.network import Node, NodeStatus, NodeType
from dom.domain.orders.lifecycle import Status
from dom.services import catalog, monitoring, network, orders, sourcing
from dom.services.keys import authenticate

ORDERS_SHOWN = 100
PAGE_SIZE = 1000
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class NodeRow:
    """A node as the nodes page shows it: its status now, a note on its pause, its map point."""

    node: Node
    status: NodeStatus
    pause_note: str
    at: Point | None

    @property
    def summary(self) -> str:
        place = f"{self.node.address.city}, {self.node.address.state}"
        return f"{self.node.name} — {TYPE_LABELS[self.node.type]}, {place} — {self.status.value}"


@dataclass(frozen=True)
class TypeCount:
    type: NodeType
    label: str
    nodes: int
    paused: int


# ---- pages ---------------------------------------------------------------------------------


@router.get("/")
def home() -> RedirectResponse:
    """The service's front door is the console."""
    return RedirectResponse("/console", status_code=303)


@router.get("/console")
def console(request: Request) -> Response:
    """The console's landing page, once signed in: the network, or inventory for a key that may
    not read the network (a channel)."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    return RedirectResponse(_landing(principal), status_code=303)


@router.get(LOGIN_URL)
def login_form(request: Request) -> Response:
    """The form asking for an API key (straight on to the console when already signed in)."""
    principal = signed_in(request)
    if principal is not None:
        return RedirectResponse(_landing(principal), status_code=303)
    return render("login.html", principal=None, error=None)


@router.post(LOGIN_URL)
def login(request: Request, key: Annotated[str, Form()] = "") -> Response:
    """Sign in: a valid key becomes the session cookie; anything else re-shows the form."""
    if cross_site(request):
        return refused_cross_site()
    try:
        authenticate(engine_of(request), key.strip() or None)
    except Unauthenticated as error:
        detail = "enter an API key" if not key.strip() else error.detail
        return render("login.html", status_code=401, principal=None, error=detail)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        key.strip(),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )
    return response


@router.post("/console/logout")
def logout(request: Request) -> Response:
    """Sign out: the cookie is cleared; the key itself stays valid until revoked."""
    if cross_site(request):
        return refused_cross_site()
    response = RedirectResponse(LOGIN_URL, status_code=303)
    forget_cookie(request, response)
    return response


@router.get(NODES_URL)
def nodes_page(request: Request, type: str = "") -> Response:
    """The network on a map and in a table, optionally only one node type."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    try:
        nodes = visible_nodes(engine_of(request), principal)
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    chosen = _node_type(type)
    now = datetime.now(UTC)
    rows = [node_row(node, now) for node in nodes if chosen is None or node.type is chosen]
    view = map_view(node_markers(rows))
    return render(
        "nodes.html",
        principal=principal,
        current="nodes",
        rows=rows,
        view=view,
        off_map=len(rows) - len(view.markers),
        total=len(nodes),
        paused=sum(1 for r in rows if r.status is NodeStatus.PAUSED),
        counts=type_counts(nodes, now),
        chosen=chosen,
        now=now,
    )


@router.get(INVENTORY_URL)
def inventory_page(request: Request, sku: str = "") -> Response:
    """Search a SKU; for a known one, its positions on the map and in a table, with recent events.

    A key that may not read the network (a channel) still sees the positions, listed by node id
    without a map; a node key sees only its own node's position.
    """
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    engine = engine_of(request)
    query = sku.strip()
    try:
        if not query:
            return _search_page(principal, query)
        try:
            product = catalog.get_product(engine, principal, query)
        except NotFound:
            matches, more = suggestions(engine, principal, query)
            return _search_page(principal, query, matches, more)
        nodes = (
            {node.id: node for node in visible_nodes(engine, principal)}
            if principal.may(Action.READ_NETWORK)
            else None
        )
        now = datetime.now(UTC)
        stock = stock_view(engine, principal, product, nodes, now)
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    return render(
        "inventory.html",
        principal=principal,
        current="inventory",
        query=query,
        stock=stock,
        product=product,
        now=now,
    )


def _search_page(
    principal: Principal, query: str, matches: list[Product] | None = None, more: bool = False
) -> HTMLResponse:
    """The search form alone, or "no such SKU" (404) with the products that match the query."""
    return render(
        "inventory_search.html",
        status_code=200 if matches is None else 404,
        principal=principal,
        current="inventory",
        query=query,
        matches=matches,
        more=more,
    )


@router.get(ORDERS_URL)
def orders_page(request: Request, status: str = "") -> Response:
    """The newest orders (by status if asked), what is at risk, and each node's day."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    engine = engine_of(request)
    wanted = Status(status) if status in {s.value for s in Status} else None
    try:
        page = orders.orders(engine, principal, wanted, ORDERS_SHOWN)
        overview = monitoring.overview(engine, principal)
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    busiest = sorted(
        overview.nodes,
        key=lambda load: load.units_used / max(1, load.units_per_day),
        reverse=True,
    )[:15]
    return render(
        "orders.html",
        principal=principal,
        current="orders",
        page=page,
        overview=overview,
        busiest=busiest,
        wanted=wanted,
        statuses=list(Status),
    )


@router.get(ORDERS_URL + "/{order_id}")
def order_page(request: Request, order_id: str) -> Response:
    """One order: its lines, fulfilment requests, timeline and the routing explanation."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    engine = engine_of(request)
    try:
        found = orders.order(engine, principal, order_id)
        decisions = (
            [sourcing.decision(engine, principal, d) for d in found.decisions]
            if principal.may(Action.READ_INVENTORY)
            else []
        )
    except NotFound:
        return render(
            "refused.html", status_code=404, principal=principal, reason=f"No order {order_id}"
        )
    except Forbidden as error:
        return render("refused.html", status_code=403, principal=principal, reason=error.detail)
    return render(
        "order.html",
        principal=principal,
        current="orders",
        order=found,
        decisions=decisions,
    )


# ---- building the nodes page ---------------------------------------------------------------


def visible_nodes(engine: Engine, principal: Principal) -> list[Node]:
    """Every node the principal may see, page by page (a node key sees only its own)."""
    found: list[Node] = []
    after: str | None = None
    while True:
        page = network.list_nodes(engine, principal, after=after, limit=PAGE_SIZE)
        found.extend(page)
        if len(page) < PAGE_SIZE:
            return found
        after = page[-1].id


def node_row(node: Node, now: datetime) -> NodeRow:
    """A node with its status now and its point on the map (None when the map does not show it)."""
    return NodeRow(node, node.status_at(now), pause_note(node, now), place(node))


def node_markers(rows: list[NodeRow]) -> list[Marker]:
    """A marker per node the map shows, hollow while the node is paused."""
    return [
        Marker(
            row.node, row.at, row.summary, ("paused",) if row.status is NodeStatus.PAUSED else ()
        )
        for row in rows
        if row.at is not None
    ]


def pause_note(node: Node, now: datetime) -> str:
    """The pause that covers now or is still to come, with its reason and window; else ''."""
    pause = node.pause
    if pause is None or (pause.ends_at is not None and pause.ends_at <= now):
        return ""
    until = f"until {_when(pause.ends_at)}" if pause.ends_at else "until resumed"
    if pause.covers(now):
        return f"{pause.reason} — since {_when(pause.starts_at)}, {until}"
    return f"pause planned: {pause.reason} — from {_when(pause.starts_at)}, {until}"


def type_counts(nodes: list[Node], now: datetime) -> list[TypeCount]:
    """How many nodes of each type, and how many of those are paused now."""
    totals = Counter(node.type for node in nodes)
    paused = Counter(node.type for node in nodes if node.status_at(now) is NodeStatus.PAUSED)
    return [TypeCount(t, TYPE_LABELS[t], totals[t], paused[t]) for t in NodeType]


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _node_type(value: str) -> NodeType | None:
    """The node type a filter names; empty or unknown means every type."""
    try:
        return NodeType(value)
    except ValueError:
        return None


# ---- session and safety --------------------------------------------------------------------


def _landing(principal: Principal) -> str:
    return NODES_URL if principal.may(Action.READ_NETWORK) else INVENTORY_URL
