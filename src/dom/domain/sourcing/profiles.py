"""Sourcing profiles: what a routing decision optimizes and what it must respect, and the rules
that choose a profile for an order.

A profile's objective is a weighted sum in dollars: shipping and handling cost as they are, a
price per day until delivery, per shipment beyond the first, per unit of capacity used and per
dollar of future value a unit has where it is. Its constraints are hard: a plan that breaks one
is never chosen. Profiles are data with a name and a version; `problems()` lists every
contradiction so a profile that cannot work is refused when it is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dom.domain.errors import Problem
from dom.domain.network import NodeType


class OnShort(StrEnum):
    """What to do with a line no plan can fill in full."""

    SPLIT = "split"  # fill it from several nodes, as many units as there are
    BACKORDER = "backorder"  # ship what can go, the rest waits for supply
    REJECT = "reject"  # the whole order is refused when any line is short


@dataclass(frozen=True)
class Weights:
    """Dollars per unit of each part of the objective."""

    shipping_cost: float = 1.0  # per dollar of carrier charges
    handling_cost: float = 1.0  # per dollar of pick/pack cost
    delivery_days: float = 0.0  # per day from now until delivery, per shipment
    split_penalty: float = 0.0  # per shipment beyond the first
    capacity_balance: float = 0.0  # per share of the node's units left today that a plan uses
    inventory_protection: float = 0.0  # per dollar of future value of the units taken


@dataclass(frozen=True)
class Constraints:
    max_shipments: int | None = None  # None: as many as it takes
    ship_complete: bool = False  # one shipment with every line, or none
    node_types: frozenset[NodeType] | None = None  # None: every type
    regions: frozenset[str] | None = None  # states the shipping nodes may be in
    min_store_stock_left: int = 0  # units a store keeps of a SKU after the plan
    carriers: frozenset[str] | None = None
    services: frozenset[str] | None = None  # "carrier/service" keys
    max_distance_miles: float | None = None
    on_short: OnShort = OnShort.SPLIT
    #: orders wait for the next batch wave, routed jointly, instead of being routed at once
    wave: bool = False
    #: pickup and curbside lines come from the store's shelf or are transferred to it from
    #: another node, weighed in one plan (`collection`); without it they wait for the shelf
    transfers_to_pickup: bool = False

    @property
    def shipments_allowed(self) -> int | None:
        return 1 if self.ship_complete else self.max_shipments


@dataclass(frozen=True)
class Profile:
    name: str
    version: int = 1
    description: str = ""
    weights: Weights = field(default_factory=Weights)
    constraints: Constraints = field(default_factory=Constraints)

    def problems(self) -> list[Problem]:
        """Every reason this profile cannot be used, each naming its field."""
        found: list[Problem] = []
        if not self.name.strip():
            found.append(Problem("name", "is required"))
        if self.version < 1:
            found.append(Problem("version", "must be 1 or more"))
        for name, value in vars(self.weights).items():
            if value < 0:
                found.append(Problem(f"weights.{name}", "must not be negative"))
        if not any(vars(self.weights).values()):
            found.append(Problem("weights", "at least one weight must be above zero"))
        c = self.constraints
        if c.max_shipments is not None and c.max_shipments < 1:
            found.append(Problem("constraints.max_shipments", "must be at least 1"))
        if c.ship_complete and c.max_shipments not in (None, 1):
            found.append(
                Problem(
                    "constraints.max_shipments",
                    f"ship_complete means one shipment, not {c.max_shipments}",
                )
            )
        if c.ship_complete and c.on_short is OnShort.SPLIT:
            found.append(Problem("constraints.on_short", "ship_complete cannot split a short line"))
        if c.node_types is not None and not c.node_types:
            found.append(Problem("constraints.node_types", "allows no node at all"))
        if c.regions is not None and not c.regions:
            found.append(Problem("constraints.regions", "allows no region at all"))
        if c.carriers is not None and not c.carriers:
            found.append(Problem("constraints.carriers", "allows no carrier at all"))
        if c.services is not None:
            if not c.services:
                found.append(Problem("constraints.services", "allows no service at all"))
            elif c.carriers is not None:
                outside = sorted(s for s in c.services if s.split("/")[0] not in c.carriers)
                if len(outside) == len(c.services):
                    found.append(
                        Problem(
                            "constraints.services",
                            f"none of {', '.join(outside)} is of an allowed carrier",
                        )
                    )
        if c.max_distance_miles is not None and c.max_distance_miles <= 0:
            found.append(Problem("constraints.max_distance_miles", "must be above zero"))
        if c.min_store_stock_left < 0:
            found.append(Problem("constraints.min_store_stock_left", "must not be negative"))
        if (
            c.min_store_stock_left > 0
            and c.node_types is not None
            and NodeType.STORE not in c.node_types
        ):
            found.append(
                Problem(
                    "constraints.min_store_stock_left",
                    "stores are not allowed by node_types, so it can never apply",
                )
            )
        return found


@dataclass(frozen=True)
class OrderFacts:
    """What selection rules look at."""

    channel: str | None = None
    segment: str | None = None
    tags: frozenset[str] = frozenset()
    service_level: str = "ground"
    free_shipping: bool = False
    value: float = 0.0
    region: str | None = None  # destination state


@dataclass(frozen=True)
class Conditions:
    """All given conditions must hold; an empty set of conditions always holds."""

    channels: frozenset[str] | None = None
    segments: frozenset[str] | None = None
    any_tags: frozenset[str] | None = None
    service_levels: frozenset[str] | None = None
    free_shipping: bool | None = None
    min_value: float | None = None
    max_value: float | None = None
    regions: frozenset[str] | None = None

    def hold_for(self, order: OrderFacts) -> bool:
        return (
            (self.channels is None or order.channel in self.channels)
            and (self.segments is None or order.segment in self.segments)
            and (self.any_tags is None or bool(self.any_tags & order.tags))
            and (self.service_levels is None or order.service_level in self.service_levels)
            and (self.free_shipping is None or order.free_shipping == self.free_shipping)
            and (self.min_value is None or order.value >= self.min_value)
            and (self.max_value is None or order.value <= self.max_value)
            and (self.regions is None or order.region in self.regions)
        )


@dataclass(frozen=True)
class Rule:
    name: str
    when: Conditions
    profile: str


@dataclass(frozen=True)
class Selection:
    profile: str
    rule: str | None  # None: no rule matched, the fallback applies


def select_profile(rules: Sequence[Rule], fallback: str, order: OrderFacts) -> Selection:
    """The first rule, in order, whose conditions hold; else the fallback profile."""
    for rule in rules:
        if rule.when.hold_for(order):
            return Selection(rule.profile, rule.name)
    return Selection(fallback, None)


def rule_problems(rules: Sequence[Rule], fallback: str, known: set[str]) -> list[Problem]:
    """Rules that name unknown profiles, repeat a name, can never match or are shadowed."""
    found: list[Problem] = []
    if fallback not in known:
        found.append(Problem("fallback", f"no profile named {fallback!r}"))
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"rules.{index}"
        if rule.name in seen:
            found.append(Problem(f"{where}.name", f"{rule.name!r} is used twice"))
        seen.add(rule.name)
        if rule.profile not in known:
            found.append(Problem(f"{where}.profile", f"no profile named {rule.profile!r}"))
        w = rule.when
        if w.min_value is not None and w.max_value is not None and w.min_value > w.max_value:
            found.append(Problem(f"{where}.when", "min_value is above max_value: never holds"))
        for name in ("channels", "segments", "any_tags", "service_levels", "regions"):
            if getattr(w, name) is not None and not getattr(w, name):
                found.append(Problem(f"{where}.when.{name}", "is empty: the rule never holds"))
        if index < len(rules) - 1 and w == Conditions():
            found.append(
                Problem(f"{where}.when", "holds for every order: the rules after it never run")
            )
    return found


#: Profiles dom ships with; copy and adjust them.
LOWEST_COST = Profile("lowest-cost", description="cheapest to ship and handle")
FASTEST = Profile(
    "fastest",
    description="earliest delivery; cost breaks ties",
    weights=Weights(delivery_days=25.0),
)
BALANCED = Profile(
    "balanced-capacity",
    description="spread work over nodes with room left today",
    weights=Weights(capacity_balance=40.0, split_penalty=3.0),
)
RUSH = Profile(
    "rush",
    description="rush orders: overnight or two-day from DCs, speed first",
    weights=Weights(delivery_days=50.0, split_penalty=2.0),
    constraints=Constraints(max_shipments=2),
)
FREE_SHIPPING = Profile(
    "free-shipping",
    description="the retailer pays shipping: cost first, few shipments, keep store stock",
    weights=Weights(split_penalty=4.0, inventory_protection=1.0),
    constraints=Constraints(max_shipments=2, min_store_stock_left=1),
)
SHIPPED_PROFILES = (LOWEST_COST, FASTEST, BALANCED, RUSH, FREE_SHIPPING)
