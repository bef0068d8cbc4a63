"""The order aggregate: what the customer asked for, the fulfilment requests that carry it out,
the holds that keep it back, and the history of everything that happened to it.

Every change goes through a method here; each records a history entry, and the entries a
command adds are the events the service writes to the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dom.domain.errors import Conflict, InvalidInput, Problem
from dom.domain.orders.lifecycle import (
    DROPPED,
    FINAL,
    HOLDING,
    HoldKind,
    Method,
    Status,
    check_move,
    rolled_up,
)


@dataclass(frozen=True)
class Customer:
    id: str | None = None
    email: str | None = None
    segment: str | None = None  # or tier: profile rules may look at it
    name: str | None = None


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    state: str
    zip_code: str
    line2: str = ""
    residential: bool = True


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: float
    method: Method = Method.SHIP


@dataclass
class Part:
    """Units of one order line that one fulfilment request carries."""

    line_id: str
    sku: str
    quantity: int
    picked: int | None = None  # confirmed by the node's pick


@dataclass
class Package:
    lines: dict[str, int]  # line id → units in this package
    weight_lb: float | None = None
    tracking: str | None = None


@dataclass
class Fulfilment:
    """A request to one node to ship, hand over or send lines: its pick list and progress."""

    id: str
    node_id: str
    method: Method
    status: Status
    parts: list[Part]
    created_at: datetime
    carrier: str | None = None
    service: str | None = None
    ship_on: date | None = None
    deliver_on: date | None = None  # promised when routed
    packages: list[Package] = field(default_factory=list)
    reason: str | None = None  # why it was rejected, cancelled or expired
    ready_at: datetime | None = None
    #: a transfer: it ships to this store, where a pickup request takes over on arrival
    transfer_to: str | None = None
    planned_packages: int | None = None  # as the router packed the lines
    #: the same customer's requests to the same address at this node: ship them together
    ship_with: list[str] = field(default_factory=list)
    at_risk_since: datetime | None = None  # when it was found late for its promise

    @property
    def units(self) -> int:
        return sum(part.quantity for part in self.parts)

    def part(self, line_id: str) -> Part:
        for part in self.parts:
            if part.line_id == line_id:
                return part
        raise InvalidInput([Problem("line_id", f"{line_id} is not in fulfilment {self.id}")])


@dataclass(frozen=True)
class Entry:
    """One thing that happened to an order: also the event the outbox delivers."""

    at: datetime
    actor: str  # the API key's name, a node, or the rule or job that acted
    event: str  # past tense: order.created, fulfilment.shipped, ...
    detail: Mapping[str, Any]


@dataclass
class Order:
    id: str
    channel: str
    external_id: str
    customer: Customer
    lines: tuple[OrderLine, ...]
    created_at: datetime
    ship_to: Address | None = None
    pickup_node_id: str | None = None
    service_level: str = "ground"
    promise_by: date | None = None
    free_shipping: bool = False
    gift: bool = False
    tags: tuple[str, ...] = ()
    holds: set[HoldKind] = field(default_factory=set)
    fulfilments: list[Fulfilment] = field(default_factory=list)
    cancelled: dict[str, int] = field(default_factory=dict)  # line id → units cancelled
    waiting: dict[str, str] = field(default_factory=dict)  # line id → why it is backordered
    sourced_at: datetime | None = None
    queued: bool = False  # waits for the next batch wave
    decisions: list[str] = field(default_factory=list)  # routing decisions, with explanations
    #: (SKU, node) pairs not to route to again: the node gave those units back
    avoid: set[tuple[str, str]] = field(default_factory=set)
    status: Status = Status.CREATED
    history: list[Entry] = field(default_factory=list)
    version: int = 0
    #: entries added since the order was loaded: the events to publish
    new_entries: list[Entry] = field(default_factory=list, repr=False)

    # ---- reading ------------------------------------------------------------------------------

    @property
    def value(self) -> float:
        return round(sum(line.unit_price * line.quantity for line in self.lines), 2)

    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise InvalidInput([Problem("line_id", f"order {self.id} has no line {line_id!r}")])

    def fulfilment(self, fulfilment_id: str) -> Fulfilment:
        for found in self.fulfilments:
            if found.id == fulfilment_id:
                return found
        raise InvalidInput(
            [Problem("fulfilment_id", f"order {self.id} has no fulfilment {fulfilment_id!r}")]
        )

    def live_units(self, line_id: str) -> int:
        """Units of the line that a fulfilment request still carries (or already delivered)."""
        return sum(
            part.quantity for f in self.carrying() for part in f.parts if part.line_id == line_id
        )

    def carrying(self) -> list[Fulfilment]:
        """Requests that carry units to the customer: not dropped, and no transfer that has
        arrived at its store (the store's own request carries those units on)."""
        return [
            f
            for f in self.fulfilments
            if f.status not in DROPPED
            and not (f.transfer_to is not None and f.status is Status.DELIVERED)
        ]

    def outstanding(self, line_id: str) -> int:
        """Units of the line not yet sourced, nor cancelled: backordered once sourcing ran."""
        line = self.line(line_id)
        if line.method is Method.DIGITAL:
            return 0
        return line.quantity - self.cancelled.get(line_id, 0) - self.live_units(line_id)

    def outstanding_lines(self) -> list[OrderLine]:
        """What still needs a node, with each line's outstanding quantity."""
        return [
            OrderLine(line.line_id, line.sku, left, line.unit_price, line.method)
            for line in self.lines
            if (left := self.outstanding(line.line_id)) > 0
        ]

    def line_status(self, line_id: str) -> Status:
        line = self.line(line_id)
        if self.cancelled.get(line_id, 0) >= line.quantity:
            return Status.CANCELLED
        if self.sourced_at is None:
            return self._waiting_status()
        if line.method is Method.DIGITAL:
            return Status.FULFILLED
        parts = [f.status for f in self.carrying() for p in f.parts if p.line_id == line_id]
        if self.outstanding(line_id) > 0:
            parts.append(Status.BACKORDERED)
        return rolled_up(parts) or Status.CANCELLED

    def rolled_up_status(self) -> Status:
        if all(self.cancelled.get(line.line_id, 0) >= line.quantity for line in self.lines):
            return Status.CANCELLED
        if self.sourced_at is None:
            return self._waiting_status()
        return rolled_up(self.line_status(line.line_id) for line in self.lines) or Status.CANCELLED

    def _waiting_status(self) -> Status:
        if self.holds:
            return Status.ON_HOLD
        return Status.QUEUED if self.queued else Status.CREATED

    # ---- commands -----------------------------------------------------------------------------

    def record(self, at: datetime, actor: str, event: str, **detail: Any) -> None:
        """Add a history entry; when the roll-up changes, say so too."""
        entry = Entry(at, actor, event, detail)
        self.history.append(entry)
        self.new_entries.append(entry)
        status = self.rolled_up_status()
        if status is not self.status:
            before, self.status = self.status, status
            change = Entry(at, actor, "order.status_changed", {"from": before, "to": status})
            self.history.append(change)
            self.new_entries.append(change)

    def place_holds(self, kinds: Iterable[HoldKind], at: datetime, actor: str) -> None:
        if self.sourced_at is not None:
            raise Conflict(f"order {self.id} is sourced already: holds go on before sourcing")
        added = sorted(set(kinds) - self.holds)
        if added:
            self.holds.update(added)
            self.record(at, actor, "order.held", holds=added)

    def release_hold(self, kind: HoldKind, at: datetime, actor: str) -> None:
        if kind not in self.holds:
            raise Conflict(f"order {self.id} has no {kind.value} hold")
        self.holds.discard(kind)
        self.record(at, actor, "order.hold_released", hold=kind, holds_left=sorted(self.holds))

    @property
    def ready_to_source(self) -> bool:
        """Not held nor cancelled, and never sourced (a digital-only order is fulfilled by
        sourcing) or with units still waiting for a node."""
        return (
            not self.holds
            and self.status is not Status.CANCELLED
            and (self.sourced_at is None or bool(self.outstanding_lines()))
        )

    def queue_for_wave(self, profile: str, at: datetime, actor: str) -> None:
        self.queued = True
        self.record(at, actor, "order.queued", profile=profile)

    def add_fulfilments(
        self,
        added: Sequence[Fulfilment],
        waiting: Mapping[str, str],
        at: datetime,
        actor: str,
        decision_ids: Sequence[str] = (),
    ) -> None:
        """Record where the outstanding lines were routed; what could not be is backordered
        (`waiting`: line id → reason)."""
        self.fulfilments.extend(added)
        self.queued = False
        first = self.sourced_at is None
        self.sourced_at = self.sourced_at or at
        self.decisions.extend(decision_ids)
        self.waiting = {
            line_id: reason for line_id, reason in waiting.items() if self.outstanding(line_id) > 0
        }
        if added:
            self.record(
                at,
                actor,
                "order.sourced" if first else "order.resourced",
                fulfilments=[_summary(f) for f in added],
            )
        if self.waiting:
            self.record(at, actor, "order.backordered", lines=dict(self.waiting))
        elif first and not added:  # digital only
            self.record(at, actor, "order.sourced", fulfilments=[])

    def move(
        self, fulfilment_id: str, wanted: Status, at: datetime, actor: str, **detail: Any
    ) -> Fulfilment:
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, wanted)
        if wanted is Status.SHIPPED and found.method.at_store:
            raise Conflict(f"fulfilment {found.id} is a {found.method.value}: it is handed over")
        if wanted is Status.READY_FOR_PICKUP and not found.method.at_store:
            raise Conflict(f"fulfilment {found.id} ships: it is not collected")
        if wanted is Status.CUSTOMER_ARRIVED and found.method is not Method.CURBSIDE:
            raise Conflict(f"fulfilment {found.id} is not curbside")
        found.status = wanted
        if wanted is Status.READY_FOR_PICKUP:
            found.ready_at = at
        # A transfer to the pickup store is not the customer's parcel: its events are named
        # apart, so subscribers, messages and tracking tell them from the customer's.
        kind = "fulfilment"
        if found.transfer_to is not None:
            kind = "transfer"
            detail["transfer_to"] = found.transfer_to
        self.record(at, actor, f"{kind}.{wanted.value}", fulfilment=found.id, **detail)
        return found

    def take_over(self, transfer_id: str, request: Fulfilment, at: datetime, actor: str) -> None:
        """A transfer arrived at the pickup store: the store's request carries its units on."""
        self.fulfilments.append(request)
        self.record(
            at, actor, "fulfilment.transfer_arrived", fulfilment=transfer_id, pickup=request.id
        )

    def release(self, at: datetime, actor: str) -> list[Fulfilment]:
        """Send every sourced fulfilment request to its node."""
        released = [f for f in self.fulfilments if f.status is Status.SOURCED]
        for found in released:
            self.move(found.id, Status.RELEASED, at, actor, node_id=found.node_id)
        return released

    def confirm_pick(
        self, fulfilment_id: str, picked: Mapping[str, int], at: datetime, actor: str
    ) -> list[Part]:
        """The node confirms what it picked; a line not named is picked in full. Returns the
        short parts (what it could not find) for re-routing; the request keeps what was
        picked, or is rejected when nothing was."""
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.PICKING)
        problems = [
            Problem(f"picked.{line_id}", f"{line_id} is not in fulfilment {found.id}")
            for line_id in picked
            if line_id not in {p.line_id for p in found.parts}
        ]
        for part in found.parts:
            count = picked.get(part.line_id, part.quantity)
            if not 0 <= count <= part.quantity:
                problems.append(
                    Problem(f"picked.{part.line_id}", f"must be between 0 and {part.quantity}")
                )
        if problems:
            raise InvalidInput(problems)
        short: list[Part] = []
        for part in found.parts:
            count = picked.get(part.line_id, part.quantity)
            if count < part.quantity:
                short.append(Part(part.line_id, part.sku, part.quantity - count))
            part.picked = count
        found.parts = [p for p in found.parts if p.picked]
        for part in found.parts:
            part.quantity = part.picked or 0
        if not found.parts:
            found.parts = short  # keep what it was asked for, for the record
            found.status = Status.REJECTED
            found.reason = "short pick: nothing found"
            self.record(at, actor, "fulfilment.rejected", fulfilment=found.id, reason=found.reason)
            return short
        found.status = Status.PICKING
        self.record(
            at,
            actor,
            "fulfilment.picked",
            fulfilment=found.id,
            short={p.line_id: p.quantity for p in short},
        )
        return short

    def reject(
        self,
        fulfilment_id: str,
        line_ids: Sequence[str] | None,
        reason: str,
        at: datetime,
        actor: str,
    ) -> list[Part]:
        """The node gives lines back (not found, damaged...): they leave the request, which is
        rejected when none are left. Returns the parts given back, to route elsewhere."""
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.REJECTED)
        wanted = set(line_ids) if line_ids else {p.line_id for p in found.parts}
        unknown = sorted(wanted - {p.line_id for p in found.parts})
        if unknown:
            raise InvalidInput(
                [Problem("line_ids", f"{', '.join(unknown)} are not in fulfilment {found.id}")]
            )
        given_back = [p for p in found.parts if p.line_id in wanted]
        kept = [p for p in found.parts if p.line_id not in wanted]
        if kept:
            found.parts = kept
            self.record(
                at,
                actor,
                "fulfilment.lines_rejected",
                fulfilment=found.id,
                lines=sorted(wanted),
                reason=reason,
            )
        else:
            found.status = Status.REJECTED
            found.reason = reason
            self.record(at, actor, "fulfilment.rejected", fulfilment=found.id, reason=reason)
        return [Part(p.line_id, p.sku, p.quantity) for p in given_back]

    def pack(
        self, fulfilment_id: str, packages: Sequence[Package], at: datetime, actor: str
    ) -> Fulfilment:
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.PACKED)
        wanted = {p.line_id: p.quantity for p in found.parts}
        packages = packages or [Package(dict(wanted))]
        packed: dict[str, int] = {}
        problems: list[Problem] = []
        for index, package in enumerate(packages):
            if not package.lines:
                problems.append(Problem(f"packages.{index}.lines", "a package holds something"))
            for line_id, units in package.lines.items():
                if line_id not in wanted:
                    problems.append(
                        Problem(f"packages.{index}.lines.{line_id}", "not in this fulfilment")
                    )
                elif units <= 0:
                    problems.append(
                        Problem(f"packages.{index}.lines.{line_id}", "must be a positive number")
                    )
                packed[line_id] = packed.get(line_id, 0) + units
        if not problems and packed != wanted:
            problems.append(
                Problem("packages", f"pack exactly the picked units: {_units_text(wanted)}")
            )
        if problems:
            raise InvalidInput(problems)
        found.packages = list(packages)
        return self.move(found.id, Status.PACKED, at, actor, packages=len(found.packages))

    def ship(
        self,
        fulfilment_id: str,
        carrier: str,
        service: str,
        tracking: Sequence[str],
        at: datetime,
        actor: str,
    ) -> Fulfilment:
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.SHIPPED)
        if len(tracking) != len(found.packages):
            raise InvalidInput(
                [
                    Problem(
                        "tracking",
                        f"one tracking number per package: {len(found.packages)} packed",
                    )
                ]
            )
        for package, number in zip(found.packages, tracking, strict=True):
            package.tracking = number
        found.carrier, found.service = carrier, service
        return self.move(
            found.id,
            Status.SHIPPED,
            at,
            actor,
            carrier=carrier,
            service=service,
            tracking=list(tracking),
        )

    def withdraw(self, fulfilment_id: str, reason: str, at: datetime, actor: str) -> list[Part]:
        """Take a request back from a node before it starts (it is late and another node can
        still make the promise). Returns the parts to route again."""
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.CANCELLED)
        found.status = Status.CANCELLED
        found.reason = reason
        self.record(at, actor, "fulfilment.withdrawn", fulfilment=found.id, reason=reason)
        return [Part(p.line_id, p.sku, p.quantity) for p in found.parts]

    def flag_at_risk(
        self, fulfilment_id: str, expected_on: date | None, at: datetime, actor: str
    ) -> bool:
        """Say once that a request will miss its planned delivery; False if said before."""
        found = self.fulfilment(fulfilment_id)
        if found.at_risk_since is not None:
            return False
        found.at_risk_since = at
        self.record(
            at,
            actor,
            "order.at_risk",
            fulfilment=found.id,
            node_id=found.node_id,
            planned_delivery=found.deliver_on,
            expected_delivery=expected_on,
            promise_by=self.promise_by,
        )
        return True

    def expire(self, fulfilment_id: str, reason: str, at: datetime, actor: str) -> list[Part]:
        """Not collected in time: the request expires and its units are cancelled (the
        service restocks them). Returns the parts to free."""
        found = self.fulfilment(fulfilment_id)
        check_move(f"fulfilment {found.id}", found.status, Status.EXPIRED)
        found.status = Status.EXPIRED
        found.reason = reason
        for part in found.parts:
            self.cancelled[part.line_id] = self.cancelled.get(part.line_id, 0) + part.quantity
        self.record(at, actor, "fulfilment.expired", fulfilment=found.id, reason=reason)
        return list(found.parts)

    def cancel(
        self, line_ids: Sequence[str] | None, reason: str, at: datetime, actor: str
    ) -> list[tuple[Fulfilment, Part]]:
        """Cancel lines (all when None): what is backordered or still held at a node. Units a
        node has shipped or handed over are past cancelling. Returns the parts taken back from
        the nodes, whose units the service frees."""
        wanted = list(line_ids) if line_ids else [line.line_id for line in self.lines]
        problems = [
            Problem("line_ids", f"order {self.id} has no line {line_id!r}")
            for line_id in wanted
            if line_id not in {line.line_id for line in self.lines}
        ]
        if problems:
            raise InvalidInput(problems)
        gone: list[tuple[Fulfilment, Part]] = []
        cancelled_now = 0
        for found in self.fulfilments:
            for part in found.parts:
                if part.line_id in wanted and found.status not in HOLDING | FINAL:
                    raise Conflict(
                        f"line {part.line_id} is {found.status.value} at {found.node_id}: "
                        "too late to cancel"
                    )
        for line_id in wanted:
            left = self.outstanding(line_id)
            for found in self.fulfilments:
                if found.status not in HOLDING:
                    continue
                taken = [p for p in found.parts if p.line_id == line_id]
                gone.extend((found, p) for p in taken)
                left += sum(p.quantity for p in taken)
                found.parts = [p for p in found.parts if p.line_id != line_id]
                if not found.parts:
                    found.parts = taken
                    found.status = Status.CANCELLED
                    found.reason = reason
            if self.line(line_id).method is Method.DIGITAL and self.sourced_at is None:
                left = self.line(line_id).quantity
            self.cancelled[line_id] = self.cancelled.get(line_id, 0) + left
            self.waiting.pop(line_id, None)
            cancelled_now += left
        if not cancelled_now:
            raise Conflict(f"nothing left to cancel of order {self.id}: it was fulfilled")
        self.record(
            at,
            actor,
            "order.cancelled" if self.rolled_up_status() is Status.CANCELLED else "lines.cancelled",
            lines={line_id: self.cancelled.get(line_id, 0) for line_id in wanted},
            reason=reason,
        )
        return gone


def _summary(found: Fulfilment) -> dict[str, Any]:
    return {
        "id": found.id,
        "node_id": found.node_id,
        "method": found.method,
        "lines": {p.line_id: p.quantity for p in found.parts},
        "deliver_on": found.deliver_on,
    }


def _units_text(units: Mapping[str, int]) -> str:
    return ", ".join(f"{line_id} × {count}" for line_id, count in sorted(units.items()))
