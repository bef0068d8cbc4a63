"""Orders end to end: capture, holds, sourcing and allocation, release to nodes, cancellation,
and what the jobs do (backorders, uncollected pickups).

Every command locks the order, changes the aggregate, and saves it with its new history entries
and their outbox events in one transaction; inventory moves in that same transaction."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dom.adapters import inventory_store as store
from dom.adapters import order_store
from dom.adapters.database import reading, writing
from dom.adapters.network_cache import network
from dom.adapters.tables import products
from dom.adapters.zip_directory import ZipDirectory
from dom.config import Settings
from dom.domain.access import LOCAL_OPERATOR, Action, Principal, Role
from dom.domain.errors import Forbidden, InvalidInput, NotFound, Problem
from dom.domain.inventory import EventKind, InsufficientStock, InventoryEvent
from dom.domain.inventory import Method as StockMethod
from dom.domain.network import NodeType
from dom.domain.orders.capture import Known, problems_of
from dom.domain.orders.lifecycle import DROPPED, HOLDING, HoldKind, Method, Status
from dom.domain.orders.model import Fulfilment, Order, Part
from dom.domain.orders.risk import NOT_YET_SHIPPED, expected_delivery, is_late
from dom.domain.sourcing.model import Order as RoutedOrder
from dom.domain.sourcing.model import OrderLine as RoutedLine
from dom.domain.sourcing.model import Plan
from dom.domain.sourcing.profiles import OrderFacts
from dom.services import sourcing, waves
from dom.services.inventory import EventRequest, allocate_units, deallocate_units, record_in
from dom.services.order_records import (
    entry_from_row,
    entry_rows,
    fulfilment_from_row,
    fulfilment_row,
    order_document,
    order_from_rows,
    order_row,
)

T = TypeVar("T")

#: Attempts at a command when a racing writer changed the order or took the units first.
TRIES = 4
#: Why a node gives units back, and whether the units are gone from its stock.
WRITE_OFF = {"not_found": EventKind.SHRINK, "damaged": EventKind.DAMAGE}
REJECT_REASONS = frozenset({"not_found", "damaged", "no_capacity", "cannot_handle", "other"})


@dataclass(frozen=True)
class Policy:
    """How the automation behaves; from the settings."""

    auto_release: bool = True
    pickup_expiry: timedelta = timedelta(hours=72)
    #: a customer's requests to one address at one node within this time ship together (0: off)
    consolidation_window: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            auto_release=settings.auto_release,
            pickup_expiry=timedelta(hours=settings.pickup_expiry_hours),
            consolidation_window=timedelta(minutes=settings.consolidation_minutes),
        )


@dataclass(frozen=True)
class Captured:
    order: Order
    created: bool  # False: the channel had sent this order before; this is the first one


# ---- capture ------------------------------------------------------------------------------


def capture(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    draft: Order,
    holds: Collection[HoldKind],
    policy: Policy,
    now: datetime | None = None,
) -> Captured:
    """Validate and record an order; unless it is held, source it and (by policy) release it.
    The same (channel, external id) again returns the order recorded the first time."""
    principal.require(Action.CAPTURE_ORDERS)
    if not principal.sees_channel(draft.channel):
        raise Forbidden(f"this key captures for channel {principal.channel!r} only")
    moment = now or datetime.now(UTC)
    for attempt in range(1, TRIES + 1):
        fresh = deepcopy(draft)  # a retry starts again from the order as it came in
        try:
            with writing(engine) as connection:
                _check_new(connection, zips, fresh, moment)
                earlier = order_store.order_id_by_external(
                    connection, draft.channel, draft.external_id
                )
                if earlier is None:
                    _record_new(connection, zips, fresh, holds, principal.name, policy, moment)
                    return Captured(fresh, created=True)
        except InsufficientStock:
            if attempt == TRIES:
                raise
            continue
        except IntegrityError:
            # The same order from the channel, recorded by a racing request just now.
            with reading(engine) as connection:
                earlier = order_store.order_id_by_external(
                    connection, draft.channel, draft.external_id
                )
            if earlier is None:
                raise
        return Captured(order(engine, principal, earlier), created=False)
    raise AssertionError("unreachable")


def _check_new(connection: Connection, zips: ZipDirectory, draft: Order, now: datetime) -> None:
    """Every broken rule of a new order at once, or nothing."""
    known = Known(
        skus=store.existing(connection, products.c.sku, {line.sku for line in draft.lines}),
        nodes=network(connection).by_id,
        zip_known=lambda zip_code: zips.destination(zip_code) is not None,
        today=now.date(),
    )
    problems = problems_of(draft, known)
    if problems:
        raise InvalidInput(problems)


def _record_new(
    connection: Connection,
    zips: ZipDirectory,
    draft: Order,
    holds: Collection[HoldKind],
    actor: str,
    policy: Policy,
    now: datetime,
) -> None:
    """Record the order and, unless held, source it, in the caller's transaction."""
    draft.record(now, actor, "order.created", lines=len(draft.lines))
    draft.place_holds(holds, now, actor)
    if draft.ready_to_source:
        _source_in(connection, zips, draft, actor, policy, now)
    order_store.insert_order(connection, order_row(draft, now))
    order_store.insert_fulfilments(
        connection, [fulfilment_row(draft.id, f, now) for f in draft.fulfilments]
    )
    _save_entries(connection, draft)


def new_order_id() -> str:
    return "o_" + secrets.token_hex(8)


# ---- commands on an order -----------------------------------------------------------------


def source(
    engine: Engine,
    zips: ZipDirectory,
    order_id: str,
    actor: str,
    policy: Policy,
    now: datetime | None = None,
) -> Order:
    """Route what the order still needs and allocate it; release it by policy. A backorder
    that still finds nothing leaves no trace (no decision, no history entry, no event)."""
    moment = now or datetime.now(UTC)

    def apply(connection: Connection, found: Order) -> Order:
        if not found.ready_to_source:
            return found
        before = (len(found.fulfilments), dict(found.waiting), found.queued)
        _source_in(connection, zips, found, actor, policy, moment)
        if found.sourced_at is not None and before == (
            len(found.fulfilments),
            found.waiting,
            found.queued,
        ):
            raise _NothingNew(found)
        return found

    try:
        return _change(engine, order_id, apply, moment)
    except _NothingNew as unchanged:
        return unchanged.order


class _NothingNew(Exception):
    """Routing again changed nothing: the transaction is rolled back."""

    def __init__(self, order: Order) -> None:
        super().__init__(order.id)
        self.order = order


def release_hold(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    order_id: str,
    kind: HoldKind,
    policy: Policy,
    now: datetime | None = None,
) -> Order:
    """Lift a payment, fraud or address hold; the last one lifted sends the order to sourcing."""
    principal.require(Action.MANAGE_ORDERS)
    moment = now or datetime.now(UTC)

    def apply(connection: Connection, found: Order) -> Order:
        _require_channel(principal, found)
        found.release_hold(kind, moment, principal.name)
        if found.ready_to_source:
            _source_in(connection, zips, found, principal.name, policy, moment)
        return found

    return _change(engine, order_id, apply, moment)


def release(
    engine: Engine, principal: Principal, order_id: str, now: datetime | None = None
) -> Order:
    """Send the order's sourced fulfilment requests to their nodes (when auto-release is off)."""
    principal.require(Action.MANAGE_ORDERS)
    moment = now or datetime.now(UTC)

    def apply(connection: Connection, found: Order) -> Order:
        _require_channel(principal, found)
        if not found.release(moment, principal.name):
            raise InvalidInput([Problem("order_id", f"order {order_id} has nothing to release")])
        return found

    return _change(engine, order_id, apply, moment)


def cancel(
    engine: Engine,
    principal: Principal,
    order_id: str,
    line_ids: Sequence[str] | None,
    reason: str,
    now: datetime | None = None,
) -> Order:
    """Cancel the order or some of its lines: their units and the nodes' capacity are freed."""
    principal.require(Action.MANAGE_ORDERS)
    moment = now or datetime.now(UTC)
    if not reason.strip():
        raise InvalidInput([Problem("reason", "say why the order is cancelled")])

    def apply(connection: Connection, found: Order) -> Order:
        _require_channel(principal, found)
        _free(connection, found.cancel(line_ids, reason, moment, principal.name), moment)
        return found

    return _change(engine, order_id, apply, moment)


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_before: str | None


def order(engine: Engine, principal: Principal, order_id: str) -> Order:
    """The order with its fulfilment requests and its whole history."""
    principal.require(Action.READ_ORDERS)
    with reading(engine) as connection:
        row = order_store.get_order(connection, order_id)
        if row is None or not principal.sees_channel(row.channel):
            raise NotFound("order", order_id)
        found = order_from_rows(row, order_store.fulfilments_of(connection, order_id))
        found.history = [entry_from_row(r) for r in order_store.history_of(connection, order_id)]
    return found


def orders(
    engine: Engine,
    principal: Principal,
    status: Status | None,
    limit: int,
    before: str | None = None,
) -> OrderPage:
    """Newest first; a channel key sees its own channel's orders."""
    principal.require(Action.READ_ORDERS)
    with reading(engine) as connection:
        rows = order_store.list_orders(
            connection, status.value if status else None, principal.channel, limit + 1, before
        )
        found = _loaded(connection, rows[:limit])
    return OrderPage(found, found[-1].id if len(rows) > limit else None)


def _loaded(connection: Connection, rows: Sequence[Any]) -> list[Order]:
    """Orders from their rows, with every one's fulfilment requests read in one query."""
    requests = order_store.fulfilments_of_orders(connection, [row.id for row in rows])
    return [order_from_rows(row, requests.get(row.id, [])) for row in rows]


def outbox_events(engine: Engine, principal: Principal, order_id: str) -> list[dict[str, Any]]:
    principal.require(Action.READ_ORDERS)
    order(engine, principal, order_id)  # the caller may see it
    with reading(engine) as connection:
        return [row.payload for row in order_store.outbox_of(connection, order_id)]


# ---- node operations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A fulfilment request as its node sees it: the pick list and where it goes."""

    fulfilment: Fulfilment
    order: Order
    #: a dropship vendor receives its requests as purchase orders, through the same API
    purchase_order: bool = False


#: What a node has to work on: released to it and not yet gone.
OPEN = tuple(sorted(s.value for s in HOLDING - {Status.SOURCED}))


def requests(
    engine: Engine, principal: Principal, node_id: str | None, limit: int
) -> list[Request]:
    """Open fulfilment requests, oldest first: a node key sees its own node's only."""
    principal.require(Action.FULFIL)
    if principal.node_id is not None:
        if node_id is not None:
            principal.require_node(node_id)
        node_id = principal.node_id
    with reading(engine) as connection:
        rows = order_store.open_fulfilments(connection, node_id, OPEN, limit)
        owners = order_store.orders_by_ids(connection, {row.order_id for row in rows})
        whole = {found.id: found for found in _loaded(connection, list(owners.values()))}
        vendors = _vendors(connection)
    return [
        Request(whole[row.order_id].fulfilment(row.id), whole[row.order_id], row.node_id in vendors)
        for row in rows
    ]


def _vendors(connection: Connection) -> set[str]:
    return {node.id for node in network(connection).nodes if node.type is NodeType.DROPSHIP_VENDOR}


def operate(
    engine: Engine,
    principal: Principal,
    fulfilment_id: str,
    act: Callable[[Connection, Order, Fulfilment, datetime], None],
    now: datetime | None = None,
) -> Request:
    """Run a node's step on one of its fulfilment requests, under the order's lock."""
    principal.require(Action.FULFIL)
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        row = order_store.get_fulfilment(connection, fulfilment_id)
    if row is None or not principal.sees_node(row.node_id):
        raise NotFound("fulfilment", fulfilment_id)

    def apply(connection: Connection, found: Order) -> Request:
        target = found.fulfilment(fulfilment_id)
        act(connection, found, target, moment)
        return Request(target, found, target.node_id in _vendors(connection))

    return _change(engine, row.order_id, apply, moment)


def acknowledge(actor: str) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, Status.ACKNOWLEDGED, now, actor)

    return act


def reject(
    zips: ZipDirectory,
    policy: Policy,
    actor: str,
    line_ids: Sequence[str] | None,
    reason: str,
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The node gives lines back: freed there (written off if not found or damaged) and routed
    again without it."""
    if reason not in REJECT_REASONS:
        raise InvalidInput(
            [Problem("reason", f"one of {', '.join(sorted(REJECT_REASONS))}, not {reason!r}")]
        )

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        parts = found.reject(target.id, line_ids, reason, now, actor)
        _give_back(connection, found, target, parts, reason, now)
        _source_in(connection, zips, found, "re-sourcing", policy, now)

    return act


def confirm_pick(
    zips: ZipDirectory, policy: Policy, actor: str, picked: dict[str, int]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The node confirms its pick; what it could not find is written off there and the
    remainder routed again without it."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        short = found.confirm_pick(target.id, picked, now, actor)
        if short:
            _give_back(connection, found, target, short, "not_found", now)
            _source_in(connection, zips, found, "re-sourcing", policy, now)

    return act


def step(
    actor: str, wanted: Status, **detail: Any
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """A plain move: ready for pickup, customer arrived, in transit, delivered (a transfer
    delivered to its store becomes a pickup request there)."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, wanted, now, actor, **detail)
        if wanted is Status.DELIVERED and target.transfer_to is not None:
            arrive_at_store(connection, found, target, actor, now)

    return act


def pack(
    actor: str, packages: list[Any]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.pack(target.id, packages, now, actor)

    return act


def ship(
    actor: str, carrier: str, service: str, tracking: Sequence[str]
) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The parcels leave: the node's allocated units leave its stock."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.ship(target.id, carrier, service, tracking, now, actor)
        _shift_stock(connection, _units_at(target.node_id, target.parts, sign=-1), now)

    return act


def hand_over(actor: str) -> Callable[[Connection, Order, Fulfilment, datetime], None]:
    """The customer collected it, in store or at the car: the units leave the store's stock."""

    def act(connection: Connection, found: Order, target: Fulfilment, now: datetime) -> None:
        found.move(target.id, Status.PICKED_UP, now, actor)
        _shift_stock(connection, _units_at(target.node_id, target.parts, sign=-1), now)

    return act


# ---- jobs ---------------------------------------------------------------------------------


def retry_waiting(
    engine: Engine,
    zips: ZipDirectory,
    policy: Policy,
    now: datetime | None = None,
    limit: int = 200,
) -> int:
    """Source backordered orders again (supply may have arrived); returns how many gained a
    node. (An order is recorded and sourced in one transaction: none waits unsourced.)"""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        waiting = order_store.order_ids_with_status(connection, Status.BACKORDERED.value, limit)
    moved = 0
    for order_id in waiting:
        found = source(engine, zips, order_id, "backorder job", policy, moment)
        moved += found.status is not Status.BACKORDERED
    return moved


def expire_pickups(engine: Engine, policy: Policy, now: datetime | None = None) -> int:
    """Cancel and restock pickups not collected within the policy's time."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        rows = order_store.open_fulfilments(
            connection, None, (Status.READY_FOR_PICKUP.value,), 1000
        )
    expired = 0
    for row in rows:
        ready_at = row.document["ready_at"]
        if ready_at is None or datetime.fromisoformat(ready_at) + policy.pickup_expiry > moment:
            continue

        def apply(connection: Connection, found: Order, fulfilment_id: str = row.id) -> None:
            target = found.fulfilment(fulfilment_id)
            if target.status is not Status.READY_FOR_PICKUP:
                return
            reason = f"not collected within {policy.pickup_expiry}"
            parts = found.expire(target.id, reason, moment, "pickup expiry job")
            _free(connection, [(target, p) for p in parts], moment)

        _change(engine, row.order_id, apply, moment)
        expired += 1
    return expired


def route_queued(
    engine: Engine,
    zips: ZipDirectory,
    policy: Policy,
    now: datetime | None = None,
    time_limit: float = 30.0,
) -> int:
    """Route the orders queued for a batch wave jointly (one MIP), then commit each order's plan
    in its own transaction; an order whose planned units went meanwhile is routed alone.
    Returns how many orders the wave took."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        ids = order_store.order_ids_with_status(connection, Status.QUEUED.value, waves.MAX_ORDERS)
        queued = _loaded(connection, list(order_store.orders_by_ids(connection, ids).values()))
    requests = [
        _shipping_request(zips, found, shipping)[0]
        for found in queued
        if (shipping := [x for x in found.outstanding_lines() if x.method is Method.SHIP])
    ]
    plans: dict[str, sourcing.Decision] = {}
    if requests:
        outcome = waves.route_orders(
            engine, LOCAL_OPERATOR, zips, requests, time_limit=time_limit, now=moment
        )
        plans = {decided.order_id: decided for decided in outcome.decisions}
    for found in queued:
        _change(
            engine, found.id, _routed_in_wave(zips, policy, plans.get(found.id), moment), moment
        )
    return len(queued)


def _routed_in_wave(
    zips: ZipDirectory, policy: Policy, plan: sourcing.Decision | None, now: datetime
) -> Callable[[Connection, Order], None]:
    wave = Wave(plan)

    def apply(connection: Connection, found: Order) -> None:
        if not found.queued or not found.ready_to_source:
            return  # cancelled, or held, since the wave read it
        try_plan = wave.plan
        wave.plan = None  # a retry (its units were gone) routes the order alone
        _source_in(connection, zips, found, "batch wave", policy, now, Wave(try_plan))

    return apply


class _NotBetter(Exception):
    """Routing the late request elsewhere would not deliver sooner: keep it where it is."""


@dataclass(frozen=True)
class LateOutcome:
    moved: int  # late requests taken back and routed to a node that delivers sooner
    flagged: int  # late requests newly reported at risk (order.at_risk)


def watch_late(
    engine: Engine, zips: ZipDirectory, policy: Policy, now: datetime | None = None
) -> LateOutcome:
    """Requests not shipped by their cutoff: one the node has not started is routed again
    without it when another node delivers sooner (within the promise, if there is one); every
    other late request is reported at risk, once."""
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        current = network(connection)
        rows = order_store.open_fulfilments(
            connection, None, [s.value for s in NOT_YET_SHIPPED], 10_000
        )
    moved = flagged = 0
    for row in rows:
        request = fulfilment_from_row(row)
        node = current.by_id.get(request.node_id)
        if node is None or not is_late(request, node, moment):
            continue
        expected = expected_delivery(request, node, moment)
        if request.status in (Status.SOURCED, Status.RELEASED):
            try:
                _change(
                    engine,
                    row.order_id,
                    _move_late(zips, policy, request.id, expected, moment),
                    moment,
                )
                moved += 1
                continue
            except _NotBetter:
                pass

        flagged += _change(engine, row.order_id, _flag_late(request.id, expected, moment), moment)
    return LateOutcome(moved, flagged)


def _flag_late(
    request_id: str, expected: date | None, now: datetime
) -> Callable[[Connection, Order], bool]:
    def apply(connection: Connection, found: Order) -> bool:
        return found.flag_at_risk(request_id, expected, now, "late job")

    return apply


def _move_late(
    zips: ZipDirectory, policy: Policy, request_id: str, expected: date | None, now: datetime
) -> Callable[[Connection, Order], None]:
    def apply(connection: Connection, found: Order) -> None:
        target = found.fulfilment(request_id)
        before = len(found.fulfilments)
        parts = found.withdraw(
            target.id, "late: routed to a node that delivers sooner", now, "late job"
        )
        _free(connection, [(target, p) for p in parts], now)
        found.avoid.update((p.sku, target.node_id) for p in parts)
        _source_in(connection, zips, found, "late job", policy, now)
        added = found.fulfilments[before:]
        sooner = [f.deliver_on for f in added if f.deliver_on is not None]
        limit = found.promise_by or expected
        if (
            found.outstanding_lines()
            or not sooner
            or (expected is not None and max(sooner) >= expected)
            or (limit is not None and max(sooner) > limit)
        ):
            raise _NotBetter  # rolls the whole attempt back

    return apply


# ---- inside a transaction -----------------------------------------------------------------


def _change(
    engine: Engine, order_id: str, apply: Callable[[Connection, Order], T], now: datetime
) -> T:
    """Lock the order, apply the command, save it with its events; again from a fresh read if
    a racing writer took the units the command chose."""
    for attempt in range(1, TRIES + 1):
        try:
            with writing(engine) as connection:
                row = order_store.lock_order(connection, order_id)
                if row is None:
                    raise NotFound("order", order_id)
                found = order_from_rows(row, order_store.fulfilments_of(connection, order_id))
                result = apply(connection, found)
                _save(connection, found, now)
                return result
        except (InsufficientStock, order_store.StaleOrder):
            if attempt == TRIES:
                raise
    raise AssertionError("unreachable")


def _save(connection: Connection, found: Order, now: datetime) -> None:
    if not found.new_entries:
        return
    row = order_row(found, now)
    order_store.update_order(
        connection,
        found.id,
        found.version,
        {k: row[k] for k in ("status", "updated_at", "document")},
    )
    order_store.save_fulfilments(
        connection, [fulfilment_row(found.id, f, now) for f in found.fulfilments]
    )
    _save_entries(connection, found)


def _save_entries(connection: Connection, found: Order) -> None:
    entries = list(found.new_entries)
    history, events = entry_rows(found, entries, [secrets.token_hex(16) for _ in entries])
    order_store.insert_entries(connection, history, events)
    found.new_entries.clear()


def _source_in(
    connection: Connection,
    zips: ZipDirectory,
    found: Order,
    actor: str,
    policy: Policy,
    now: datetime,
    wave: Wave | None = None,
) -> None:
    """Route the order's outstanding lines: shipping lines by the engine under the order's
    profile (or as the batch wave planned them), collected lines at the pickup store; allocate,
    count capacity, release. An order whose profile routes in waves is queued instead, the
    first time."""
    outstanding = found.outstanding_lines()
    added: list[Fulfilment] = []
    waiting: dict[str, str] = {}
    decisions: list[str] = []
    shipping = [line for line in outstanding if line.method is Method.SHIP]
    if shipping:
        request, routed, facts = _shipping_request(zips, found, shipping)
        if wave is not None and wave.plan is not None:
            decided = sourcing.record_in(connection, wave.plan, request, actor, now)
        else:
            chosen = sourcing.profile_for(connection, request, facts)
            if chosen[0].constraints.wave and wave is None and found.sourced_at is None:
                found.queue_for_wave(chosen[0].name, now, actor)
                return
            decided = sourcing.commit_in(
                connection,
                connection.engine,
                actor,
                found.channel,
                request,
                routed,
                facts,
                now,
                found.avoid,
                chosen,
            )
        decisions.append(str(decided.id))
        added.extend(_fulfilments_of(decided.plan, now))
        waiting.update(_reasons(decided.plan))
    for method in (Method.PICKUP, Method.CURBSIDE):
        collected = [line for line in outstanding if line.method is method]
        if collected:
            at_store, short = _collect_at_store(connection, found, collected, method, now)
            added.extend(at_store)
            waiting.update(short)
    short_lines = [line for line in outstanding if line.method.at_store and line.line_id in waiting]
    if short_lines:
        transfer = _transfer_to_store(connection, zips, found, short_lines, actor, now)
        if transfer is not None:
            decisions.append(str(transfer.id))
            added.extend(_fulfilments_of(transfer.plan, now, found.pickup_node_id))
            for line in short_lines:
                waiting.pop(line.line_id, None)
            waiting.update(_reasons(transfer.plan))
    current = network(connection)
    for new in added:
        day = sourcing.local_day(current.by_id[new.node_id], now)
        order_store.add_capacity(connection, new.node_id, day, new.units, 1)
    if policy.consolidation_window:
        _consolidate(connection, found, added, now - policy.consolidation_window)
    found.add_fulfilments(added, waiting, now, actor, decisions)
    if policy.auto_release:
        found.release(now, "auto-release")


def _reasons(plan: Plan) -> dict[str, str]:
    """Why each line the plan leaves unfilled waits."""
    return {u.line_id: f"{u.reason.value}: {u.detail}" for u in plan.unfilled}


def _consolidate(
    connection: Connection, found: Order, added: Sequence[Fulfilment], since: datetime
) -> None:
    """Point each new shipping request at the customer's other requests to the same address at
    the same node, made since `since` and not yet started, so the node ships them together."""
    if found.customer.id is None or found.ship_to is None:
        return
    address = order_document(found)["ship_to"]
    for new in added:
        if new.method is not Method.SHIP or new.transfer_to is not None:
            continue
        new.ship_with = [
            other.id
            for other in order_store.mergeable_requests(
                connection, new.node_id, found.customer.id, found.id, since
            )
            if other.document_ship_to == address
        ]


def _transfer_to_store(
    connection: Connection,
    zips: ZipDirectory,
    found: Order,
    lines: Sequence[Any],
    actor: str,
    now: datetime,
) -> sourcing.Decision | None:
    """Pickup lines the store cannot cover, shipped to it from other nodes when the order's
    profile allows transfers: routed like a shipment to the store's address (a business, by
    ground), with the transfer's cost and days; None when the profile does not allow it or
    no node has any of them."""
    store_id = found.pickup_node_id
    assert store_id is not None
    store_node = network(connection).by_id[store_id]
    request = sourcing.SourcingRequest(
        order_id=found.id,
        lines=tuple(RoutedLine(line.line_id, line.sku, line.quantity) for line in lines),
        zip_code=store_node.address.zip,
        residential=False,
        facts=_facts_of(found),
    )
    routed, facts = sourcing.order_of(zips, request)
    chosen = sourcing.profile_for(connection, request, facts)
    if not chosen[0].constraints.transfers_to_pickup:
        return None
    avoid = found.avoid | {(line.sku, store_id) for line in lines}
    decided = sourcing.commit_in(
        connection,
        connection.engine,
        actor,
        found.channel,
        request,
        routed,
        facts,
        now,
        avoid,
        chosen,
    )
    return decided if decided.plan.shipments else None


def arrive_at_store(
    connection: Connection, found: Order, transfer: Fulfilment, actor: str, now: datetime
) -> Fulfilment:
    """A transfer delivered to the pickup store: its units join the store's stock, held for
    this order by a pickup request there, released to the store at once."""
    store_id = transfer.transfer_to
    assert store_id is not None
    _shift_stock(connection, _units_at(store_id, transfer.parts), now)
    method = found.line(transfer.parts[0].line_id).method
    request = Fulfilment(
        _fulfilment_id(),
        store_id,
        method,
        Status.SOURCED,
        [Part(p.line_id, p.sku, p.quantity) for p in transfer.parts],
        now,
    )
    day = sourcing.local_day(network(connection).by_id[store_id], now)
    order_store.add_capacity(connection, store_id, day, request.units, 1)
    found.take_over(transfer.id, request, now, actor)
    found.release(now, actor)
    return request


@dataclass
class Wave:
    """An order's place in a batch wave: the plan the wave made for its shipping lines (None:
    route it alone, the wave's units went elsewhere meanwhile)."""

    plan: sourcing.Decision | None


def _shipping_request(
    zips: ZipDirectory, found: Order, lines: Sequence[Any]
) -> tuple[sourcing.SourcingRequest, RoutedOrder, OrderFacts]:
    assert found.ship_to is not None
    request = sourcing.SourcingRequest(
        order_id=found.id,
        lines=tuple(RoutedLine(line.line_id, line.sku, line.quantity) for line in lines),
        zip_code=found.ship_to.zip_code,
        residential=found.ship_to.residential,
        service_level=found.service_level,
        promise_by=found.promise_by,
        facts=_facts_of(found),
    )
    routed, facts = sourcing.order_of(zips, request)
    return request, routed, facts


def _facts_of(found: Order) -> OrderFacts:
    """What the profile rules look at."""
    return OrderFacts(
        channel=found.channel,
        segment=found.customer.segment,
        tags=frozenset(found.tags),
        free_shipping=found.free_shipping,
        value=found.value,
    )


def _fulfilments_of(plan: Plan, now: datetime, transfer_to: str | None = None) -> list[Fulfilment]:
    return [
        Fulfilment(
            id=_fulfilment_id(),
            node_id=shipment.node_id,
            method=Method.SHIP,
            status=Status.SOURCED,
            parts=[Part(line.line_id, line.sku, line.quantity) for line in shipment.lines],
            created_at=now,
            carrier=shipment.carrier,
            service=shipment.service,
            ship_on=shipment.ship_on,
            deliver_on=shipment.deliver_on,
            transfer_to=transfer_to,
            planned_packages=shipment.packages,
        )
        for shipment in plan.shipments
    ]


def _collect_at_store(
    connection: Connection,
    found: Order,
    lines: Sequence[Any],
    method: Method,
    now: datetime,
) -> tuple[list[Fulfilment], dict[str, str]]:
    """Collected lines come from the pickup store's own stock (its safety stock is for exactly
    these customers); a line the store cannot cover waits for supply there."""
    store_id = found.pickup_node_id
    assert store_id is not None
    node = network(connection).by_id.get(store_id)
    waiting: dict[str, str] = {}
    if node is None or node.status_at(now).value != "active":
        return [], {line.line_id: f"store {store_id} is paused" for line in lines}
    needed: dict[str, int] = {}
    for line in lines:
        needed[line.sku] = needed.get(line.sku, 0) + line.quantity
    locked = store.lock_positions(connection, [(sku, store_id) for sku in needed], now)
    left = {sku: locked[(sku, store_id)].available_for(StockMethod.PICKUP) for sku in needed}
    parts: list[Part] = []
    for line in lines:
        if (line.sku, store_id) in found.avoid:
            waiting[line.line_id] = f"store {store_id} gave it back: waiting for stock there"
        elif left[line.sku] >= line.quantity:
            left[line.sku] -= line.quantity
            parts.append(Part(line.line_id, line.sku, line.quantity))
        else:
            waiting[line.line_id] = (
                f"not_enough_stock: store {store_id} has {left[line.sku]} of {line.quantity}"
            )
    if not parts:
        return [], waiting
    allocate_units(connection, _units_at(store_id, parts), now, StockMethod.PICKUP)
    request = Fulfilment(_fulfilment_id(), store_id, method, Status.SOURCED, parts, now)
    return [request], waiting


def _give_back(
    connection: Connection,
    found: Order,
    target: Fulfilment,
    parts: Sequence[Part],
    reason: str,
    now: datetime,
) -> None:
    """Free units a node gave back; write them off if they are gone; never route them there
    again for this order."""
    _free(connection, [(target, p) for p in parts], now)
    kind = WRITE_OFF.get(reason)
    if kind is not None:
        _write_off(connection, target, parts, kind, now)
    found.avoid.update((p.sku, target.node_id) for p in parts)


def _free(connection: Connection, taken: Sequence[tuple[Fulfilment, Part]], now: datetime) -> None:
    """Deallocate the parts' units at their nodes and give back the capacity they used (and the
    request's place in its node's day when the request is dropped)."""
    units: Counter[tuple[str, str]] = Counter()
    per_request: Counter[str] = Counter()
    requests: dict[str, Fulfilment] = {}
    for found, part in taken:
        units[(part.sku, found.node_id)] += part.quantity
        per_request[found.id] += part.quantity
        requests[found.id] = found
    if units:
        deallocate_units(connection, units, now)
    current = network(connection)
    for request_id, count in per_request.items():
        found = requests[request_id]
        day = sourcing.local_day(current.by_id[found.node_id], found.created_at)
        dropped = int(found.status in DROPPED)
        order_store.add_capacity(connection, found.node_id, day, -count, -dropped)


def _units_at(node_id: str, parts: Iterable[Part], sign: int = 1) -> Counter[tuple[str, str]]:
    """Units per (SKU, node) of these parts (negated with `sign=-1`)."""
    units: Counter[tuple[str, str]] = Counter()
    for part in parts:
        units[(part.sku, node_id)] += sign * part.quantity
    return units


def _shift_stock(
    connection: Connection, units: Mapping[tuple[str, str], int], now: datetime
) -> None:
    """Committed units arrive at (positive) or leave (negative) their nodes: on hand and
    allocated move together."""
    locked = store.lock_positions(connection, units, now)
    store.save_positions(
        connection,
        [
            replace(p, on_hand=p.on_hand + units[key], allocated=p.allocated + units[key])
            for key, p in sorted(locked.items())
        ],
        now,
    )


#: Who the inventory history names for a node's write-off.
FULFILMENT = Principal("dom-fulfilment", "dom fulfilment", Role.ADMIN)


def _write_off(
    connection: Connection,
    target: Fulfilment,
    parts: Sequence[Part],
    kind: EventKind,
    now: datetime,
) -> None:
    """Units a node could not find or found damaged leave its on hand, recorded as shrink or
    damage events like any other (audit history included)."""
    units = Counter[str]()
    for part in parts:
        units[part.sku] += part.quantity
    requests = [
        EventRequest(
            f"fulfilment:{target.id}:{sku}:{kind.value}:{secrets.token_hex(4)}",
            InventoryEvent(
                kind,
                sku,
                target.node_id,
                quantity,
                "dom fulfilment",
                now,
                f"fulfilment {target.id}: {kind.value} at pick",
            ),
        )
        for sku, quantity in sorted(units.items())
    ]
    record_in(connection, FULFILMENT, requests, now)


def _require_channel(principal: Principal, found: Order) -> None:
    if not principal.sees_channel(found.channel):
        raise NotFound("order", found.id)


def _fulfilment_id() -> str:
    return "f_" + secrets.token_hex(8)
