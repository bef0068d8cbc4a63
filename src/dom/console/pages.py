"""What every console page shares: the templates, the security headers, the session (the API
key in an HttpOnly, SameSite=Strict cookie) and the refusal of forms posted from another site."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import Engine

from dom.api.deps import COOKIE
from dom.console.mapview import TYPE_LABELS
from dom.console.stock import RECENT_EVENTS
from dom.domain.access import Action, Principal
from dom.domain.errors import Unauthenticated
from dom.services.keys import authenticate

STATIC_URL = "/console/static"
LOGIN_URL = "/console/login"
NODES_URL = "/console/nodes"
INVENTORY_URL = "/console/inventory"
ORDERS_URL = "/console/orders"
NOTIFICATIONS_URL = "/console/notifications"
SECURITY_HEADERS = {
    # Everything the page uses comes from this server: no CDN, no inline script or style.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # "no-referrer" would make browsers send `Origin: null` on our own forms.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=PackageLoader("dom.console", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["words"] = lambda value: str(value).replace("_", " ")
templates.filters["units"] = lambda value: f"{value:,}"
templates.filters["measure"] = lambda value: f"{value:,.2f}".rstrip("0").rstrip(".")
templates.globals.update(
    static=STATIC_URL,
    type_labels=TYPE_LABELS,
    nodes_url=NODES_URL,
    inventory_url=INVENTORY_URL,
    orders_url=ORDERS_URL,
    notifications_url=NOTIFICATIONS_URL,
    read_network=Action.READ_NETWORK,
    read_orders=Action.READ_ORDERS,
    manage_notifications=Action.MANAGE_NOTIFICATIONS,
    recent=RECENT_EVENTS,
)


def static_files() -> StaticFiles:
    """The console's CSS, script and icon, served from the installed package."""
    return StaticFiles(packages=[("dom.console", "static")])


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def cookie_secure(request: Request) -> bool:
    return bool(request.app.state.settings.cookie_secure)


def signed_in(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return authenticate(engine_of(request), token)
    except Unauthenticated:
        return None


def to_login(request: Request) -> RedirectResponse:
    """Back to the login form; a cookie that no longer signs in (revoked key) is dropped."""
    response = RedirectResponse(LOGIN_URL, status_code=303)
    if COOKIE in request.cookies:
        forget_cookie(request, response)
    return response


def forget_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=cookie_secure(request)
    )


def cross_site(request: Request) -> bool:
    """A form posted from another site: the browser says so, or its Origin is not this host.

    Browsers send Origin on every POST; a request without one (curl, scripts) cannot carry a
    victim's cookie on its own, and the SameSite=Strict cookie already stays home.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc != request.headers.get("host")


def refused_cross_site() -> HTMLResponse:
    return render(
        "refused.html",
        status_code=403,
        principal=None,
        reason="this form was sent from another site; open the console and try again",
    )


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("current", "")
    html = templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
