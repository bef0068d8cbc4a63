"""What the sourcing engine reads (an order, each node's offer) and what it answers (a plan)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from dom.domain.geo import Coordinates
from dom.domain.network import Node


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Order:
    """An order to ship: its lines, where it goes, and how fast."""

    id: str
    lines: tuple[OrderLine, ...]
    destination: Coordinates
    service_level: str = "ground"
    promise_by: date | None = None  # the latest acceptable delivery date
    residential: bool = True


@dataclass(frozen=True)
class Offer:
    """A node's stock and room for one order."""

    node: Node
    available: Mapping[str, int]  # units per SKU it can give now
    units_left_today: int | None = None  # None: its capacity is not tracked
    orders_left_today: int | None = None
    #: what a unit of a SKU is worth kept here for the customers expected to want it
    future_value: Mapping[str, float] = field(default_factory=dict)


class Unfilled(StrEnum):
    NO_STOCK = "no_stock"  # no node has any units of it
    NOT_ENOUGH = "not_enough_stock"  # the network has fewer units than asked
    NO_CAPABLE_NODE = "no_capable_node"  # the nodes with stock cannot handle or ship it
    PROMISE_UNREACHABLE = "promise_unreachable"  # no node with stock can deliver by the date
    BACKORDERED = "backordered"  # no single node has it all and the profile does not split
    REJECTED = "rejected"  # another line is short and the profile refuses partial orders
    TOO_MANY_SHIPMENTS = "too_many_shipments"  # it would need more shipments than allowed


@dataclass(frozen=True)
class UnfilledLine:
    line_id: str
    sku: str
    quantity: int
    reason: Unfilled
    detail: str


@dataclass(frozen=True)
class Costs:
    """A plan's or a shipment's cost: the dollars the retailer pays (shipping, handling) and the
    profile's objective, which weighs those and adds its penalties, part by part."""

    shipping: float = 0.0  # carrier charges, dollars
    handling: float = 0.0  # pick/pack, dollars
    delivery_days: float = 0.0  # objective: price of the days until delivery
    split_penalty: float = 0.0  # objective: shipments beyond the first
    capacity: float = 0.0  # objective: share of the node's day used
    protection: float = 0.0  # objective: future value of the units taken
    objective: float = 0.0

    @property
    def money(self) -> float:
        return round(self.shipping + self.handling, 2)

    def __add__(self, other: Costs) -> Costs:
        return Costs(
            self.shipping + other.shipping,
            self.handling + other.handling,
            self.delivery_days + other.delivery_days,
            self.split_penalty + other.split_penalty,
            self.capacity + other.capacity,
            self.protection + other.protection,
            self.objective + other.objective,
        )


@dataclass(frozen=True)
class ShipmentLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlannedShipment:
    node_id: str
    lines: tuple[ShipmentLine, ...]
    carrier: str
    service: str
    packages: int
    billable_lb: int
    miles: float
    ship_on: date
    deliver_on: date
    costs: Costs


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven best over every candidate node kept
    HEURISTIC = "heuristic"  # a greedy plan: too many lines to search exhaustively in time
    NOTHING_TO_SHIP = "nothing_to_ship"  # every line is unfilled


@dataclass(frozen=True)
class Alternative:
    """Another plan and how it compares with the chosen one."""

    summary: str
    nodes: tuple[str, ...]
    objective: float
    extra_cost: float  # objective above the chosen plan's
    days_later: int  # latest delivery compared with the chosen plan's (negative: earlier)


@dataclass(frozen=True)
class Binding:
    """A constraint or a shortage that kept a better plan out, and what would change it."""

    constraint: str
    node_id: str
    saving: float  # how much lower the objective would be
    change: str  # what would have to change, in words


@dataclass(frozen=True)
class Explanation:
    why: str
    alternatives: tuple[Alternative, ...]
    binding: tuple[Binding, ...]
    excluded: Mapping[str, str]  # node → why it was not considered
    candidates: int  # nodes searched exhaustively
    pruned: int  # eligible nodes left out of the search as clearly worse


@dataclass(frozen=True)
class Plan:
    order_id: str
    profile: str
    shipments: tuple[PlannedShipment, ...]
    unfilled: tuple[UnfilledLine, ...]
    costs: Costs
    status: SolveStatus
    explanation: Explanation
    #: no plan for the lines shipped can have a lower objective (equal when optimal)
    bound: float = 0.0

    @property
    def gap(self) -> float:
        """How far above the best possible this plan's objective may be, as a share of it."""
        if self.costs.objective <= 0:
            return 0.0
        return max(0.0, (self.costs.objective - self.bound) / self.costs.objective)

    @property
    def deliver_on(self) -> date | None:
        return max((s.deliver_on for s in self.shipments), default=None)
