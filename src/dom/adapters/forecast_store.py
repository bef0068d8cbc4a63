"""The demand forecast in the database: the history it learns from, writing a new one in place
of the old, and reading an order's SKUs of it for routing.

A refresh locks the one `forecast_state` row first, so refreshes from several processes queue
behind each other; it inserts the new forecast under a fresh random id, points the state row at
it and deletes every other forecast, all in the caller's transaction. Routing reads the cells
through the state row in one statement, so it sees the old forecast or the new one, never a
mix. The per-node part (hundreds of rows, the same for every order) is kept per process under
the forecast's id, which no other forecast ever has.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from dom.adapters.bulk import insert_many
from dom.adapters.tables import (
    demand_forecasts,
    forecast_cells,
    forecast_nodes,
    forecast_skus,
    forecast_state,
    fulfilments,
    orders,
    sourcing_decisions,
)
from dom.domain.sourcing.forecast import Cell, Forecast, Settings

STATE_ID = 1

# Built once: routing runs the cell read on every protected order.
_CURRENT = select(forecast_state.c.forecast_id).where(forecast_state.c.id == STATE_ID)
_CELLS = (
    select(
        forecast_skus.c.forecast_id,
        forecast_skus.c.sku,
        forecast_skus.c.rate,
        forecast_cells.c.node_id,
        forecast_cells.c.weighted_units,
        forecast_cells.c.weighted_cost,
    )
    .select_from(
        forecast_skus.outerjoin(
            forecast_cells,
            and_(
                forecast_cells.c.forecast_id == forecast_skus.c.forecast_id,
                forecast_cells.c.sku == forecast_skus.c.sku,
            ),
        )
    )
    .where(
        forecast_skus.c.forecast_id == _CURRENT.scalar_subquery(),
        forecast_skus.c.sku.in_(bindparam("skus", expanding=True)),
    )
)
_PRIOR = (
    select(
        demand_forecasts.c.weight,
        demand_forecasts.c.half_life_days,
        demand_forecasts.c.prior_days,
        demand_forecasts.c.prior_units,
        demand_forecasts.c.line_cap,
        forecast_nodes.c.node_id,
        forecast_nodes.c.share,
        forecast_nodes.c.mean_cost,
    )
    .select_from(
        demand_forecasts.outerjoin(
            forecast_nodes, forecast_nodes.c.forecast_id == demand_forecasts.c.id
        )
    )
    .where(demand_forecasts.c.id == bindparam("forecast_id"))
)


@dataclass(frozen=True)
class _Prior:
    """The part of a forecast every order shares: its weight, settings and nodes."""

    weight: float
    settings: Settings
    node_share: Mapping[str, float]
    node_cost: Mapping[str, float]


_priors: dict[str, _Prior] = {}
_lock = threading.Lock()
_KEEP = 8  # forecasts remembered per process (one per database it routes on, and the last few)


# ---- history ----------------------------------------------------------------------------------


def served_since(connection: Connection, since: datetime) -> list[Any]:
    """Fulfilment requests of orders created since then, with the time each order was
    created (`ordered_at`)."""
    query = (
        select(
            fulfilments.c.id,
            fulfilments.c.order_id,
            fulfilments.c.node_id,
            fulfilments.c.method,
            fulfilments.c.status,
            fulfilments.c.created_at,
            fulfilments.c.document,
            orders.c.created_at.label("ordered_at"),
        )
        .join(orders, orders.c.id == fulfilments.c.order_id)
        .where(orders.c.created_at >= since)
        .order_by(fulfilments.c.order_id, fulfilments.c.created_at, fulfilments.c.id)
    )
    return list(connection.execute(query))


def plans_since(connection: Connection, since: datetime) -> list[Any]:
    """Routing decisions made since then: the order, and of each plan only its shipments and
    its alternatives (not the rest of the explanation, which can name every node)."""
    plan = sourcing_decisions.c.plan
    query = select(
        sourcing_decisions.c.order_id,
        plan["shipments"].label("shipments"),
        plan[("explanation", "alternatives")].label("alternatives"),
    ).where(sourcing_decisions.c.decided_at >= since)
    return list(connection.execute(query))


# ---- writing ----------------------------------------------------------------------------------


def lock_state(connection: Connection, now: datetime) -> None:
    """Take the state row (refreshes queue here) and note the time of this refresh."""
    connection.execute(
        update(forecast_state).where(forecast_state.c.id == STATE_ID).values(refreshed_at=now)
    )


def replace_forecast(
    connection: Connection,
    forecast_id: str,
    forecast: Forecast | None,
    header: Mapping[str, Any],
) -> None:
    """Make this forecast (None: no forecast) the one routing uses, and delete every other."""
    if forecast is not None:
        s = forecast.settings
        connection.execute(
            insert(demand_forecasts),
            {
                "id": forecast_id,
                **header,
                "weight": forecast.weight,
                "half_life_days": s.half_life_days,
                "prior_days": s.prior_days,
                "prior_units": s.prior_units,
                "line_cap": s.line_cap,
            },
        )
        insert_many(
            connection,
            forecast_cells,
            [
                {
                    "forecast_id": forecast_id,
                    "sku": sku,
                    "node_id": node_id,
                    "weighted_units": cell.weighted_units,
                    "weighted_cost": cell.weighted_cost,
                }
                for (node_id, sku), cell in sorted(forecast.cells.items())
            ],
        )
        insert_many(
            connection,
            forecast_skus,
            [
                {"forecast_id": forecast_id, "sku": sku, "rate": rate}
                for sku, rate in sorted(forecast.sku_rate.items())
            ],
        )
        insert_many(
            connection,
            forecast_nodes,
            [
                {
                    "forecast_id": forecast_id,
                    "node_id": node_id,
                    "share": share,
                    "mean_cost": forecast.node_cost.get(node_id, 0.0),
                }
                for node_id, share in sorted(forecast.node_share.items())
            ],
        )
    current = forecast_id if forecast is not None else None
    connection.execute(
        update(forecast_state).where(forecast_state.c.id == STATE_ID).values(forecast_id=current)
    )
    for table in (forecast_cells, forecast_skus, forecast_nodes):
        query = delete(table)
        if current is not None:
            query = query.where(table.c.forecast_id != current)
        connection.execute(query)
    query = delete(demand_forecasts)
    if current is not None:
        query = query.where(demand_forecasts.c.id != current)
    connection.execute(query)


# ---- reading ----------------------------------------------------------------------------------


def state(connection: Connection) -> Any:
    """The state row with the current forecast's header and its counts (None when none)."""
    counts = {
        name: select(func.count())
        .select_from(table)
        .where(table.c.forecast_id == forecast_state.c.forecast_id)
        .scalar_subquery()
        .label(name)
        for name, table in (
            ("cells", forecast_cells),
            ("skus", forecast_skus),
            ("nodes", forecast_nodes),
        )
    }
    query = (
        select(
            forecast_state.c.forecast_id,
            forecast_state.c.refreshed_at,
            demand_forecasts.c.computed_at,
            demand_forecasts.c.days,
            demand_forecasts.c.lines,
            demand_forecasts.c.units,
            *counts.values(),
        )
        .select_from(
            forecast_state.outerjoin(
                demand_forecasts, demand_forecasts.c.id == forecast_state.c.forecast_id
            )
        )
        .where(forecast_state.c.id == STATE_ID)
    )
    return connection.execute(query).first()


def forecast_for(connection: Connection, skus: Sequence[str]) -> Forecast | None:
    """The current forecast, as far as these SKUs go (their cells and network rates, every
    node's share); None when there is none or it knows none of them."""
    rows = connection.execute(_CELLS, {"skus": list(skus)}).all()
    if not rows:
        return None
    forecast_id = rows[0].forecast_id
    prior = _prior(connection, forecast_id)
    if prior is None:
        return None  # replaced between the two reads: this order goes unprotected
    cells = {
        (row.node_id, row.sku): Cell(row.weighted_units, row.weighted_cost)
        for row in rows
        if row.node_id is not None
    }
    return Forecast(
        cells=cells,
        sku_rate={row.sku: row.rate for row in rows},
        node_share=prior.node_share,
        node_cost=prior.node_cost,
        weight=prior.weight,
        settings=prior.settings,
    )


def _prior(connection: Connection, forecast_id: str) -> _Prior | None:
    found = _priors.get(forecast_id)
    if found is not None:
        return found
    # One statement: the forecast and its nodes as of one moment, even if a refresh commits.
    rows = connection.execute(_PRIOR, {"forecast_id": forecast_id}).all()
    if not rows:
        return None
    header = rows[0]
    nodes = [row for row in rows if row.node_id is not None]
    found = _Prior(
        header.weight,
        Settings(header.half_life_days, header.prior_days, header.prior_units, header.line_cap),
        {row.node_id: row.share for row in nodes},
        {row.node_id: row.mean_cost for row in nodes},
    )
    with _lock:
        while len(_priors) >= _KEEP:
            _priors.pop(next(iter(_priors)))
        _priors[forecast_id] = found
    return found
