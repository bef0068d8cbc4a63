"""Predictive inventory protection in production: learn a demand forecast per node and SKU from
the orders dom routed, store it, and price each unit a protecting profile would take with what
it is worth where it is.

- **History**: every fulfilment request of the orders created in the last `days` days, as
  `forecast.served_by` and `forecast.attributed` say — collected lines at their store at
  `lost_sale` a unit, shipped lines at their node at what the order's cheapest alternative
  without that node cost more (from the routing decision's explanation), transfers at the
  store they ship to.
- **Refresh** (`dom worker` hourly, `dom forecast refresh`, `POST /v1/forecast/refresh`):
  reads the history, estimates, and replaces the stored forecast in one transaction; an empty
  history leaves no forecast, so routing protects nothing.
- **Routing** (`protected`, from `sourcing.decide_in` when the profile's
  `weights.inventory_protection` is above zero): one read of the order's SKUs' cells; each
  offered unit is worth `Forecast.unit_value` over the horizon to the end of the node's next
  local day (its customers today and tomorrow).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from dom.adapters import forecast_store
from dom.adapters.database import reading, writing
from dom.domain.access import Action, Principal
from dom.domain.errors import InvalidInput, Problem
from dom.domain.orders.lifecycle import Method
from dom.domain.orders.model import Fulfilment
from dom.domain.sourcing.forecast import (
    LOST_SALE,
    Served,
    attributed,
    days_left_tomorrow,
    estimate,
    future_values_at,
    runner_up,
    served_by,
)
from dom.domain.sourcing.model import Alternative, Offer
from dom.services.order_records import fulfilment_from_row
from dom.services.plan_records import alternative_from_record

#: Days of order history a forecast learns from, unless told otherwise.
DEFAULT_DAYS = 28


@dataclass(frozen=True)
class ForecastInfo:
    """When the forecast was last refreshed, and what the one routing uses holds."""

    refreshed_at: datetime | None  # None: never
    forecast_id: str | None  # None: no forecast (never refreshed, or no history)
    computed_at: datetime | None
    days: int | None
    lines: int  # demand lines it learned from
    units: int
    cells: int  # (node, SKU) pairs with demand
    skus: int
    nodes: int


@dataclass(frozen=True)
class _Shipment:
    node_id: str
    line_ids: frozenset[str]
    units: int
    alternatives: tuple[Alternative, ...]


def refresh(
    engine: Engine,
    principal: Principal,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    lost_sale: float = LOST_SALE,
) -> ForecastInfo:
    """Learn the forecast from the last `days` days of orders and make it the one routing
    uses, in place of the last (atomically; concurrent refreshes queue)."""
    principal.require(Action.MANAGE_ROUTING)
    if days < 1:
        raise InvalidInput([Problem("days", f"must be at least 1 day of history, not {days}")])
    moment = now or datetime.now(UTC)
    since = moment - timedelta(days=days)
    with reading(engine) as connection:
        requests = forecast_store.served_since(connection, since)
        plans = forecast_store.plans_since(connection, since)
    history = attributed(served_lines(requests, plans), moment, days, lost_sale)
    forecast = estimate(history, days) if history else None
    header = {
        "computed_at": moment,
        "days": days,
        "lines": len(history),
        "units": sum(d.units for d in history),
    }
    with writing(engine) as connection:
        forecast_store.lock_state(connection, moment)
        forecast_store.replace_forecast(connection, secrets.token_hex(8), forecast, header)
        return _info(forecast_store.state(connection))


def current(engine: Engine, principal: Principal) -> ForecastInfo:
    """The forecast routing uses now, and when the last refresh ran."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        return _info(forecast_store.state(connection))


def _info(row: Any) -> ForecastInfo:
    if row is None:  # the state row is written by the migration; never missing in practice
        return ForecastInfo(None, None, None, None, 0, 0, 0, 0, 0)
    return ForecastInfo(
        row.refreshed_at,
        row.forecast_id,
        row.computed_at,
        row.days,
        row.lines or 0,
        row.units or 0,
        row.cells or 0,
        row.skus or 0,
        row.nodes or 0,
    )


def served_lines(requests: Iterable[Any], plans: Iterable[Any]) -> list[Served]:
    """The history's fulfilment requests as served lines, each shipped one priced with its
    routing decision's cheapest alternative without its node."""
    shipments = _shipments_by_order(plans)
    found: list[Served] = []
    for row in requests:
        request = fulfilment_from_row(row)
        extra = None
        if request.method is Method.SHIP and request.transfer_to is None:
            extra = _runner_up(shipments.get(row.order_id, ()), request)
        found.extend(served_by(request, row.ordered_at, extra))
    return found


def _shipments_by_order(plans: Iterable[Any]) -> dict[str, list[_Shipment]]:
    found: dict[str, list[_Shipment]] = {}
    for row in plans:
        alternatives = tuple(alternative_from_record(a) for a in row.alternatives or ())
        for shipment in row.shipments or ():
            lines = shipment["lines"]
            found.setdefault(row.order_id, []).append(
                _Shipment(
                    shipment["node_id"],
                    frozenset(line["line_id"] for line in lines),
                    sum(line["quantity"] for line in lines),
                    alternatives,
                )
            )
    return found


def _runner_up(shipments: Sequence[_Shipment], request: Fulfilment) -> float | None:
    """From the decision that sent these lines to this node: its cheapest alternative without
    the node, per unit of the node's shipment."""
    line_ids = {part.line_id for part in request.parts}
    for shipment in shipments:
        if shipment.node_id == request.node_id and shipment.line_ids & line_ids:
            return runner_up(shipment.alternatives, shipment.node_id, shipment.units)
    return None


def protected(
    connection: Connection, offers: Sequence[Offer], skus: Sequence[str], now: datetime
) -> list[Offer]:
    """The offers with each unit's future value at its node, from the current forecast; as
    they are when there is no forecast or it expects no demand for these SKUs."""
    if not offers:
        return list(offers)
    forecast = forecast_store.forecast_for(connection, skus)
    if forecast is None:
        return list(offers)
    zones = {offer.node.timezone for offer in offers}
    left = {zone: days_left_tomorrow(now, zone) for zone in zones}
    horizons = {offer.node.id: left[offer.node.timezone] for offer in offers}
    return future_values_at(forecast, offers, horizons)
