"""Orders: capture, holds, sourcing and allocation, release to nodes, cancellation, reading.

Every command runs through `order_changes.change` (one transaction per command); node
operations are in `fulfilment`, the worker's jobs in `order_jobs`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dom.adapters import order_store
from dom.adapters import repositories as repo
from dom.adapters.database import reading, writing
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import Forbidden, InvalidInput, NotFound, Problem
from dom.domain.inventory import InsufficientStock
from dom.domain.orders.capture import Known, problems_of
from dom.domain.orders.lifecycle import HoldKind, Status
from dom.domain.orders.model import Order
from dom.ids import random_hex
from dom.services.order_changes import TRIES, Policy, change, loaded, take_entry_rows
from dom.services.order_records import entry_from_row, fulfilment_row, order_from_rows, order_row
from dom.services.order_sourcing import Deferred, source_in
from dom.services.order_stock import free


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
    The same (channel, external id) again returns the order recorded the first time: found by
    the unique index when the order is inserted (the whole transaction rolls back), so a new
    order — nearly every one — pays no query to look for an earlier one."""
    principal.require(Action.CAPTURE_ORDERS)
    if not principal.sees_channel(draft.channel):
        raise Forbidden(f"this key captures for channel {principal.channel!r} only")
    moment = now or datetime.now(UTC)
    for attempt in range(1, TRIES + 1):
        fresh = deepcopy(draft)  # a retry starts again from the order as it came in
        try:
            with writing(engine) as connection:
                _check_new(connection, zips, fresh, moment)
                _record_new(connection, zips, fresh, holds, principal.name, policy, moment)
                return Captured(fresh, created=True)
        except InsufficientStock:
            if attempt == TRIES:
                raise
            continue
        except IntegrityError:
            # The same order from the channel: recorded before, or by a racing request just now.
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
    nodes = network(connection).by_id  # first: it reads the catalogue's token too
    known = Known(
        skus=set(repo.products_by_sku(connection, {line.sku for line in draft.lines})),
        nodes=nodes,
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
    deferred = Deferred()
    if draft.ready_to_source:
        source_in(connection, zips, draft, actor, policy, now, deferred=deferred)
    order_store.insert_new_order(
        connection,
        order_row(draft, now),
        [fulfilment_row(draft.id, f, now) for f in draft.fulfilments],
        *take_entry_rows(draft),
        deferred.decisions,
        deferred.capacity_rows(),
    )


def new_order_id() -> str:
    return "o_" + random_hex(8)


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
        source_in(connection, zips, found, actor, policy, moment)
        if found.sourced_at is not None and before == (
            len(found.fulfilments),
            found.waiting,
            found.queued,
        ):
            raise _NothingNew(found)
        return found

    try:
        return change(engine, order_id, apply, moment)
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
            source_in(connection, zips, found, principal.name, policy, moment)
        return found

    return change(engine, order_id, apply, moment)


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

    return change(engine, order_id, apply, moment)


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
        free(connection, found.cancel(line_ids, reason, moment, principal.name), moment)
        return found

    return change(engine, order_id, apply, moment)


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
        found = loaded(connection, rows[:limit])
    return OrderPage(found, found[-1].id if len(rows) > limit else None)


def outbox_events(engine: Engine, principal: Principal, order_id: str) -> list[dict[str, Any]]:
    principal.require(Action.READ_ORDERS)
    order(engine, principal, order_id)  # the caller may see it
    with reading(engine) as connection:
        return [row.payload for row in order_store.outbox_of(connection, order_id)]


def _require_channel(principal: Principal, found: Order) -> None:
    if not principal.sees_channel(found.channel):
        raise NotFound("order", found.id)
