"""An independent check of a sourcing plan: it shares no code with the engine that made it.

Every plan must fill or account for every unit ordered; ship only from active nodes that ship
parcels and handle what they carry; take no more than a node may give (its stock, less what a
store keeps under the profile) nor more units or orders than it has room for today; use only
services the profile and the order allow, arriving by the promise; and keep to the profile's
limits on shipments, node types, regions and distance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dom.domain.carriers import CarrierService
from dom.domain.catalog import Product
from dom.domain.geo import miles_between
from dom.domain.network import Capability, NodeStatus, NodeType
from dom.domain.sourcing.model import Offer, Order, Plan
from dom.domain.sourcing.profiles import Profile

_RANK = {"ground": 0, "two_day": 1, "overnight": 2}


def plan_violations(
    plan: Plan,
    order: Order,
    offers: Sequence[Offer],
    products: Mapping[str, Product],
    services: Sequence[CarrierService],
    profile: Profile,
    now: datetime,
) -> list[str]:
    """Every rule the plan breaks, in words; empty when it is sound."""
    found: list[str] = []
    by_node = {o.node.id: o for o in offers}
    by_service = {s.key: s for s in services}
    c = profile.constraints
    ordered = Counter({line.line_id: line.quantity for line in order.lines})
    accounted: Counter[str] = Counter()
    for shipment in plan.shipments:
        for line in shipment.lines:
            accounted[line.line_id] += line.quantity
    for unfilled in plan.unfilled:
        accounted[unfilled.line_id] += unfilled.quantity
    for line_id in sorted(set(ordered) | set(accounted)):
        if ordered[line_id] != accounted[line_id]:
            found.append(
                f"line {line_id}: {ordered[line_id]} ordered, {accounted[line_id]} shipped or unfilled"
            )
    limit = 1 if c.ship_complete else c.max_shipments
    if limit is not None and len(plan.shipments) > limit:
        found.append(f"{len(plan.shipments)} shipments, the profile allows {limit}")
    if c.ship_complete and plan.shipments and plan.unfilled:
        found.append("ship_complete, yet some lines are unfilled while others ship")
    taken: Counter[tuple[str, str]] = Counter()
    for shipment in plan.shipments:
        offer = by_node.get(shipment.node_id)
        if offer is None:
            found.append(f"{shipment.node_id}: not a node that offered stock")
            continue
        node = offer.node
        where = f"shipment from {node.id}"
        if node.status_at(now) is not NodeStatus.ACTIVE:
            found.append(f"{where}: the node is paused")
        if not node.capabilities & {Capability.SHIP, Capability.SHIP_FROM_STORE}:
            found.append(f"{where}: the node does not ship parcels")
        if c.node_types is not None and node.type not in c.node_types:
            found.append(f"{where}: node type {node.type.value} not allowed")
        if c.regions is not None and node.address.state not in c.regions:
            found.append(f"{where}: region {node.address.state} not allowed")
        miles = miles_between(node.location, order.destination)
        if c.max_distance_miles is not None and miles > c.max_distance_miles:
            found.append(f"{where}: {miles:.0f} miles is beyond the limit")
        units = sum(line.quantity for line in shipment.lines)
        if offer.units_left_today is not None and units > offer.units_left_today:
            found.append(f"{where}: {units} units, {offer.units_left_today} left today")
        if offer.orders_left_today is not None and offer.orders_left_today < 1:
            found.append(f"{where}: no orders left today")
        for line in shipment.lines:
            if line.quantity <= 0:
                found.append(f"{where}: {line.sku} with quantity {line.quantity}")
            missing = products[line.sku].handling - node.handling
            if missing:
                found.append(f"{where}: cannot handle {', '.join(sorted(missing))} {line.sku}")
            taken[(node.id, line.sku)] += line.quantity
        service = by_service.get(f"{shipment.carrier}/{shipment.service}")
        if service is None:
            found.append(f"{where}: unknown service {shipment.carrier}/{shipment.service}")
            continue
        if c.carriers is not None and service.carrier not in c.carriers:
            found.append(f"{where}: carrier {service.carrier} not allowed")
        if c.services is not None and service.key not in c.services:
            found.append(f"{where}: service {service.key} not allowed")
        wanted = _RANK.get(order.service_level)
        slower = (
            service.service_level != order.service_level
            if wanted is None
            else _RANK.get(service.service_level, -1) < wanted
        )
        if slower:
            found.append(f"{where}: {service.key} is slower than {order.service_level}")
        if order.promise_by is not None and shipment.deliver_on > order.promise_by:
            found.append(f"{where}: arrives {shipment.deliver_on}, promised {order.promise_by}")
        today = now.astimezone(ZoneInfo(node.timezone)).date()  # ship dates are local
        if shipment.ship_on < today or shipment.deliver_on < shipment.ship_on:
            found.append(f"{where}: ships {shipment.ship_on}, arrives {shipment.deliver_on}")
    for (node_id, sku), units in sorted(taken.items()):
        offer = by_node[node_id]
        kept = c.min_store_stock_left if offer.node.type is NodeType.STORE else 0
        may = offer.available.get(sku, 0) - kept
        if units > may:
            found.append(f"{node_id} gives {units} of {sku}, may give {max(0, may)}")
    return found
