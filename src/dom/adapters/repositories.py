"""Mapping between domain objects and table rows, with bulk upserts and keyset-paginated lists."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date, time
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    String,
    Table,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from dom.adapters.bulk import execute_many
from dom.adapters.database import database_key
from dom.adapters.tables import (
    carrier_rates,
    carrier_services,
    carrier_zones,
    network_version,
    nodes,
    products,
    routing_rule_sets,
    sourcing_profiles,
)
from dom.adapters.tables import channel_exclusions as channel_exclusions_table
from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.catalog import Dimensions, Product
from dom.domain.geo import Coordinates
from dom.domain.network import (
    Address,
    Calendar,
    Capability,
    Capacity,
    Handling,
    HandlingCost,
    Node,
    NodeType,
    Pause,
    Weekday,
)


def upsert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing those whose primary key exists, in one statement per chunk."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    execute_many(
        connection, statement.on_conflict_do_update(index_elements=keys, set_=updates), rows
    )


def _json_list_contains(column: Column[Any], value: str) -> ColumnElement[bool]:
    """Portable membership test on a JSON list of strings (stored as '["a", "b"]')."""
    return cast(column, String).like(f'%"{value}"%')


# ---- nodes ---------------------------------------------------------------------------------


def node_to_row(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "type": node.type.value,
        "address_line1": node.address.line1,
        "city": node.address.city,
        "state": node.address.state,
        "zip": node.address.zip,
        "latitude": node.location.latitude,
        "longitude": node.location.longitude,
        "timezone": node.timezone,
        "capabilities": sorted(c.value for c in node.capabilities),
        "handling": sorted(h.value for h in node.handling),
        "capacity_orders": node.capacity.orders_per_day,
        "capacity_units": node.capacity.units_per_day,
        "capacity_labour_hours": node.capacity.labour_hours_per_day,
        "operating_days": [d.value for d in Weekday if d in node.calendar.operating_days],
        "holidays": sorted(d.isoformat() for d in node.calendar.holidays),
        "cutoff": node.calendar.cutoff.strftime("%H:%M"),
        "processing_days": node.calendar.processing_days,
        "cost_per_order": node.cost.per_order,
        "cost_per_unit": node.cost.per_unit,
        "pause_reason": node.pause.reason if node.pause else None,
        "pause_starts_at": node.pause.starts_at if node.pause else None,
        "pause_ends_at": node.pause.ends_at if node.pause else None,
    }


def row_to_node(row: Any) -> Node:
    pause = None
    if row.pause_reason is not None and row.pause_starts_at is not None:
        pause = Pause(row.pause_reason, row.pause_starts_at, row.pause_ends_at)
    return Node(
        id=row.id,
        name=row.name,
        type=NodeType(row.type),
        address=Address(row.address_line1, row.city, row.state, row.zip),
        location=Coordinates(row.latitude, row.longitude),
        timezone=row.timezone,
        capabilities=frozenset(Capability(c) for c in row.capabilities),
        handling=frozenset(Handling(h) for h in row.handling),
        capacity=Capacity(row.capacity_orders, row.capacity_units, row.capacity_labour_hours),
        calendar=Calendar(
            operating_days=frozenset(Weekday(d) for d in row.operating_days),
            holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
            cutoff=time.fromisoformat(row.cutoff),
            processing_days=row.processing_days,
        ),
        cost=HandlingCost(row.cost_per_order, row.cost_per_unit),
        pause=pause,
    )


def save_nodes(connection: Connection, items: Iterable[Node]) -> None:
    upsert(connection, nodes, [node_to_row(n) for n in items])
    network_changed(connection)


#: Where a transaction keeps the network it read (see network_cache.network), the products
#: it read, and the catalogue's token it read with the network's.
NETWORK_MEMO = "dom.network"
PRODUCTS_MEMO = "dom.products"
CATALOG_MEMO = "dom.catalog_token"
#: The rows of `network_version`: the network's token, and the catalogue's (written by the
#: first save of products; without it products are read every time)
NETWORK_ROW, CATALOG_ROW = 1, 2


def network_changed(connection: Connection) -> None:
    """A new network token, in the writer's transaction: every cached read of it is stale."""
    connection.info.pop(NETWORK_MEMO, None)
    connection.execute(
        update(network_version)
        .where(network_version.c.id == NETWORK_ROW)
        .values(token=uuid.uuid4().hex)
    )


def catalog_changed(connection: Connection) -> None:
    """A new catalogue token, in the writer's transaction: products kept by any process under
    the old one are read again."""
    connection.info.pop(PRODUCTS_MEMO, None)
    connection.info.pop(CATALOG_MEMO, None)
    upsert(connection, network_version, [{"id": CATALOG_ROW, "token": uuid.uuid4().hex}])


#: Where a transaction keeps the active routing versions read with the network's token.
ROUTING_MEMO = "dom.routing_versions"
#: The status of a profile version or rule set routing uses (see services/profiles).
ACTIVE = "active"

# Built once: every transaction that routes or checks an order runs these.
_ACTIVE_PROFILES = select(
    literal("profile"), sourcing_profiles.c.name, sourcing_profiles.c.version
).where(sourcing_profiles.c.status == ACTIVE)
_ACTIVE_RULES = select(literal("rules"), literal(""), routing_rule_sets.c.version).where(
    routing_rule_sets.c.status == ACTIVE
)
_ROUTING_VERSIONS = union_all(_ACTIVE_PROFILES, _ACTIVE_RULES)
_TOKEN_AND_ROUTING = union_all(  # flat: SQLite takes no compound select in parentheses
    select(literal("network"), network_version.c.token, literal(0)).where(
        network_version.c.id == NETWORK_ROW
    ),
    select(literal("catalog"), network_version.c.token, literal(0)).where(
        network_version.c.id == CATALOG_ROW
    ),
    _ACTIVE_PROFILES,
    _ACTIVE_RULES,
)
_PRODUCTS = select(products).where(products.c.sku.in_(bindparam("skus", expanding=True)))

RoutingVersions = frozenset[tuple[str, int]]


def network_token(connection: Connection) -> str | None:
    """The network's token. The catalogue's token and the active routing versions come back
    in the same round trip (a routed order asks for all three): kept for this transaction, by
    `products_by_sku` and for its next `active_routing_versions`."""
    token = catalog = None
    routing: set[tuple[str, int]] = set()
    for kind, name, version in connection.execute(_TOKEN_AND_ROUTING):
        if kind == "network":
            token = name
        elif kind == "catalog":
            catalog = name
        else:
            routing.add((str(name), int(version)))
    transaction = connection.get_transaction()
    if transaction is not None:
        connection.info[ROUTING_MEMO] = (transaction, frozenset(routing))
        connection.info[CATALOG_MEMO] = (transaction, catalog)
    return token


def active_routing_versions(connection: Connection) -> RoutingVersions:
    """Each active profile's name and version, and the active rule set's version (named ""):
    those read with the network's token in this transaction, if it read them and has not asked
    since (`routing_changed` forgets them), else read now."""
    memo = connection.info.pop(ROUTING_MEMO, None)
    transaction = connection.get_transaction()
    if memo is not None and transaction is not None and memo[0] is transaction:
        kept: RoutingVersions = memo[1]
        return kept
    return frozenset(
        (str(name), int(version)) for _, name, version in connection.execute(_ROUTING_VERSIONS)
    )


def routing_changed(connection: Connection) -> None:
    """A profile or rule set was activated in this transaction: versions read before are stale."""
    connection.info.pop(ROUTING_MEMO, None)


def get_node(connection: Connection, node_id: str) -> Node | None:
    row = connection.execute(select(nodes).where(nodes.c.id == node_id)).first()
    return row_to_node(row) if row else None


def node_ids(connection: Connection) -> set[str]:
    return set(connection.execute(select(nodes.c.id)).scalars())


def list_nodes(
    connection: Connection,
    *,
    after: str | None = None,
    limit: int | None = None,
    node_type: NodeType | None = None,
    state: str | None = None,
    capability: Capability | None = None,
    only: str | None = None,
) -> list[Node]:
    conditions: list[ColumnElement[bool]] = []
    if after is not None:
        conditions.append(nodes.c.id > after)
    if node_type is not None:
        conditions.append(nodes.c.type == node_type.value)
    if state is not None:
        conditions.append(nodes.c.state == state)
    if capability is not None:
        conditions.append(_json_list_contains(nodes.c.capabilities, capability.value))
    if only is not None:
        conditions.append(nodes.c.id == only)
    query = select(nodes).where(*conditions).order_by(nodes.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [row_to_node(row) for row in connection.execute(query)]


def product_skus(connection: Connection) -> set[str]:
    return set(connection.execute(select(products.c.sku)).scalars())


def service_keys(connection: Connection) -> set[str]:
    query = select(carrier_services.c.carrier, carrier_services.c.service)
    return {f"{carrier}/{service}" for carrier, service in connection.execute(query)}


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# ---- products ------------------------------------------------------------------------------


def product_to_row(product: Product) -> dict[str, Any]:
    dims = product.dimensions
    return {
        "sku": product.sku,
        "name": product.name,
        "length_in": dims.length_in if dims else None,
        "width_in": dims.width_in if dims else None,
        "height_in": dims.height_in if dims else None,
        "weight_lb": dims.weight_lb if dims else None,
        "handling": sorted(h.value for h in product.handling),
        "ship_alone": product.ship_alone,
        "stock_tracked": product.stock_tracked,
    }


def row_to_product(row: Any) -> Product:
    sizes = (row.length_in, row.width_in, row.height_in, row.weight_lb)
    dims = None if any(v is None for v in sizes) else Dimensions(*sizes)
    return Product(
        sku=row.sku,
        name=row.name,
        dimensions=dims,
        handling=frozenset(Handling(h) for h in row.handling),
        ship_alone=bool(row.ship_alone),
        stock_tracked=bool(row.stock_tracked),
    )


def save_products(connection: Connection, items: Iterable[Product]) -> None:
    upsert(connection, products, [product_to_row(p) for p in items])
    catalog_changed(connection)


#: Per database, the products this process read (None: not in the catalogue) under the
#: catalogue's token they were read under; emptied when it holds `KEPT_PRODUCTS`.
_kept_products: dict[str, tuple[str, dict[str, Product | None]]] = {}
KEPT_PRODUCTS = 100_000


def products_by_sku(connection: Connection, skus: Collection[str]) -> dict[str, Product]:
    """The catalogue's products among these SKUs, each read once per transaction (capturing an
    order checks its SKUs and routing it weighs and measures them, in one transaction) and,
    once the transaction has read the catalogue's token (`network_token`), once per process
    until the catalogue changes."""
    transaction = connection.get_transaction()
    memo = connection.info.get(PRODUCTS_MEMO)
    if memo is None or transaction is None or memo[0] is not transaction:
        found: dict[str, Product] = {}
        asked: set[str] = set()  # SKUs looked up, whether the catalogue has them or not
        connection.info[PRODUCTS_MEMO] = (transaction, found, asked)
    else:
        _, found, asked = memo
    missing = sorted(set(skus) - asked)
    if missing:
        kept = _kept_under_token(connection, transaction)
        known = kept if kept is not None else {}
        read: dict[str, Product | None] = {}
        unread: list[str] = []
        for sku in missing:
            try:  # one lookup each: another thread may empty `kept` meanwhile
                read[sku] = known[sku]
            except KeyError:
                unread.append(sku)
        if unread:
            fetched = {p.sku: p for p in get_products(connection, unread)}
            fresh = {sku: fetched.get(sku) for sku in unread}
            read.update(fresh)
            if kept is not None:
                if len(kept) + len(fresh) > KEPT_PRODUCTS:
                    kept.clear()
                kept.update(fresh)
        found.update((sku, product) for sku, product in read.items() if product is not None)
        asked.update(missing)
    return {sku: found[sku] for sku in skus if sku in found}


def _kept_under_token(
    connection: Connection, transaction: object
) -> dict[str, Product | None] | None:
    """The process's products for this database under the catalogue's token this transaction
    read; None if it read none."""
    memo = connection.info.get(CATALOG_MEMO)
    if memo is None or transaction is None or memo[0] is not transaction or memo[1] is None:
        return None
    token: str = memo[1]
    database = database_key(connection)
    entry = _kept_products.get(database)
    if entry is None or entry[0] != token:
        entry = _kept_products[database] = (token, {})
    return entry[1]


def get_products(connection: Connection, skus: Sequence[str]) -> list[Product]:
    rows = connection.execute(_PRODUCTS, {"skus": list(skus)})
    return [row_to_product(row) for row in rows]


def get_product(connection: Connection, sku: str) -> Product | None:
    row = connection.execute(select(products).where(products.c.sku == sku)).first()
    return row_to_product(row) if row else None


def list_products(
    connection: Connection,
    *,
    after: str | None = None,
    limit: int | None = None,
    handling: Handling | None = None,
    search: str | None = None,
) -> list[Product]:
    conditions: list[ColumnElement[bool]] = []
    if after is not None:
        conditions.append(products.c.sku > after)
    if handling is not None:
        conditions.append(_json_list_contains(products.c.handling, handling.value))
    if search:
        # Escape LIKE's wildcards: "SKU_1" must not match "SKU-1", nor "%" everything.
        text = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        conditions.append(
            func.lower(products.c.sku).like(pattern, escape="\\")
            | func.lower(products.c.name).like(pattern, escape="\\")
        )
    query = select(products).where(*conditions).order_by(products.c.sku)
    if limit is not None:
        query = query.limit(limit)
    return [row_to_product(row) for row in connection.execute(query)]


def stored_product_rows(connection: Connection) -> list[Any]:
    """Raw rows, for the audit: stored data may predate today's validation rules."""
    return list(connection.execute(select(products).order_by(products.c.sku)))


# ---- carrier services ----------------------------------------------------------------------


def save_services(connection: Connection, items: Iterable[CarrierService]) -> None:
    """Replace each service whole: its zones and rate table are rewritten."""
    services = list(items)
    for service in services:
        for table in (carrier_rates, carrier_zones):
            connection.execute(
                delete(table).where(
                    (table.c.carrier == service.carrier) & (table.c.service == service.service)
                )
            )
    upsert(
        connection,
        carrier_services,
        [
            {
                "carrier": s.carrier,
                "service": s.service,
                "name": s.name,
                "service_level": s.service_level,
                "dim_divisor": s.dim_divisor,
                "residential_surcharge": s.residential_surcharge,
                "fuel_surcharge_pct": s.fuel_surcharge_pct,
                "pickup_days": [d.value for d in Weekday if d in s.pickup_days],
            }
            for s in services
        ],
    )
    zones = zone_rows(services)
    rates = rate_rows(services)
    if zones:
        connection.execute(carrier_zones.insert(), zones)
    if rates:
        execute_many(connection, carrier_rates.insert(), rates)
    network_changed(connection)


def zone_rows(services: Iterable[CarrierService]) -> list[dict[str, Any]]:
    """Zone bands as table rows (and as the carrier_zones CSV file's rows)."""
    return [
        {
            "carrier": s.carrier,
            "service": s.service,
            "zone": b.zone,
            "max_miles": b.max_miles,
            "transit_days": b.transit_days,
        }
        for s in services
        for b in s.zones
    ]


def rate_rows(services: Iterable[CarrierService]) -> list[dict[str, Any]]:
    """Rates as table rows (and as the carrier_rates CSV file's rows), in key order."""
    return [
        {"carrier": s.carrier, "service": s.service, "zone": z, "weight_lb": w, "price": p}
        for s in services
        for (z, w), p in sorted(s.rates.items())
    ]


def channel_exclusions(connection: Connection) -> dict[str, frozenset[str]]:
    """Per channel, the nodes left out of its availability."""
    found: dict[str, set[str]] = {}
    for channel, node_id in connection.execute(
        select(channel_exclusions_table.c.channel, channel_exclusions_table.c.node_id)
    ):
        found.setdefault(channel, set()).add(node_id)
    return {channel: frozenset(nodes) for channel, nodes in found.items()}


def list_services(
    connection: Connection, *, carrier: str | None = None, service: str | None = None
) -> list[CarrierService]:
    """Every service with its zones and rates, built with three queries whatever the count."""

    def scoped(table: Table) -> Any:
        query = select(table)
        if carrier is not None:
            query = query.where(table.c.carrier == carrier)
        if service is not None:
            query = query.where(table.c.service == service)
        return query

    zones: dict[tuple[str, str], list[ZoneBand]] = {}
    for row in connection.execute(scoped(carrier_zones).order_by(carrier_zones.c.zone)):
        zones.setdefault((row.carrier, row.service), []).append(
            ZoneBand(row.zone, row.max_miles, row.transit_days)
        )
    rates: dict[tuple[str, str], dict[tuple[int, int], float]] = {}
    for row in connection.execute(scoped(carrier_rates)):
        rates.setdefault((row.carrier, row.service), {})[(row.zone, row.weight_lb)] = row.price
    order = (carrier_services.c.carrier, carrier_services.c.service)
    return [
        CarrierService(
            carrier=row.carrier,
            service=row.service,
            name=row.name,
            service_level=row.service_level,
            dim_divisor=row.dim_divisor,
            residential_surcharge=row.residential_surcharge,
            fuel_surcharge_pct=row.fuel_surcharge_pct,
            pickup_days=frozenset(Weekday(d) for d in row.pickup_days),
            zones=tuple(zones.get((row.carrier, row.service), [])),
            rates=rates.get((row.carrier, row.service), {}),
        )
        for row in connection.execute(scoped(carrier_services).order_by(*order))
    ]
