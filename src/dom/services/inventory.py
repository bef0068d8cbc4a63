"""Inventory use cases: record stock events, hold stock for carts and orders, read positions.

Each call is one transaction: everything it asks for happens, or nothing does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dom.adapters import inventory_store as store
from dom.adapters.database import one_statement_each, reading, writing
from dom.adapters.network_cache import network
from dom.adapters.tables import nodes, products
from dom.domain.access import Action, Principal
from dom.domain.errors import Conflict, InvalidField, InvalidInput, NotFound, Problem
from dom.domain.geo import Coordinates, miles_between
from dom.domain.inventory import (
    Applied,
    EventKind,
    InsufficientStock,
    InventoryEvent,
    Method,
    Position,
    Shortage,
    StockShort,
    apply_count,
    apply_event,
    place_lines,
)
from dom.domain.network import Capability, Node, NodeStatus
from dom.ids import random_hex

#: A hold longer than this is a mistake: orders that wait longer are allocated, not held.
MAX_HOLD = timedelta(days=30)


class IdempotencyMismatch(InvalidField):
    """The same idempotency key came with a different body (422)."""

    code = "idempotency_key_reused"
    title = "Idempotency key reused with another request"

    def __init__(self, key: str) -> None:
        super().__init__("idempotency_key", f"{key!r} was used for a different event")


class ReservationGone(Conflict):
    code = "reservation_expired"
    title = "The reservation has expired"


@dataclass(frozen=True)
class EventRequest:
    """An inventory event as a warehouse or store system reports it."""

    idempotency_key: str
    event: InventoryEvent
    #: a receipt against an inbound line (purchase order, transfer, ship notice)
    supply_id: str | None = None

    def fingerprint(self) -> str:
        e = self.event
        body = (
            self.supply_id,
            e.kind.value,
            e.sku,
            e.node_id,
            e.quantity,
            e.source,
            e.source_time.isoformat(),
            e.reason,
        )
        return _fingerprint(body)


def _fingerprint(body: tuple[Any, ...]) -> str:
    return hashlib.sha256(repr(body).encode()).hexdigest()  # repr: unambiguous and fast


@dataclass(frozen=True)
class EventOutcome:
    idempotency_key: str
    applied: bool
    note: str | None
    position: Position
    uncovered: int
    holds_released: int
    replayed: bool


@dataclass(frozen=True)
class HoldLine:
    sku: str
    #: None: hold it at the best node (as few nodes as possible, nearest the destination first)
    node_id: str | None
    quantity: int


@dataclass(frozen=True)
class ReservationRequest:
    """Hold stock for a cart or an order until `expires_at`; all lines or none unless partial."""

    reference: str
    lines: tuple[HoldLine, ...]
    expires_at: datetime
    partial: bool = False
    #: pickup holds may use a store's safety stock, shipping holds may not
    method: Method = Method.SHIP
    #: the selling channel; a channel key's own channel always wins
    channel: str | None = None
    #: where the order goes: lines without a node are held nearest to it
    destination: Coordinates | None = None


@dataclass(frozen=True)
class HeldLine:
    sku: str
    node_id: str
    requested: int
    held: int


@dataclass(frozen=True)
class Reservation:
    id: str
    reference: str
    expires_at: datetime
    lines: tuple[HeldLine, ...]
    shortages: tuple[Shortage, ...] = ()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def check_known(connection: Connection, keys: Iterable[tuple[str, str]], where: str) -> None:
    """Refuse positions of unknown SKUs or nodes, every one of them named at once."""
    pairs = list(keys)
    check_names(connection, [sku for sku, _ in pairs], [node for _, node in pairs], where)


def check_names(
    connection: Connection, skus: Iterable[str], node_ids: Iterable[str], where: str
) -> None:
    """Refuse unknown SKUs and nodes, every one of them named at once."""
    skus, node_ids = set(skus), set(node_ids)
    problems = [
        Problem(f"{where}.sku", f"unknown SKU {s!r}")
        for s in sorted(skus - store.existing(connection, products.c.sku, skus))
    ]
    problems += [
        Problem(f"{where}.node_id", f"unknown node {n!r}")
        for n in sorted(node_ids - store.existing(connection, nodes.c.id, node_ids))
    ]
    if problems:
        raise InvalidInput(problems)


# ---- events ------------------------------------------------------------------------------------


def record_events(
    engine: Engine,
    principal: Principal,
    requests: Sequence[EventRequest],
    now: datetime | None = None,
) -> list[EventOutcome]:
    """Apply events in order, atomically; a repeated idempotency key replays its first outcome."""
    principal.require(Action.RECORD_INVENTORY)
    if not requests:
        raise InvalidInput([Problem("events", "send at least one event")])
    for request in requests:
        principal.require_node(request.event.node_id)
    keys = [r.idempotency_key for r in requests]
    if len(set(keys)) != len(keys):
        raise InvalidInput([Problem("idempotency_key", "repeats within one request")])
    moment = _now(now)
    # Two writers may use one key at different positions, so neither lock covers the other; the
    # unique index stops the second, and a second try sees the first's event and replays it.
    for attempt in range(3):
        try:
            return _record_once(engine, principal, requests, moment)
        except IntegrityError as error:
            if attempt == 2 or "idempotency_key" not in str(error.orig):
                raise
    raise AssertionError("unreachable")


def _record_once(
    engine: Engine, principal: Principal, requests: Sequence[EventRequest], moment: datetime
) -> list[EventOutcome]:
    with writing(engine) as connection:
        return record_in(connection, principal, requests, moment)


def record_in(
    connection: Connection,
    principal: Principal,
    requests: Sequence[EventRequest],
    moment: datetime,
) -> list[EventOutcome]:
    """`record_events` in the caller's transaction (a node's write-off when it rejects lines)."""
    keys = [r.idempotency_key for r in requests]
    check_known(connection, [(r.event.sku, r.event.node_id) for r in requests], "events")
    locked = store.lock_positions(
        connection, [(r.event.sku, r.event.node_id) for r in requests], moment
    )
    seen = store.events_by_keys(connection, keys)
    outcomes: list[EventOutcome] = []
    rows: list[dict[str, Any]] = []
    shorts: list[Problem] = []
    changed: set[tuple[str, str]] = set()
    for index, request in enumerate(requests):
        key = (request.event.sku, request.event.node_id)
        previous = seen.get(request.idempotency_key)
        if previous is not None:
            outcomes.append(_replay(request, previous, locked[key]))
            continue
        try:
            applied = apply_event(locked[key], request.event)
        except StockShort as short:
            shorts.append(Problem(f"events.{index}.quantity", short.detail))
            continue
        if request.supply_id is not None:
            refused = _receive(connection, request)
            if refused:
                shorts.append(Problem(f"events.{index}.supply_id", refused))
                continue
        position, released, uncovered = _cover_commitments(connection, applied)
        locked[key] = position
        changed.add(key)
        rows.append(_event_row(request, applied, position, uncovered, principal, moment))
        outcomes.append(
            EventOutcome(
                request.idempotency_key,
                applied.moved,
                applied.note,
                position,
                uncovered,
                released,
                replayed=False,
            )
        )
    if shorts:
        raise InvalidInput(
            shorts, f"{len(shorts)} event(s) cannot be applied; nothing was recorded"
        )
    store.insert_events(connection, rows)
    store.save_positions(connection, (locked[key] for key in sorted(changed)), moment)
    return outcomes


@dataclass(frozen=True)
class NodeSync:
    """What a full count of a node did: its totals, and the outcome of each SKU where
    something happened that a caller may act on (a full count of 20,000 positions is mostly
    "set to its count")."""

    node_id: str
    positions: int  # SKUs counted, those left out (counted as zero) included
    applied: int  # applied by this call (not replayed)
    replayed: int  # recorded by an earlier call with the same key
    uncovered: int  # allocated units the count left without stock
    holds_released: int
    #: not applied (a newer count is known), holds released, or allocations left uncovered
    notable: tuple[EventOutcome, ...]

    @classmethod
    def of(cls, node_id: str, outcomes: Sequence[EventOutcome], plain: int = 0) -> NodeSync:
        """The totals of `outcomes` and of `plain` more SKUs applied with nothing to tell."""
        return cls(
            node_id,
            plain + len(outcomes),
            plain + sum(1 for o in outcomes if o.applied and not o.replayed),
            sum(1 for o in outcomes if o.replayed),
            sum(o.uncovered for o in outcomes),
            sum(o.holds_released for o in outcomes),
            tuple(o for o in outcomes if _notable(o)),
        )


def _notable(outcome: EventOutcome) -> bool:
    return not outcome.applied or outcome.uncovered > 0 or outcome.holds_released > 0


def sync_node(
    engine: Engine,
    principal: Principal,
    node_id: str,
    counts: Mapping[str, int],
    *,
    source: str,
    source_time: datetime,
    idempotency_key: str,
    now: datetime | None = None,
) -> NodeSync:
    """A full count of a node in one atomic call: every listed SKU is set to its count, and
    every SKU the node holds a position for but the count leaves out is counted as zero.

    Each SKU is recorded as a snapshot event keyed `{idempotency_key}/{sku}`, as
    `record_events` would record it; a count whose events exist already is replayed by it."""
    principal.require(Action.RECORD_INVENTORY)
    principal.require_node(node_id)
    problems = [
        Problem(f"counts.{sku}", "a count cannot be negative") for sku, n in counts.items() if n < 0
    ]
    if problems:
        raise InvalidInput(problems)
    if source_time.tzinfo is None:
        raise InvalidField("source_time", "must carry a time zone")
    count = _Count(node_id, counts, source, source_time, idempotency_key)
    moment = _now(now)
    try:
        return _sync_once(engine, principal, count, moment)
    except _Recounted:
        pass
    except IntegrityError as error:  # a racing call recorded some of the same events first
        if "idempotency_key" not in str(error.orig):
            raise
    # Replayed, in full or in part, by `record_events` (which retries its own races).
    with reading(engine) as connection:
        full = count.full(store.skus_at(connection, node_id))
    requests = [count.request(sku, quantity) for sku, quantity in full.items()]
    return NodeSync.of(node_id, record_events(engine, principal, requests, now))


@dataclass(frozen=True)
class _Count:
    node_id: str
    counts: Mapping[str, int]
    source: str
    source_time: datetime
    idempotency_key: str

    def full(self, held: set[str]) -> dict[str, int]:
        """Every SKU counted, and every SKU held but left out counted as zero, in SKU order."""
        every = {**dict.fromkeys(held - self.counts.keys(), 0), **self.counts}
        return {sku: every[sku] for sku in sorted(every)}

    def key_of(self, sku: str) -> str:
        return f"{self.idempotency_key}/{sku}"

    def request(self, sku: str, quantity: int) -> EventRequest:
        """The snapshot event `record_events` records for one SKU of the count."""
        event = InventoryEvent(
            EventKind.SNAPSHOT, sku, self.node_id, quantity, self.source, self.source_time
        )
        return EventRequest(self.key_of(sku), event)

    def fingerprints(self, full: Mapping[str, int]) -> list[str]:
        """`EventRequest.fingerprint` of each SKU's snapshot event, in the order of `full`.

        The repr of the event's body, written as one format per count: a SKU that repr
        writes as itself in quotes (every SKU the catalogue accepts) needs no repr call."""
        at = self.source_time.isoformat()
        if not _plain(full):
            return [
                _fingerprint((None, SNAPSHOT, sku, self.node_id, n, self.source, at, None))
                for sku, n in full.items()
            ]
        head = f"(None, {SNAPSHOT!r}, '"
        tail = f", {self.source!r}, {at!r}, None)"
        middle = f"', {self.node_id!r}, "
        sha256 = hashlib.sha256
        return [
            sha256(f"{head}{sku}{middle}{n}{tail}".encode()).hexdigest() for sku, n in full.items()
        ]


SNAPSHOT = EventKind.SNAPSHOT.value


def _plain(skus: Iterable[str]) -> bool:
    """Whether repr writes each of these strings as itself between single quotes."""
    joined = "".join(skus)
    return "'" not in joined and "\\" not in joined and joined.isprintable()


class _Recounted(Exception):
    """Events of this count were recorded before: they are replayed, not applied again."""


def _sync_once(engine: Engine, principal: Principal, count: _Count, moment: datetime) -> NodeSync:
    """`record_events` for one node's snapshots as set-based work: the node's positions locked
    and read as (SKU, committed, flags) tuples, Python only for the few positions a count
    does more to than set on hand (older than their last count, short of their commitments,
    with expired holds), and each of events and positions written in one statement."""
    node_id = count.node_id
    with writing(engine) as connection:
        rows = store.lock_node(connection, node_id, count.source_time, moment)
        held = {row[0] for row in rows}
        full = count.full(held)
        if not full:
            raise InvalidInput([Problem("events", "send at least one event")])
        new = full.keys() - held
        if new:
            check_names(connection, new, [node_id], "events")
            rows = [*rows, *_new_positions(connection, count, new, moment)]
        if store.event_recorded(connection, count.key_of(next(iter(full)))):
            raise _Recounted  # a repeated count; a count recorded in part fails on the keys
        outcomes, event_rows = _beyond_on_hand(connection, principal, count, rows, full, moment)
        store.insert_events(connection, event_rows)
        covered = [o.position for o in outcomes if o.holds_released or o.uncovered]
        store.save_commitments(connection, node_id, covered, moment)
        events = store.CountedEvents(
            node_id,
            count.key_of(""),
            count.source,
            count.source_time,
            moment,
            principal.name,
        )
        counted = (list(full), list(full.values()), count.fingerprints(full))
        store.write_count(connection, events, counted, [o.position.sku for o in outcomes])
    return NodeSync.of(node_id, outcomes, plain=len(full) - len(outcomes))


def _new_positions(
    connection: Connection, count: _Count, skus: Iterable[str], moment: datetime
) -> list[tuple[str, int, int]]:
    """Create and lock the positions of SKUs counted at the node for the first time, as
    `store.lock_node` rows (a racing writer may have created one first)."""
    locked = store.lock_positions(connection, [(sku, count.node_id) for sku in skus], moment)
    return [
        (p.sku, p.committed, store.NEWER_COUNT * _newer(p, count.source_time))
        for p in locked.values()
    ]


def _newer(position: Position, counted_at: datetime) -> bool:
    return position.snapshot_at is not None and position.snapshot_at > counted_at


def _beyond_on_hand(
    connection: Connection,
    principal: Principal,
    count: _Count,
    rows: Sequence[tuple[str, int, int]],
    full: Mapping[str, int],
    moment: datetime,
) -> tuple[list[EventOutcome], list[dict[str, Any]]]:
    """The outcomes and event rows of the positions a count does more to than set on hand, in
    SKU order: expired holds swept, then counts older than the last applied one (recorded, not
    applied) and counts short of commitments (holds released, allocations uncovered)."""
    special = [sku for sku, committed, flags in rows if flags or committed > full[sku]]
    if not special:
        return [], []
    node_id = count.node_id
    found = store.positions_at(connection, node_id, special)
    stale = [(sku, node_id) for sku, _, flags in rows if flags & store.EXPIRED_HOLDS]
    swept = store.sweep_expired(connection, stale, moment) if stale else {}
    outcomes, event_rows = [], []
    for position in found:
        position = replace(
            position, reserved=position.reserved - swept.get((position.sku, node_id), 0)
        )
        request = count.request(position.sku, full[position.sku])
        applied = apply_count(position, request.event.quantity, count.source_time)
        released = uncovered = 0
        if applied.moved:
            position, released, uncovered = _cover_commitments(connection, applied)
        event_rows.append(_event_row(request, applied, position, uncovered, principal, moment))
        outcomes.append(
            EventOutcome(
                request.idempotency_key,
                applied.moved,
                applied.note,
                position,
                uncovered,
                released,
                replayed=False,
            )
        )
    return outcomes, event_rows


def _receive(connection: Connection, request: EventRequest) -> str | None:
    event = request.event
    if event.kind is not EventKind.RECEIPT:
        return "only a receipt can be booked against inbound supply"
    assert request.supply_id is not None
    return store.receive_against(
        connection, request.supply_id, event.sku, event.node_id, event.quantity
    )


def _replay(request: EventRequest, previous: Any, position: Position) -> EventOutcome:
    if previous.request_hash != request.fingerprint():
        raise IdempotencyMismatch(request.idempotency_key)
    return EventOutcome(
        request.idempotency_key,
        previous.applied,
        previous.note,
        position,
        previous.uncovered,
        0,
        replayed=True,
    )


def _event_row(
    request: EventRequest,
    applied: Applied,
    position: Position,
    uncovered: int,
    principal: Principal,
    now: datetime,
) -> dict[str, Any]:
    event = request.event
    return {
        "idempotency_key": request.idempotency_key,
        "request_hash": request.fingerprint(),
        "kind": event.kind.value,
        "sku": event.sku,
        "node_id": event.node_id,
        "quantity": event.quantity,
        "reason": event.reason,
        "source": event.source,
        "source_time": event.source_time,
        "recorded_at": now,
        "recorded_by": principal.name,
        "applied": applied.moved,
        "note": applied.note,
        "on_hand_after": position.on_hand,
        "uncovered": uncovered,
    }


def _cover_commitments(connection: Connection, applied: Applied) -> tuple[Position, int, int]:
    """After a short count: release the newest holds, then mark the allocations left uncovered."""
    position = applied.position
    excess = position.committed - position.on_hand
    if excess <= 0:
        return position, 0, 0
    released = store.shorten_newest_holds(
        connection, (position.sku, position.node_id), min(excess, position.reserved)
    )
    position = replace(position, reserved=position.reserved - released)
    uncovered = max(0, position.committed - position.on_hand)
    position = replace(position, allocated=position.allocated - uncovered)
    return position, released, uncovered


# ---- reservations --------------------------------------------------------------------------------


def reserve(
    engine: Engine, principal: Principal, request: ReservationRequest, now: datetime | None = None
) -> Reservation:
    """Hold every line with one conditional update each; report every short line at once.

    A line that names no node is held at the best node (`place_lines`), chosen from a read
    taken before the positions are locked. If a racing writer takes those units first, the
    whole reservation is tried again from a fresh read: locks are still taken in one order.
    """
    principal.require(Action.RESERVE)
    moment = _now(now)
    _check_request(request, moment)
    held = _hold_named_lines_in_full(engine, principal, request, moment)
    if held is not None:
        return held
    for attempt in range(1, PLACEMENT_TRIES + 1):
        try:
            return _reserve_once(
                engine, principal, request, moment, retry=attempt < PLACEMENT_TRIES
            )
        except _Outrun:
            continue
        except IntegrityError:
            # A position of an unknown SKU or node cannot be created: say which, by name.
            with reading(engine) as connection:
                _check_line_names(connection, request.lines)
            raise
    raise AssertionError("unreachable")


def _hold_named_lines_in_full(
    engine: Engine, principal: Principal, request: ReservationRequest, moment: datetime
) -> Reservation | None:
    """The common cases in one statement where the database can: every line names its node and
    gets all it asks for, or some line is short and the reservation is not partial (refused).
    None when the database cannot, a position is missing, expired holds must be swept first or
    a partial reservation is short: then `_reserve_once` does it."""
    if any(line.node_id is None for line in request.lines) or not store.takes_at_once(engine):
        return None
    with one_statement_each(engine) as connection:
        _check_channel(connection, principal.channel or request.channel, request.lines)
        reservation_id = random_hex(8)
        wanted = {(line.sku, line.node_id): line.quantity for line in request.lines if line.node_id}
        reservation = {
            "reservation_id": reservation_id,
            "reference": request.reference,
            "expires_at": request.expires_at,
        }
        attempt = store.hold_in_full(connection, reservation, wanted, moment, request.method)
    if attempt.taken:
        held = [HeldLine(sku, node, units, units) for (sku, node), units in sorted(wanted.items())]
        return Reservation(reservation_id, request.reference, request.expires_at, tuple(held))
    shortages = None if request.partial else attempt.shortages(wanted)
    if shortages is None:
        return None
    raise InsufficientStock(shortages)


def _check_line_names(connection: Connection, lines: Sequence[HoldLine]) -> None:
    check_names(
        connection,
        [line.sku for line in lines],
        [line.node_id for line in lines if line.node_id is not None],
        "lines",
    )


#: how often a reservation re-reads when racing writers take the units of the nodes it chose
PLACEMENT_TRIES = 5


class _Outrun(Exception):
    """Another writer took the units of a node this reservation had chosen for a line."""


def _reserve_once(
    engine: Engine,
    principal: Principal,
    request: ReservationRequest,
    moment: datetime,
    *,
    retry: bool,
) -> Reservation:
    reservation_id = random_hex(8)
    channel = principal.channel or request.channel
    with writing(engine) as connection:
        if any(line.node_id is None for line in request.lines):
            _check_line_names(connection, request.lines)  # else the positions' keys check them
        _check_channel(connection, channel, request.lines)
        placement = _place(connection, request, channel, moment)
        lines = [
            line if line.node_id else replace(line, node_id=placement.nodes[line.sku])
            for line in request.lines
        ]
        locked = store.lock_positions(
            connection, [(line.sku, line.node_id) for line in lines if line.node_id], moment
        )
        ordered = sorted(lines, key=lambda x: (x.sku, x.node_id or ""))
        taken = store.reserve_all_available(
            connection,
            {(line.sku, line.node_id): line.quantity for line in ordered if line.node_id},
            moment,
            request.method,
        )
        held: list[HeldLine] = []
        shortages: list[Shortage] = []
        for line in ordered:
            if line.node_id is None:  # nothing of it at any eligible node
                shortages.append(Shortage(line.sku, None, line.quantity, 0))
                continue
            key = (line.sku, line.node_id)
            if key in taken:
                held.append(HeldLine(line.sku, line.node_id, line.quantity, line.quantity))
                continue
            if line.sku in placement.in_full and retry:
                raise _Outrun
            available = locked[key].available_for(request.method)
            shortages.append(Shortage(line.sku, line.node_id, line.quantity, available))
            if (
                request.partial
                and available > 0
                and store.reserve_if_available(connection, key, available, moment, request.method)
            ):
                held.append(HeldLine(line.sku, line.node_id, line.quantity, available))
        if shortages and not (request.partial and held):
            raise InsufficientStock(shortages)
        store.insert_holds(
            connection,
            [
                {
                    "reservation_id": reservation_id,
                    "sku": h.sku,
                    "node_id": h.node_id,
                    "quantity": h.held,
                    "reference": request.reference,
                    "expires_at": request.expires_at,
                    "created_at": moment,
                }
                for h in held
            ],
        )
    return Reservation(
        reservation_id, request.reference, request.expires_at, tuple(held), tuple(shortages)
    )


@dataclass(frozen=True)
class _Placement:
    #: SKU → node for every line that named none (None: no eligible node has any of it)
    nodes: dict[str, str | None]
    #: the SKUs placed at a node that held all of the line when it was read
    in_full: frozenset[str]


def _place(
    connection: Connection, request: ReservationRequest, channel: str | None, now: datetime
) -> _Placement:
    """Nodes for the lines that name none: as few as can hold them in full, nearest first; a
    line no node holds in full goes to the node that has the most of it (held there if partial,
    shown as the shortage if not)."""
    open_lines = {line.sku: line.quantity for line in request.lines if line.node_id is None}
    if not open_lines:
        return _Placement({}, frozenset())
    every_node = network(connection).nodes
    eligible = eligible_among(every_node, request.method, now)
    if channel is not None:
        eligible -= store.excluded_nodes(connection, channel)
    available = store.available_units(connection, now, sorted(open_lines), request.method, eligible)
    miles = None
    if request.destination is not None:
        to = request.destination
        miles = {n.id: miles_between(n.location, to) for n in every_node if n.id in eligible}
    nodes = place_lines(open_lines, available, miles)
    in_full = frozenset(sku for sku, node in nodes.items() if node is not None)
    for sku in open_lines.keys() - in_full:
        most = max(
            ((units, node) for (s, node), units in available.items() if s == sku and units > 0),
            default=None,
        )
        if most is not None:
            nodes[sku] = most[1]
    return _Placement(nodes, in_full)


def _check_channel(connection: Connection, channel: str | None, lines: Sequence[HoldLine]) -> None:
    if channel is None:
        return
    excluded = store.excluded_nodes(connection, channel)
    problems = [
        Problem(
            f"lines.{index}.node_id",
            f"node {line.node_id!r} is not in channel {channel!r}'s distribution group",
        )
        for index, line in enumerate(lines)
        if line.node_id in excluded
    ]
    if problems:
        raise InvalidInput(problems)


def _check_request(request: ReservationRequest, now: datetime) -> None:
    problems: list[Problem] = []
    if not request.reference.strip():
        problems.append(Problem("reference", "is required"))
    if not request.lines:
        problems.append(Problem("lines", "hold at least one line"))
    if request.expires_at.tzinfo is None:
        problems.append(Problem("expires_at", "must carry a time zone"))
    elif request.expires_at <= now:
        problems.append(Problem("expires_at", "is in the past"))
    elif request.expires_at > now + MAX_HOLD:
        problems.append(Problem("expires_at", f"is more than {MAX_HOLD.days} days ahead"))
    seen: set[tuple[str, str | None]] = set()
    anywhere = {line.sku for line in request.lines if line.node_id is None}
    for index, line in enumerate(request.lines):
        if line.quantity <= 0:
            problems.append(Problem(f"lines.{index}.quantity", "must be a positive whole number"))
        if (line.sku, line.node_id) in seen:
            where = line.node_id or "the best node"
            problems.append(Problem(f"lines.{index}", f"{line.sku} at {where} appears twice"))
        elif line.node_id is not None and line.sku in anywhere:
            problems.append(
                Problem(f"lines.{index}", f"{line.sku} is also asked for at the best node")
            )
        if line.node_id is None and request.method is Method.PICKUP:
            problems.append(Problem(f"lines.{index}.node_id", "a pickup line names its store"))
        seen.add((line.sku, line.node_id))
    if problems:
        raise InvalidInput(problems)


def _live_holds(connection: Connection, reservation_id: str, now: datetime) -> list[Any]:
    rows = store.holds_of(connection, reservation_id)
    if not rows:
        raise NotFound("reservation", reservation_id)
    if all(row.expires_at <= now for row in rows):
        raise ReservationGone(
            f"reservation {reservation_id} expired at {rows[0].expires_at.isoformat()}"
        )
    return rows


def release(
    engine: Engine, principal: Principal, reservation_id: str, now: datetime | None = None
) -> None:
    """Give a reservation's units back at once."""
    principal.require(Action.RESERVE)
    moment = _now(now)
    with writing(engine) as connection:
        rows = store.holds_of(connection, reservation_id)
        if not rows:
            raise NotFound("reservation", reservation_id)
        locked = store.lock_positions(connection, [(r.sku, r.node_id) for r in rows], moment)
        # Read again under the locks: a racing call may have allocated or released it meanwhile.
        remaining = store.holds_of(connection, reservation_id)
        if not remaining:
            raise NotFound("reservation", reservation_id)
        for row in remaining:
            key = (row.sku, row.node_id)
            locked[key] = replace(locked[key], reserved=locked[key].reserved - row.quantity)
        store.save_positions(connection, locked.values(), moment)
        store.delete_holds(connection, reservation_id)


def extend(
    engine: Engine,
    principal: Principal,
    reservation_id: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> datetime:
    """Move a live reservation's expiry; an expired one cannot be revived."""
    principal.require(Action.RESERVE)
    moment = _now(now)
    if expires_at.tzinfo is None or expires_at <= moment:
        raise InvalidInput([Problem("expires_at", "must be in the future")])
    if expires_at > moment + MAX_HOLD:
        raise InvalidInput([Problem("expires_at", f"is more than {MAX_HOLD.days} days ahead")])
    with writing(engine) as connection:
        _live_holds(connection, reservation_id, moment)
        if not store.set_expiry(connection, reservation_id, expires_at, moment):
            raise ReservationGone(
                f"reservation {reservation_id} was allocated, released or expired"
            )
    return expires_at


def allocate(
    engine: Engine, principal: Principal, reservation_id: str, now: datetime | None = None
) -> list[HeldLine]:
    """Turn a live reservation into allocations: the units are committed to an order."""
    principal.require(Action.RESERVE)
    moment = _now(now)
    with writing(engine) as connection:
        rows = _live_holds(connection, reservation_id, moment)
        locked = store.lock_positions(connection, [(r.sku, r.node_id) for r in rows], moment)
        # Read again under the locks: a racing call may have allocated or released it meanwhile,
        # and the locks' sweep removes holds that expired.
        remaining = store.holds_of(connection, reservation_id)
        if not remaining:
            raise ReservationGone(
                f"reservation {reservation_id} was allocated, released or expired"
            )
        lines = []
        for row in remaining:
            key = (row.sku, row.node_id)
            position = locked[key]
            locked[key] = replace(
                position,
                reserved=position.reserved - row.quantity,
                allocated=position.allocated + row.quantity,
            )
            lines.append(HeldLine(row.sku, row.node_id, row.quantity, row.quantity))
        store.save_positions(connection, locked.values(), moment)
        store.delete_holds(connection, reservation_id)
    return lines


def allocate_units(
    connection: Connection,
    lines: Mapping[tuple[str, str], int],
    now: datetime,
    method: Method = Method.SHIP,
) -> None:
    """Commit units at nodes in the caller's transaction, all or none: one conditional update
    for every (SKU, node) under their locks; every short position is reported at once (the
    caller's transaction then rolls back what was committed)."""
    if not lines:
        return
    if store.takes_at_once(connection):
        attempt = store.allocate_in_full(connection, lines, now, method)
        if attempt.taken:
            return
        shortages = attempt.shortages(lines)
        if shortages is not None:
            raise InsufficientStock(shortages)
    locked = store.lock_positions(connection, lines, now)
    committed = store.allocate_all_available(connection, lines, now, method)
    shortages = [
        Shortage(sku, node, quantity, locked[(sku, node)].available_for(method))
        for (sku, node), quantity in sorted(lines.items())
        if (sku, node) not in committed
    ]
    if shortages:
        raise InsufficientStock(shortages)


def deallocate_units(
    connection: Connection, lines: Mapping[tuple[str, str], int], now: datetime
) -> None:
    """Give committed units back (an order cancelled or re-routed) in the caller's transaction."""
    locked = store.lock_positions(connection, lines, now)
    changed = []
    for key, quantity in sorted(lines.items()):
        position = locked[key]
        if quantity > position.allocated:
            raise Conflict(
                f"only {position.allocated} of {key[0]} allocated at {key[1]}, not {quantity}"
            )
        changed.append(replace(position, allocated=position.allocated - quantity))
    store.save_positions(connection, changed, now)


def ship(
    engine: Engine,
    principal: Principal,
    sku: str,
    node_id: str,
    quantity: int,
    now: datetime | None = None,
) -> Position:
    """Allocated units leave the building: allocated and on hand both fall."""
    principal.require(Action.RECORD_INVENTORY)
    principal.require_node(node_id)
    moment = _now(now)
    if quantity <= 0:
        raise InvalidInput([Problem("quantity", "must be a positive whole number")])
    with writing(engine) as connection:
        check_known(connection, [(sku, node_id)], "shipment")
        position = store.lock_positions(connection, [(sku, node_id)], moment)[(sku, node_id)]
        if quantity > position.allocated:
            raise InvalidInput(
                [Problem("quantity", f"only {position.allocated} allocated of {sku} at {node_id}")]
            )
        position = replace(
            position, on_hand=position.on_hand - quantity, allocated=position.allocated - quantity
        )
        store.save_positions(connection, [position], moment)
    return position


# ---- configuration -------------------------------------------------------------------------------


def set_safety_stock(
    engine: Engine,
    principal: Principal,
    sku: str,
    node_id: str,
    quantity: int,
    now: datetime | None = None,
) -> Position:
    """Keep `quantity` units of a position back from shipping (not from pickup at the node)."""
    principal.require(Action.RECORD_INVENTORY)
    principal.require_node(node_id)
    if quantity < 0:
        raise InvalidInput([Problem("quantity", "must not be negative")])
    moment = _now(now)
    with writing(engine) as connection:
        check_known(connection, [(sku, node_id)], "position")
        position = store.lock_positions(connection, [(sku, node_id)], moment)[(sku, node_id)]
        store.set_safety_stock(connection, (sku, node_id), quantity, moment)
    return replace(position, safety_stock=quantity)


def exclude_nodes(
    engine: Engine, principal: Principal, channel: str, node_ids: Sequence[str]
) -> list[str]:
    """Set the nodes left out of a channel's availability (its distribution group is the rest)."""
    principal.require(Action.WRITE_NETWORK)
    if not channel.strip():
        raise InvalidInput([Problem("channel", "is required")])
    with writing(engine) as connection:
        known = store.existing(connection, nodes.c.id, set(node_ids))
        unknown = sorted(set(node_ids) - known)
        if unknown:
            raise InvalidInput([Problem("node_ids", f"unknown node {n!r}") for n in unknown])
        store.replace_exclusions(connection, channel, node_ids)
    return sorted(set(node_ids))


def excluded_nodes(engine: Engine, principal: Principal, channel: str) -> list[str]:
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        return sorted(store.excluded_nodes(connection, channel))


class NodeAvailability(NamedTuple):
    node_id: str
    available: int


@dataclass(frozen=True, slots=True)
class Availability:
    sku: str
    available: int
    nodes: tuple[NodeAvailability, ...]


def availability(
    engine: Engine,
    principal: Principal,
    skus: Sequence[str],
    *,
    method: Method = Method.SHIP,
    channel: str | None = None,
    now: datetime | None = None,
) -> list[Availability]:
    """Units that can be promised now, per SKU across the network and per node: only nodes that
    fulfil by `method`, are not paused, and are in the channel's distribution group."""
    principal.require(Action.READ_INVENTORY)
    if not skus:
        raise InvalidInput([Problem("sku", "ask for at least one SKU")])
    moment = _now(now)
    channel = principal.channel or channel
    with reading(engine) as connection:
        eligible = eligible_nodes(connection, method, moment)
        if channel is not None:
            eligible -= store.excluded_nodes(connection, channel)
        if principal.node_id is not None:
            eligible &= {principal.node_id}
        found = store.available_by_sku(connection, moment, skus, method, eligible)
    nothing: tuple[list[str], list[int]] = ([], [])
    return [
        Availability(sku, sum(units), _per_node(node_ids, units))
        for sku in dict.fromkeys(skus)
        for node_ids, units in [found.get(sku, nothing)]
    ]


def _per_node(node_ids: list[str], units: list[int]) -> tuple[NodeAvailability, ...]:
    """`NodeAvailability(node, count)` of each pair, made without a Python call per pair: a
    hundred SKUs have thousands of nodes with stock, and the calls were a third of the read."""
    return tuple(map(tuple.__new__, repeat(NodeAvailability), zip(node_ids, units, strict=True)))


_FULFILS = {
    Method.SHIP: {Capability.SHIP, Capability.SHIP_FROM_STORE},
    Method.PICKUP: {Capability.PICKUP_IN_STORE, Capability.CURBSIDE},
}


def eligible_nodes(connection: Connection, method: Method, now: datetime) -> set[str]:
    return eligible_among(network(connection).nodes, method, now)


def eligible_among(nodes: Iterable[Node], method: Method, now: datetime) -> set[str]:
    """Ids of the nodes that fulfil by `method` and are not paused at `now`."""
    wanted = _FULFILS[method]
    return {
        node.id
        for node in nodes
        if node.capabilities & wanted and node.status_at(now) is NodeStatus.ACTIVE
    }


# ---- reads -------------------------------------------------------------------------------------


def positions(
    engine: Engine,
    principal: Principal,
    *,
    sku: str | None = None,
    node_id: str | None = None,
    limit: int = 1000,
    after: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> list[Position]:
    """Positions of a SKU across nodes, or of a node across SKUs; a node key sees only its own."""
    principal.require(Action.READ_INVENTORY)
    if principal.node_id is not None:
        principal.require_node(node_id or principal.node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        return store.read_positions(
            connection, _now(now), sku=sku, node_id=node_id, limit=limit, after=after
        )


def position_history(
    engine: Engine, principal: Principal, sku: str, node_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    """What happened to a position, newest first: what, when, who, why, and whether it applied."""
    principal.require(Action.READ_INVENTORY)
    principal.require_node(node_id)
    with reading(engine) as connection:
        return _history_entries(store.history(connection, sku, node_id, limit))


def sku_history(
    engine: Engine, principal: Principal, sku: str, limit: int = 100
) -> list[dict[str, Any]]:
    """A SKU's latest events across the nodes this principal sees, newest first."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        return _history_entries(store.sku_history(connection, sku, principal.node_id, limit))


def _history_entries(rows: Sequence[Any]) -> list[dict[str, Any]]:
    keys = (
        "idempotency_key",
        "kind",
        "quantity",
        "reason",
        "source",
        "source_time",
        "recorded_at",
        "recorded_by",
        "applied",
        "note",
        "on_hand_after",
        "node_id",
        "uncovered",
    )
    return [{key: getattr(row, key) for key in keys} for row in rows]


@dataclass(frozen=True)
class Totals:
    sku: str
    nodes: int
    on_hand: int
    reserved: int
    allocated: int
    available: int


def network_totals(
    engine: Engine, principal: Principal, skus: Sequence[str], now: datetime | None = None
) -> list[Totals]:
    """Per SKU, summed over every node holding a position (what a node key may see)."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        found = store.read_positions(
            connection, _now(now), skus=sorted(set(skus)), node_id=principal.node_id
        )
    totals: dict[str, list[Position]] = {sku: [] for sku in skus}
    for position in found:
        totals[position.sku].append(position)
    return [
        Totals(
            sku,
            len(held),
            sum(p.on_hand for p in held),
            sum(p.reserved for p in held),
            sum(p.allocated for p in held),
            sum(p.available for p in held),
        )
        for sku, held in totals.items()
    ]


def low_stock(
    engine: Engine,
    principal: Principal,
    *,
    threshold: int,
    node_id: str | None = None,
    limit: int = 1000,
    now: datetime | None = None,
) -> list[Position]:
    """Positions whose units available to ship are at or below `threshold`, emptiest first."""
    principal.require(Action.READ_INVENTORY)
    if threshold < 0:
        raise InvalidInput([Problem("threshold", "must not be negative")])
    if principal.node_id is not None:
        principal.require_node(node_id or principal.node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        found = store.read_positions(connection, _now(now), node_id=node_id)
    low = [p for p in found if p.available <= threshold]
    low.sort(key=lambda p: (p.available, p.sku, p.node_id))
    return low[:limit]
