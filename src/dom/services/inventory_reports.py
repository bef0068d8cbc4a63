"""Inventory reports beside `services.inventory`'s: positions whose count has gone stale."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from dom.adapters import inventory_store as store
from dom.adapters.database import reading
from dom.domain.access import Action, Principal
from dom.domain.audit import STALE_DAYS, stale_counts
from dom.domain.errors import InvalidInput, Problem
from dom.domain.inventory import Position

NEVER = datetime.min.replace(tzinfo=UTC)


def stale_positions(
    engine: Engine,
    principal: Principal,
    *,
    days: int = STALE_DAYS,
    node_id: str | None = None,
    limit: int = 1000,
    now: datetime | None = None,
) -> list[Position]:
    """Positions holding stock whose last count is older than `days` days (the audit's rule),
    never-counted first, then oldest count first; a node key sees only its own node."""
    principal.require(Action.READ_INVENTORY)
    problems = []
    if days < 1:
        problems.append(Problem("days", "must be at least 1"))
    if limit < 1:
        problems.append(Problem("limit", "must be at least 1"))
    if problems:
        raise InvalidInput(problems)
    if principal.node_id is not None:
        principal.require_node(node_id or principal.node_id)
        node_id = principal.node_id
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        found = store.read_positions(connection, moment, node_id=node_id)
    stale = stale_counts(found, moment, days)
    stale.sort(key=lambda p: (p.snapshot_at or NEVER, p.sku, p.node_id))
    return stale[:limit]
