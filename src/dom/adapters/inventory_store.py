"""Positions, holds and inventory events in the database.

Every change to a position happens under a lock on its row, taken in (sku, node) order so two
writers never wait on each other in a circle: `BEGIN IMMEDIATE` on SQLite (one writer at a time),
`SELECT … FOR UPDATE` on PostgreSQL. Holds are counted by `positions.reserved`; writers delete
the expired holds of the positions they lock, and readers count only holds still in force.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from itertools import compress
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from dom.adapters import bulk, repositories
from dom.adapters.network_cache import network
from dom.adapters.tables import (
    channel_exclusions,
    holds,
    inbound_supply,
    inventory_events,
    positions,
)
from dom.domain.inventory import Method, Position, Shortage

Key = tuple[str, str]  # (sku, node_id)

POSITION_COLUMNS = (
    positions.c.sku,
    positions.c.node_id,
    positions.c.on_hand,
    positions.c.reserved,
    positions.c.allocated,
    positions.c.safety_stock,
    positions.c.snapshot_at,
)


def lock_positions(
    connection: Connection, keys: Iterable[Key], now: datetime
) -> dict[Key, Position]:
    """Create missing positions, lock them all in key order, sweep their expired holds."""
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    locked, stale = _select_for_update(connection, ordered, now)
    missing = [key for key in ordered if key not in locked]
    if missing:
        insert_ = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        blank = {"on_hand": 0, "reserved": 0, "allocated": 0, "safety_stock": 0, "updated_at": now}
        bulk.execute_many(
            connection,
            insert_(positions).on_conflict_do_nothing(index_elements=["sku", "node_id"]),
            [{"sku": sku, "node_id": node, **blank} for sku, node in missing],
        )
        # A new row is locked by its insert; a racing writer's row is locked by the select.
        created, created_stale = _select_for_update(connection, missing, now)
        locked.update(created)
        stale += created_stale
    # Most locks find no expired hold: the select says which do, and only those are swept (a
    # hold a racing writer committed while we waited is seen by the next writer's sweep).
    if stale:
        for key, swept in sweep_expired(connection, sorted(stale), now).items():
            locked[key] = replace(locked[key], reserved=locked[key].reserved - swept)
    return locked


KEY_COLUMNS = (("a", String()), ("b", String()))
COUNT_COLUMNS = (("a", String()), ("b", String()), ("n", Integer()))


def _select_for_update(
    connection: Connection, ordered: Sequence[Key], now: datetime
) -> tuple[dict[Key, Position], list[Key]]:
    """The positions, locked, and the keys of those with expired holds."""
    dialect = connection.dialect.name
    found = connection.execute(
        _lock_statement(dialect),
        {**bulk.rows_params(dialect, "wanted", KEY_COLUMNS, ordered), "now": now},
    )
    locked: dict[Key, Position] = {}
    stale: list[Key] = []
    # Unpacked by position, not by name: a full count locks tens of thousands of rows.
    for sku, node, on_hand, reserved, allocated, safety, snapshot_at, expired_holds in found:
        locked[(sku, node)] = Position(sku, node, on_hand, reserved, allocated, safety, snapshot_at)
        if expired_holds:
            stale.append((sku, node))
    return locked, stale


@cache
def _lock_statement(dialect: str) -> Any:
    """Built once per dialect: every write of a position runs it."""
    wanted = bulk.rows_table(dialect, "wanted", KEY_COLUMNS)
    query = (
        select(*POSITION_COLUMNS, _has_expired_holds().label("stale"))
        .join(wanted, and_(positions.c.sku == wanted.c.a, positions.c.node_id == wanted.c.b))
        .order_by(positions.c.sku, positions.c.node_id)
    )
    return query.with_for_update(of=positions) if dialect == "postgresql" else query


def _has_expired_holds() -> Any:
    """Whether the position of the row has holds expired at the bound `now`."""
    return (
        select(holds.c.sku)
        .where(
            holds.c.sku == positions.c.sku,
            holds.c.node_id == positions.c.node_id,
            holds.c.expires_at <= bindparam("now", type_=holds.c.expires_at.type),
        )
        .exists()
    )


def sweep_expired(connection: Connection, keys: Sequence[Key], now: datetime) -> dict[Key, int]:
    """Delete locked positions' expired holds and take them off their reserved counts."""
    swept: dict[Key, int] = {}
    locked = bulk.key_table(connection, keys, "locked")
    gone = connection.execute(
        delete(holds)
        .where(
            tuple_(holds.c.sku, holds.c.node_id).in_(select(locked.c.a, locked.c.b)),
            holds.c.expires_at <= now,
        )
        .returning(holds.c.sku, holds.c.node_id, holds.c.quantity)
    )
    for sku, node, quantity in gone:
        swept[(sku, node)] = swept.get((sku, node), 0) + int(quantity)
    for (sku, node), quantity in swept.items():
        connection.execute(
            update(positions)
            .where(positions.c.sku == sku, positions.c.node_id == node)
            .values(reserved=positions.c.reserved - quantity)
        )
    return swept


def save_positions(connection: Connection, changed: Iterable[Position], now: datetime) -> None:
    """Write many positions in one statement."""
    rows = [
        {
            "sku": p.sku,
            "node_id": p.node_id,
            "on_hand": p.on_hand,
            "reserved": p.reserved,
            "allocated": p.allocated,
            "safety_stock": p.safety_stock,
            "snapshot_at": p.snapshot_at,
        }
        for p in changed
    ]
    bulk.update_many(connection, positions, ("sku", "node_id"), rows, same={"updated_at": now})


def events_by_keys(connection: Connection, keys: Sequence[str]) -> dict[str, Any]:
    wanted = bulk.value_table(connection, keys, "wanted")
    query = select(inventory_events).where(
        inventory_events.c.idempotency_key.in_(select(wanted.c.value))
    )
    return {row.idempotency_key: row for row in connection.execute(query)}


def insert_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    bulk.insert_many(connection, inventory_events, rows)


def reserve_if_available(
    connection: Connection, key: Key, quantity: int, now: datetime, method: Method
) -> bool:
    """One conditional statement: hold `quantity` only if that much is available right now
    (for shipping, safety stock is kept back; for pickup at the store, it is not)."""
    sku, node = key
    done = connection.execute(
        update(positions)
        .where(positions.c.sku == sku, positions.c.node_id == node, _free(method) >= quantity)
        .values(reserved=positions.c.reserved + quantity, updated_at=now)
    )
    return done.rowcount == 1


def reserve_all_available(
    connection: Connection, wanted: Mapping[Key, int], now: datetime, method: Method
) -> set[Key]:
    """One conditional statement for many positions: hold each one's quantity only if that
    much is available right now; returns the positions held (the others are left alone)."""
    return _take_all_available(connection, "reserved", wanted, now, method)


def allocate_all_available(
    connection: Connection, wanted: Mapping[Key, int], now: datetime, method: Method
) -> set[Key]:
    """The same for allocations: units committed to an order."""
    return _take_all_available(connection, "allocated", wanted, now, method)


def _take_all_available(
    connection: Connection, column: str, wanted: Mapping[Key, int], now: datetime, method: Method
) -> set[Key]:
    if not wanted:
        return set()
    dialect = connection.dialect.name
    rows = [(sku, node, quantity) for (sku, node), quantity in wanted.items()]
    done = connection.execute(
        _take_statement(dialect, column, method),
        {**bulk.rows_params(dialect, "given", COUNT_COLUMNS, rows), "now": now},
    )
    return {(sku, node) for sku, node in done}


@cache
def _take_statement(dialect: str, column: str, method: Method) -> Any:
    """Built once per dialect, column (reserved or allocated) and method: every reservation
    and every allocation runs one."""
    given = bulk.rows_table(dialect, "given", COUNT_COLUMNS)
    return (
        update(positions)
        .where(
            positions.c.sku == given.c.a,
            positions.c.node_id == given.c.b,
            _free(method) >= given.c.n,
        )
        .values(
            {
                column: positions.c[column] + given.c.n,
                "updated_at": bindparam("now", type_=positions.c.updated_at.type),
            }
        )
        .returning(positions.c.sku, positions.c.node_id)
    )


def _free(method: Method) -> Any:
    """Units a position can still promise: for shipping, safety stock is kept back."""
    free = positions.c.on_hand - positions.c.reserved - positions.c.allocated
    return free - positions.c.safety_stock if method is Method.SHIP else free


def receive_against(
    connection: Connection, supply_id: str, sku: str, node_id: str, quantity: int
) -> str | None:
    """Count a receipt against its inbound line; returns the reason it cannot, or None."""
    query = select(inbound_supply).where(inbound_supply.c.id == supply_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        return f"no inbound supply {supply_id!r}"
    if (row.sku, row.node_id) != (sku, node_id):
        return f"inbound supply {supply_id} is {row.sku} for {row.node_id}"
    remaining = row.quantity - row.received
    if quantity > remaining:
        return f"inbound supply {supply_id} has {remaining} units still to come, not {quantity}"
    connection.execute(
        update(inbound_supply)
        .where(inbound_supply.c.id == supply_id)
        .values(received=row.received + quantity)
    )
    return None


def set_safety_stock(connection: Connection, key: Key, quantity: int, now: datetime) -> None:
    sku, node = key
    connection.execute(
        update(positions)
        .where(positions.c.sku == sku, positions.c.node_id == node)
        .values(safety_stock=quantity, updated_at=now)
    )


def excluded_nodes(connection: Connection, channel: str) -> set[str]:
    """The nodes left out of the channel's availability: kept with the network snapshot, which
    every order reads anyway (no query of its own)."""
    return set(network(connection).exclusions.get(channel, ()))


def replace_exclusions(connection: Connection, channel: str, node_ids: Iterable[str]) -> None:
    connection.execute(delete(channel_exclusions).where(channel_exclusions.c.channel == channel))
    rows = [{"channel": channel, "node_id": node} for node in sorted(set(node_ids))]
    if rows:
        connection.execute(insert(channel_exclusions), rows)
    repositories.network_changed(connection)  # every process's network snapshot is stale


_INSERT_HOLD = insert(holds)


def insert_holds(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(_INSERT_HOLD, list(rows))


def takes_at_once(database: Engine | Connection) -> bool:
    """Whether `hold_in_full` and `allocate_in_full` do their whole work in one statement:
    PostgreSQL can (data-modifying WITH); SQLite cannot, and has no round trips to save."""
    return database.dialect.name == "postgresql"


@dataclass(frozen=True)
class TakeAttempt:
    """What `hold_in_full` or `allocate_in_full` did, and what it saw of the positions."""

    taken: bool
    #: units each existing position could give, as `Position.available_for` counts them
    free: dict[Key, int]
    #: some position has expired holds, which count until swept
    stale: bool

    def shortages(self, wanted: Mapping[Key, int]) -> list[Shortage] | None:
        """Every short line, when nothing else kept the units from being taken (None if a
        position is missing or has expired holds to sweep: only the full path can tell)."""
        if self.stale or self.free.keys() != wanted.keys():
            return None
        short = [
            Shortage(sku, node, units, self.free[(sku, node)])
            for (sku, node), units in sorted(wanted.items())
            if self.free[(sku, node)] < units
        ]
        return short or None


def hold_in_full(
    connection: Connection,
    reservation: Mapping[str, Any],
    wanted: Mapping[Key, int],
    now: datetime,
    method: Method,
) -> TakeAttempt:
    """One statement, PostgreSQL only: lock the positions in key order and, if every one exists,
    has no expired hold and can give its whole quantity, hold them all and write the holds
    (`reservation`: their reservation_id, reference, expires_at); else change nothing.

    A reservation that takes its lines in full is most of them; on a connection in autocommit
    it is a single round trip instead of six (begin, lock, update, insert, commit)."""
    return _take_in_full(connection, _HOLD_IN_FULL[method], wanted, now, reservation)


def allocate_in_full(
    connection: Connection, wanted: Mapping[Key, int], now: datetime, method: Method
) -> TakeAttempt:
    """The same for allocations (units committed to an order), in the caller's transaction:
    one statement instead of a lock and an update."""
    return _take_in_full(connection, _ALLOCATE_IN_FULL[method], wanted, now, {})


def _take_in_full(
    connection: Connection,
    statement: Any,
    wanted: Mapping[Key, int],
    now: datetime,
    more: Mapping[str, Any],
) -> TakeAttempt:
    rows = [(sku, node, units) for (sku, node), units in sorted(wanted.items())]
    found = connection.execute(
        statement,
        {
            "skus": [sku for sku, _, _ in rows],
            "nodes": [node for _, node, _ in rows],
            "units": [units for _, _, units in rows],
            "lines": len(rows),
            "now": now,
            **more,
        },
    ).all()
    return TakeAttempt(
        taken=bool(found) and found[0].taken == len(rows),
        free={(row.sku, row.node_id): max(0, row.free) for row in found},
        stale=any(row.stale for row in found),
    )


#: writes the holds of the rows `taken` returns
_INSERT_TAKEN_HOLDS = """
        written AS (
            INSERT INTO holds
                (reservation_id, sku, node_id, quantity, reference, expires_at, created_at)
            SELECT :reservation_id, sku, node_id, units, :reference, :expires_at, :now
            FROM taken
            RETURNING 1
        ),"""


def _take_in_full_statement(column: str, free: str, holds_too: bool) -> Any:
    # The verdict needs every row of `locked`, so every lock is taken, in key order, before
    # the update touches a row; a row another writer changed while this one waited is read
    # (FOR UPDATE) and updated (UPDATE) in its newest version, under the lock held since.
    written = _INSERT_TAKEN_HOLDS if holds_too else ""
    counted = "written" if holds_too else "taken"
    statement = text(
        f"""
        WITH given AS (
            SELECT * FROM unnest(
                CAST(:skus AS varchar[]), CAST(:nodes AS varchar[]), CAST(:units AS integer[])
            ) AS g (sku, node_id, units)
        ),
        locked AS (
            SELECT p.sku, p.node_id, g.units, {free} AS free,
                   EXISTS (
                       SELECT 1 FROM holds h
                       WHERE h.sku = p.sku AND h.node_id = p.node_id AND h.expires_at <= :now
                   ) AS stale
            FROM positions p JOIN given g ON p.sku = g.sku AND p.node_id = g.node_id
            ORDER BY p.sku, p.node_id
            FOR UPDATE OF p
        ),
        verdict AS (
            SELECT count(*) = :lines
                   AND coalesce(bool_and(free >= units AND NOT stale), false) AS ok
            FROM locked
        ),
        taken AS (
            UPDATE positions p SET {column} = p.{column} + g.units, updated_at = :now
            FROM given g, verdict v
            WHERE v.ok AND p.sku = g.sku AND p.node_id = g.node_id
            RETURNING p.sku, p.node_id, g.units
        ),{written}
        done AS (SELECT count(*) AS n FROM {counted})
        SELECT sku, node_id, free, stale, (SELECT n FROM done) AS taken FROM locked
        """
    ).bindparams(bindparam("now", type_=positions.c.updated_at.type))
    if holds_too:
        statement = statement.bindparams(bindparam("expires_at", type_=holds.c.expires_at.type))
    return statement


_FREE = "p.on_hand - p.reserved - p.allocated"
#: for shipping, safety stock is kept back (as `_free`)
_FREE_FOR = {Method.SHIP: f"{_FREE} - p.safety_stock", Method.PICKUP: _FREE}
_HOLD_IN_FULL = {
    method: _take_in_full_statement("reserved", free, holds_too=True)
    for method, free in _FREE_FOR.items()
}
_ALLOCATE_IN_FULL = {
    method: _take_in_full_statement("allocated", free, holds_too=False)
    for method, free in _FREE_FOR.items()
}


def holds_of(connection: Connection, reservation_id: str) -> list[Any]:
    query = (
        select(holds)
        .where(holds.c.reservation_id == reservation_id)
        .order_by(holds.c.sku, holds.c.node_id)
    )
    return list(connection.execute(query))


def delete_holds(connection: Connection, reservation_id: str) -> None:
    connection.execute(delete(holds).where(holds.c.reservation_id == reservation_id))


def shorten_newest_holds(connection: Connection, key: Key, excess: int) -> int:
    """Release up to `excess` held units of a position, newest holds first; returns how many."""
    sku, node = key
    released = 0
    newest_first = (
        select(holds)
        .where(holds.c.sku == sku, holds.c.node_id == node)
        .order_by(holds.c.created_at.desc(), holds.c.reservation_id.desc())
    )
    for row in list(connection.execute(newest_first)):
        if released >= excess:
            break
        cut = min(row.quantity, excess - released)
        where = and_(
            holds.c.reservation_id == row.reservation_id,
            holds.c.sku == sku,
            holds.c.node_id == node,
        )
        if cut == row.quantity:
            connection.execute(delete(holds).where(where))
        else:
            connection.execute(update(holds).where(where).values(quantity=row.quantity - cut))
        released += cut
    return released


def set_expiry(
    connection: Connection, reservation_id: str, expires_at: datetime, now: datetime
) -> bool:
    """Move the expiry of a reservation's holds still in force; False if none is left."""
    done = connection.execute(
        update(holds)
        .where(holds.c.reservation_id == reservation_id, holds.c.expires_at > now)
        .values(expires_at=expires_at)
    )
    return done.rowcount > 0


def read_positions(
    connection: Connection,
    now: datetime,
    *,
    sku: str | None = None,
    node_id: str | None = None,
    limit: int | None = None,
    after: Key | None = None,
    skus: Sequence[str] | None = None,
) -> list[Position]:
    """Positions with only the holds still in force counted as reserved."""
    live = (
        select(func.coalesce(func.sum(holds.c.quantity), 0))
        .where(
            holds.c.sku == positions.c.sku,
            holds.c.node_id == positions.c.node_id,
            holds.c.expires_at > now,
        )
        .scalar_subquery()
    )
    query = select(positions, live.label("live_reserved"))
    if sku is not None:
        query = query.where(positions.c.sku == sku)
    if node_id is not None:
        query = query.where(positions.c.node_id == node_id)
    if skus is not None:
        query = query.where(positions.c.sku.in_(skus))
    if after is not None:
        query = query.where(tuple_(positions.c.sku, positions.c.node_id) > after)
    query = query.order_by(positions.c.sku, positions.c.node_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Position(
            sku=row.sku,
            node_id=row.node_id,
            on_hand=row.on_hand,
            reserved=int(row.live_reserved),
            allocated=row.allocated,
            safety_stock=row.safety_stock,
            snapshot_at=row.snapshot_at,
        )
        for row in connection.execute(query)
    ]


def existing(connection: Connection, column: Any, wanted: Iterable[str]) -> set[str]:
    """Which of `wanted` are values of `column`."""
    listed = bulk.value_table(connection, sorted(set(wanted)), "listed")
    query = select(column).where(column.in_(select(listed.c.value)))
    return set(connection.execute(query).scalars())


def skus_at(connection: Connection, node_id: str) -> set[str]:
    """The SKUs a node has a position for."""
    query = select(positions.c.sku).where(positions.c.node_id == node_id)
    return set(connection.execute(query).scalars())


def available_units(
    connection: Connection,
    now: datetime,
    skus: Sequence[str],
    method: Method,
    nodes: Iterable[str] | None = None,
) -> dict[tuple[str, str], int]:
    """(SKU, node) → units that can be promised now, for the positions that have any."""
    return {
        (sku, node): count
        for sku, (node_ids, units) in available_by_sku(connection, now, skus, method, nodes).items()
        for node, count in zip(node_ids, units, strict=True)
    }


def available_by_sku(
    connection: Connection,
    now: datetime,
    skus: Sequence[str],
    method: Method,
    nodes: Iterable[str] | None = None,
) -> dict[str, tuple[list[str], list[int]]]:
    """SKU → the nodes (in id order) with units that can be promised now, and those units;
    only `nodes` if given, and only SKUs that have any.

    Computed in the database: the stored `reserved` less the holds that have expired (found
    through the holds' index), less allocations and, for shipping, safety stock. Only
    positions with stock on hand can have any, and those are read from the index
    `ix_positions_stocked` alone, SKU by SKU. Each SKU comes back as one row, its nodes and
    their units joined by commas (`network.NODE_ID` allows none in an id): a hundred SKUs have
    thousands of stocked positions, and a driver row for each cost more than the database's own
    work. The nodes are filtered here, as a list of nodes in the query would make SQLite look
    up every (SKU, node) pair one by one.
    """
    dialect = connection.dialect.name
    wanted = sorted(set(skus))
    given = {"skus": wanted} if dialect == "postgresql" else {"skus_json": json.dumps(wanted)}
    rows = connection.execute(_available_statement(dialect, method), {**given, "now": now})
    allowed = None if nodes is None else set(nodes)
    found: dict[str, tuple[list[str], list[int]]] = {}
    for sku, joined_nodes, joined_units in rows:
        node_ids = joined_nodes.split(",")
        units = list(map(int, joined_units.split(",")))
        # The rows reach the aggregate in the index's order, (SKU, node); should a plan ever
        # feed them otherwise, put them back in node order.
        if node_ids != sorted(node_ids):
            pairs = sorted(zip(node_ids, units, strict=True))
            node_ids, units = [node for node, _ in pairs], [count for _, count in pairs]
        if allowed is not None and not allowed.issuperset(node_ids):
            keep = list(map(allowed.__contains__, node_ids))
            node_ids, units = list(compress(node_ids, keep)), list(compress(units, keep))
        if node_ids:
            found[sku] = (node_ids, units)
    return found


@cache
def _available_statement(dialect: str, method: Method) -> Any:
    """Built once per dialect and method: every availability read, cart promise and placement
    of a reservation runs one."""
    if dialect == "postgresql":
        # `= ANY(array)`: the index scan returns (SKU, node) order, which `IN (SELECT unnest …)`
        # loses (a hash join, then a sort: twice the time).
        listed = positions.c.sku == any_(bindparam("skus", type_=postgresql.ARRAY(String)))

        def joined(values: Any) -> Any:
            return func.string_agg(cast(values, String), literal_column("','"))
    else:
        each = func.json_each(bindparam("skus_json", type_=String)).table_valued("value")
        listed = positions.c.sku.in_(select(each.c.value))

        def joined(values: Any) -> Any:
            return func.group_concat(values, literal_column("','"))

    # Constants written into the statement: a planner can match `on_hand > 0` to the partial
    # index only if it sees the 0 (PostgreSQL's generic plan of a prepared statement does not).
    zero = literal_column("0", Integer)
    expired = (
        select(func.coalesce(func.sum(holds.c.quantity), zero))
        .where(
            holds.c.sku == positions.c.sku,
            holds.c.node_id == positions.c.node_id,
            holds.c.expires_at <= bindparam("now", type_=holds.c.expires_at.type),
        )
        .scalar_subquery()
    )
    # `reserved` is the sum of a position's holds, so only a position with some reserved can
    # have expired ones to give back: the holds' index is searched for those positions alone.
    units = _free(method) + case((positions.c.reserved > zero, expired), else_=zero)
    node = positions.c.node_id
    return (
        select(positions.c.sku, joined(node), joined(units))
        .where(listed, positions.c.on_hand > zero, units > zero)
        .group_by(positions.c.sku)
    )


def history(connection: Connection, sku: str, node_id: str, limit: int) -> list[Any]:
    query = (
        select(inventory_events)
        .where(inventory_events.c.sku == sku, inventory_events.c.node_id == node_id)
        .order_by(inventory_events.c.id.desc())
        .limit(limit)
    )
    return list(connection.execute(query))


def sku_history(connection: Connection, sku: str, node_id: str | None, limit: int) -> list[Any]:
    """A SKU's latest events across nodes (or at one), by when they were recorded."""
    query = select(inventory_events).where(inventory_events.c.sku == sku)
    if node_id is not None:
        query = query.where(inventory_events.c.node_id == node_id)
    query = query.order_by(
        inventory_events.c.recorded_at.desc(), inventory_events.c.id.desc()
    ).limit(limit)
    return list(connection.execute(query))


def _position(row: Any) -> Position:
    return Position(
        sku=row.sku,
        node_id=row.node_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        allocated=row.allocated,
        safety_stock=row.safety_stock,
        snapshot_at=row.snapshot_at,
    )


# ---- full counts of a node (`services.inventory.sync_node`) ------------------------------------
#
# A full count reads, decides and writes a node's positions as sets: one statement each, the
# counts bound as one text per column (`bulk.packed_params`), plain tuples in between. At 20,000
# positions a Position per row, a lock through a table of (SKU, node) keys and a list bound
# element by element cost more than the database's own work.

#: `lock_node` flags: an applied count is newer than this one (it is recorded, not applied) …
NEWER_COUNT = 1
#: … and expired holds still count in `reserved` (they are swept first)
EXPIRED_HOLDS = 2

COUNTED_COLUMNS = (("sku", String()), ("n", Integer()), ("hash", String()))
RECORDED_COLUMNS = (("sku", String()),)

#: SQLite: the count's rows, taken apart from their JSON once into a table of the connection's
#: own, instead of by each of the three statements that read them (about 6 ms each at 5,000).
_counted_here = Table(
    "dom_counted",
    MetaData(),
    Column("sku", String, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("hash", String, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class CountedEvents:
    """What the snapshot events of one full count share."""

    node_id: str
    key_prefix: str  # each event's idempotency key is this and its SKU
    source: str
    counted_at: datetime
    recorded_at: datetime
    recorded_by: str


def lock_node(
    connection: Connection, node_id: str, counted_at: datetime, now: datetime
) -> Sequence[tuple[str, int, int]]:
    """Lock every position of a node in SKU order (the order of every writer's locks);
    (SKU, units reserved and allocated, flags) of each."""
    dialect = connection.dialect.name
    parameters = {"node": node_id, "counted_at": counted_at, "now": now}
    found = connection.execute(_node_lock_statement(dialect), parameters)
    # All at once: a driver call per row cost a third of the lock. Rows unpack as tuples.
    rows: Sequence[Any] = found.all()
    return rows


@cache
def _node_lock_statement(dialect: str) -> Any:
    when = positions.c.snapshot_at.type
    zero = literal_column("0", Integer)
    newer = case(
        (
            positions.c.snapshot_at > bindparam("counted_at", type_=when),
            literal_column(str(NEWER_COUNT), Integer),
        ),
        else_=zero,
    )
    # Only a position with units reserved has holds: the others skip the holds' index.
    stale = case(
        (
            positions.c.reserved > zero,
            case((_has_expired_holds(), literal_column(str(EXPIRED_HOLDS), Integer)), else_=zero),
        ),
        else_=zero,
    )
    query = (
        select(positions.c.sku, positions.c.reserved + positions.c.allocated, newer + stale)
        .where(positions.c.node_id == bindparam("node", type_=positions.c.node_id.type))
        .order_by(positions.c.sku)
    )
    return query.with_for_update(of=positions) if dialect == "postgresql" else query


def positions_at(connection: Connection, node_id: str, skus: Sequence[str]) -> list[Position]:
    """Positions of a node already locked, in SKU order."""
    listed = bulk.value_table(connection, sorted(skus), "listed")
    query = (
        select(*POSITION_COLUMNS)
        .where(positions.c.node_id == node_id, positions.c.sku.in_(select(listed.c.value)))
        .order_by(positions.c.sku)
    )
    return [_position(row) for row in connection.execute(query)]


def event_recorded(connection: Connection, idempotency_key: str) -> bool:
    query = select(inventory_events.c.id).where(
        inventory_events.c.idempotency_key == idempotency_key
    )
    return connection.execute(query).first() is not None


def save_commitments(
    connection: Connection, node_id: str, changed: Sequence[Position], now: datetime
) -> None:
    """Write the reserved and allocated units of a node's positions."""
    rows = [{"sku": p.sku, "reserved": p.reserved, "allocated": p.allocated} for p in changed]
    same = {"node_id": node_id, "updated_at": now}
    bulk.update_many(connection, positions, ("sku", "node_id"), rows, same=same)


def write_count(
    connection: Connection,
    events: CountedEvents,
    counted: tuple[Sequence[str], Sequence[int], Sequence[str]],
    recorded: Sequence[str],
) -> None:
    """Record a count's SKUs, quantities and request hashes as applied snapshot events, but
    for the SKUs in `recorded` (their events are written by the caller), and set on hand of
    every position not counted since to its quantity. Commitments must fit the new on hand."""
    dialect = connection.dialect.name
    parameters = {
        **bulk.packed_params(dialect, "counted", COUNTED_COLUMNS, counted),
        **bulk.packed_params(dialect, "recorded", RECORDED_COLUMNS, [recorded]),
        "node": events.node_id,
        "prefix": events.key_prefix,
        "source": events.source,
        "counted_at": events.counted_at,
        "recorded_at": events.recorded_at,
        "recorded_by": events.recorded_by,
    }
    if dialect != "postgresql":
        _counted_here.create(connection, checkfirst=True)
        connection.execute(_fill_counted_here(), parameters)
    connection.execute(_count_events_statement(dialect), parameters)
    for statement in _count_positions_statements(dialect):
        connection.execute(statement, parameters)
    if dialect != "postgresql":
        connection.execute(delete(_counted_here))


@cache
def _fill_counted_here() -> Any:
    given = bulk.packed_rows_table("sqlite", "counted", COUNTED_COLUMNS)
    return insert(_counted_here).from_select(list(_counted_here.c.keys()), select(*given.c))


def _counted_rows(dialect: str) -> Any:
    """The rows of a count, as a table the count's statements read."""
    if dialect == "postgresql":
        return bulk.packed_rows_table(dialect, "counted", COUNTED_COLUMNS)
    return _counted_here


@cache
def _count_events_statement(dialect: str) -> Any:
    counted = _counted_rows(dialect)
    recorded = bulk.packed_rows_table(dialect, "recorded", RECORDED_COLUMNS)
    e = inventory_events.c
    zero = literal_column("0", Integer)
    values = {
        e.idempotency_key: bindparam("prefix", type_=String) + counted.c.sku,
        e.request_hash: counted.c.hash,
        e.kind: literal_column("'snapshot'", String),
        e.sku: counted.c.sku,
        e.node_id: bindparam("node", type_=e.node_id.type),
        e.quantity: counted.c.n,
        e.source: bindparam("source", type_=e.source.type),
        e.source_time: bindparam("counted_at", type_=e.source_time.type),
        e.recorded_at: bindparam("recorded_at", type_=e.recorded_at.type),
        e.recorded_by: bindparam("recorded_by", type_=e.recorded_by.type),
        e.applied: true(),
        e.on_hand_after: counted.c.n,
        e.uncovered: zero,
    }
    query = select(*values.values()).where(counted.c.sku.not_in(select(recorded.c.sku)))
    return insert(inventory_events).from_select(list(values), query)


@cache
def _count_positions_statements(dialect: str) -> list[Any]:
    """PostgreSQL compares old and new values and adds no index entries for on hand unchanged;
    SQLite rewrites the entries of every index holding a column it sets, and the positions
    of a node are spread over `ix_positions_stocked` (SKU first): there, on hand is set only
    where it changes (a third of a count of 5,000 among a million positions took half)."""
    counted = _counted_rows(dialect)
    recount = update(positions)
    if dialect == "postgresql":  # unchanged there: the rows as a materialized CTE
        counted = select(*counted.c).cte("counted_rows").prefix_with("MATERIALIZED")
        recount = recount.add_cte(counted)
    counted_at = bindparam("counted_at", type_=positions.c.snapshot_at.type)
    recount = recount.where(
        positions.c.node_id == bindparam("node", type_=positions.c.node_id.type),
        positions.c.sku == counted.c.sku,
        or_(positions.c.snapshot_at.is_(None), positions.c.snapshot_at <= counted_at),
    ).values(
        snapshot_at=counted_at,
        updated_at=bindparam("recorded_at", type_=positions.c.updated_at.type),
    )
    if dialect == "postgresql":
        return [recount.values(on_hand=counted.c.n)]
    changed = recount.where(positions.c.on_hand != counted.c.n).values(on_hand=counted.c.n)
    return [changed, recount.where(positions.c.on_hand == counted.c.n)]
