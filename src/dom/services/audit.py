"""The data-quality audit over what is stored: nodes, products as stored, carrier services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from dom.adapters import inventory_store
from dom.adapters import repositories as repo
from dom.adapters.database import reading
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.audit import AuditData, AuditReport, ProductRow, audit
from dom.domain.errors import InvalidField


def run_audit(
    engine: Engine, principal: Principal, zips: ZipDirectory, *, stale_days: int = 30
) -> AuditReport:
    """Audit the stored master data and inventory; counts older than `stale_days` are stale."""
    principal.require(Action.RUN_AUDIT)
    if stale_days < 1:
        raise InvalidField("stale_days", "must be at least 1")
    with reading(engine) as connection:
        nodes = repo.list_nodes(connection)
        products = [product_row(row) for row in repo.stored_product_rows(connection)]
        services = repo.list_services(connection)
        now = datetime.now(UTC)
        positions = inventory_store.read_positions(connection, now)
    data = AuditData(
        nodes,
        products,
        services,
        zips.lookup,
        stale_days=stale_days,
        positions=positions,
        as_of=now,
    )
    return audit(data)


def product_row(row: Any) -> ProductRow:
    """A stored product row, taken as it is: legacy rows may miss values the domain requires."""
    return ProductRow(
        sku=row.sku,
        length_in=row.length_in,
        width_in=row.width_in,
        height_in=row.height_in,
        weight_lb=row.weight_lb,
        handling=frozenset(str(h) for h in row.handling or ()),
        stock_tracked=bool(row.stock_tracked),
    )
